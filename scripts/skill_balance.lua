-- skill_balance.lua — seed 003: recalibrate each queue's skill levels to what its members
-- actually have (the rounded average level of members holding the skill), written as a PATCH
-- of the skills alone with the version they were computed from; optionally move the members of
-- each recalibrated queue to a routing profile (seed 003's agent reassignment); then report each
-- queue's drain rate, with the write's latency, to the WFM webhook. One queue's failure is
-- reported and the others go on.
-- Arguments:
--   channel=voice|chat|email   which queues (default chat)
--   limit=N                    at most N queues (default 4)
--   profile=ID                 reassign each recalibrated queue's members to this routing profile
-- Example:
--   cxrun run scripts/skill_balance.lua -- channel=chat limit=4 profile=profile-3
local tune = require("cx.tune")
local pick = require("cx.pick")

local args = require("cx.params").read(cx.args, {
  channel = { default = "chat", one_of = require("cx.rules").CHANNELS },
  limit = { type = "integer", default = 4, min = 1 },
  profile = {},
})
local limit = args.limit

-- A profile the tenant does not have stops the run here, before any change: every reassignment
-- would fail after the skills were written. A tenant that does not list its profiles leaves the
-- check to each reassignment.
if args.profile then
  local listed, profiles = pcall(routing_profiles)
  if listed then
    local ids, shown = {}, {}
    for _, p in ipairs(profiles) do
      if p.id == args.profile then ids = nil break end
      ids[#ids + 1] = p.id
      shown[#shown + 1] = p.id .. (p.name and (" (" .. p.name .. ")") or "")
    end
    if ids then
      local near = require("cx.names").nearest(args.profile, ids)
      error(("profile=%s: the tenant has no such routing profile;%s its profiles: %s"):format(args.profile,
        near and (" did you mean %s?"):format(near) or "", table.concat(shown, ", ")), 0)
    end
  elseif type(profiles) ~= "table" or profiles.code ~= "not_found" then
    error(profiles, 0)
  end
end

--- The skill levels a queue's members hold, averaged and rounded (1–5); the queue's own level
--- where no member holds a skill.
---@param q cx.Queue
---@param members table[]
---@return table
local function calibrated(q, members)
  local totals = {}
  for _, member in ipairs(members) do
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
  return skills_now
end

--- Recalibrates one queue (a PATCH of the skills with the fetched version); its report row.
---@param target cx.Queue
---@return table
local function balance(target)
  local members
  local row = cx.change(target.id, function(q)
    members = agents({ queue = q.id })
    return { skills = calibrated(q, members) }
  end, { rules = { "skills", "license" }, patch = true })
  row.latencyMs = row.latency_ms
  -- A dry run plans the reassignments too: its plan (and `cxrun apply`) holds all the run would do.
  if row.outcome == "written" or row.outcome == "planned" then
    row.shown = row.outcome == "written" and ("v" .. row.version) or "planned"
    if args.profile then
      local moved = 0
      for _, member in ipairs(members) do
        local done, err = pcall(reassign, member.id, args.profile)
        if done then moved = moved + 1 else log.warn("reassign %s: %s", member.id, tostring(err)) end
      end
      row.reassigned = moved
      if moved < #members then
        row.outcome, row.message = "partial", ("%d of %d agents not reassigned"):format(#members - moved, #members)
      end
    end
  else
    row.shown = row.outcome .. (row.message and (": " .. row.message) or "")
  end
  return row
end

local report, rows = {}, {}
for _, target in ipairs(pick.by_name(queues({ channel = args.channel }), limit)) do
  local done, row = pcall(balance, target)
  if not done then
    row = { queue_id = target.id, name = target.name, outcome = "failed", message = tostring(row), shown = "failed: " .. tostring(row) }
  end
  local m = analytics(target.id, { interval = "PT1H", metrics = { "answered" } })
  row.drainRate = tune.drain_rate(m.answered, 3600)
  print(("%-28s skills %-10s drain %.2f/min%s"):format(row.name or row.queue_id, row.shown, row.drainRate,
    row.reassigned and (" reassigned " .. row.reassigned) or ""))
  rows[#rows + 1] = row
  report[#report + 1] = { queueId = row.queue_id, drainRate = row.drainRate, latencyMs = row.latencyMs, outcome = row.shown }
end
local sent = webhook("wfm", { event = "drain_rate", queues = report }, { wait = true })
log.info("drain rates sent to WFM: %s%s", sent.status or (sent.planned and "planned") or "?",
  sent.latency_ms and (" (%s ms)"):format(sent.latency_ms) or "")
-- A queue that could not be changed (or whose agents were not all moved) fails the run (exit 1).
cx.require_success(rows)
