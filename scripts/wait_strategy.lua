-- wait_strategy.lua — seed 001: read each queue's answer rate, move its position threshold
-- (lower when agents are busy, higher when capacity is free), check the regulatory hold-time
-- caps, deploy, watch the metrics, and roll back any queue whose answer rate degrades.
-- Arguments:
--   channel=voice|chat|email   which queues (default voice)
--   limit=N                    at most N queues (default 3)
--   watch=SECONDS              how long to watch before judging (default 1)
--   tolerance=RATE             answer-rate drop that triggers a rollback (default 0.05)
-- Example:
--   cxrun run scripts/wait_strategy.lua -- channel=voice limit=3 watch=5
local tune = require("cx.tune")
local pick = require("cx.pick")
local validators = require("cx.validate")

local args = cx.args
local limit = tonumber(args.limit or "3") or 3
local watch = tonumber(args.watch or "1") or 1
local tolerance = tonumber(args.tolerance or "0.05") or 0.05

local changed = {}
for _, target in ipairs(pick.by_name(queues({ channel = args.channel or "voice" }), limit)) do
  local q = fetch(target.id)
  local before = analytics(q.id, { interval = "PT15M", metrics = { "answerRate" } })
  local wait = q.waitStrategy or {}
  local threshold = tune.threshold_for_answer_rate(wait.positionThreshold or 10, before.answerRate)
  local callback = q.callback or {}
  local payload = build(q, {
    waitStrategy = { positionThreshold = threshold },
    callback = { positionThreshold = math.min(callback.positionThreshold or threshold, threshold) },
  })
  local ok, problems = validate(payload, { rules = { "hold_time", "wait_strategy" } })
  if not ok then
    log.warn("%s: not changed: %s", q.name, validators.describe(problems))
  else
    local r = deploy(q.id, payload)
    print(("%-28s answer rate %.2f  threshold %s -> %d  %s"):format(q.name, before.answerRate, tostring(wait.positionThreshold),
      threshold, r.planned and "planned" or (r.skipped and "unchanged" or ("v" .. r.version))))
    if not r.planned and not r.skipped then changed[#changed + 1] = { q = q, before = before.answerRate } end
  end
end

if #changed > 0 then cx.sleep(watch) end
for _, c in ipairs(changed) do
  local after = analytics(c.q.id, { interval = "PT15M", metrics = { "answerRate" } })
  if after.answerRate < c.before - tolerance then
    local ok, err = pcall(rollback, c.q.id)
    print(("%-28s answer rate fell %.2f -> %.2f: %s"):format(c.q.name, c.before, after.answerRate,
      ok and "rolled back" or ("rollback refused: " .. tostring(err))))
  else
    print(("%-28s answer rate %.2f -> %.2f: kept"):format(c.q.name, c.before, after.answerRate))
  end
end
