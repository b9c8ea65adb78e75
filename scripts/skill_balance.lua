-- skill_balance.lua — seed 003: recalibrate each queue's skill levels to what its members
-- actually have (the rounded average level of members holding the skill), then report each
-- queue's drain rate to the WFM webhook.
-- Arguments:
--   channel=voice|chat|email   which queues (default chat)
--   limit=N                    at most N queues (default 4)
-- Example:
--   cxrun run scripts/skill_balance.lua -- channel=chat limit=4
local tune = require("cx.tune")
local pick = require("cx.pick")
local validators = require("cx.validate")

local args = cx.args
local limit = tonumber(args.limit or "4") or 4
local report = {}
for _, target in ipairs(pick.by_name(queues({ channel = args.channel or "chat" }), limit)) do
  local q = fetch(target.id)
  local totals = {}
  for _, member in ipairs(agents({ queue = q.id })) do
    for _, s in ipairs(member.skills or {}) do
      local t = totals[s.id] or { sum = 0, n = 0 }
      t.sum, t.n = t.sum + s.level, t.n + 1
      totals[s.id] = t
    end
  end
  local skills_now = cx.array {}
  for _, s in ipairs(q.skills or {}) do
    local t = totals[s.id]
    local level = t and math.max(1, math.min(5, math.floor(t.sum / t.n + 0.5))) or s.level
    skills_now[#skills_now + 1] = { id = s.id, level = level }
  end
  local payload = build(q, { skills = skills_now })
  local ok, problems = validate(payload, { rules = { "skills", "license" } })
  local outcome
  if not ok then
    outcome = "invalid: " .. validators.describe(problems)
  else
    local r = deploy(q.id, payload)
    outcome = r.planned and "planned" or (r.skipped and "unchanged" or ("v" .. r.version))
  end
  local m = analytics(q.id, { interval = "PT1H", metrics = { "answered" } })
  local drain = tune.drain_rate(m.answered, 3600)
  print(("%-28s skills %-10s drain %.2f/min"):format(q.name, outcome, drain))
  report[#report + 1] = { queueId = q.id, drainRate = drain }
end
local sent = webhook("wfm", { event = "drain_rate", queues = report }, { wait = true })
log.info("drain rates sent to WFM: %s", sent.status or (sent.planned and "planned") or "?")
