-- wait_strategy.lua — seed 001: read each queue's answer rate and move its position threshold
-- (lower when agents are busy, higher when capacity is free); set the callback, the abandonment
-- threshold and the max hold time, within the regulatory hold-time caps; deploy; sync each
-- written strategy to the DMP webhook; watch, and roll back a queue by the seed's rule (average
-- wait over 200 s with callback conversion under 0.2), or by its answer rate falling (rule=answer_rate).
-- One queue's failure is reported and the others go on.
-- Arguments:
--   channel=voice|chat|email   which queues (default voice)
--   limit=N                    at most N queues (default 3)
--   callback=true|false        offer callbacks (default true)
--   abandonment=SECONDS        waitStrategy.abandonmentThreshold (default 120)
--   max_hold=SECONDS           maxHoldTime (default 180)
--   dmp=NAME                   the configured webhook the strategy is synced to (default wfm; checked before any change)
--   watch=SECONDS              how long to watch before judging (default 1)
--   rule=seed|answer_rate      the rollback rule (default seed)
--   max_wait=SECONDS           seed rule: average wait above this ... (default 200)
--   min_conversion=RATE        ... with callback conversion below this rolls back (default 0.2)
--   tolerance=RATE             answer_rate rule: a drop larger than this rolls back (default 0.05)
-- Example:
--   cxrun run scripts/wait_strategy.lua -- channel=voice limit=3 watch=5 max_hold=180
local tune = require("cx.tune")
local pick = require("cx.pick")

local args = require("cx.params").read(cx.args, {
  channel = { default = "voice", one_of = require("cx.rules").CHANNELS },
  limit = { type = "integer", default = 3, min = 1 },
  callback = { type = "boolean", default = true },
  abandonment = { type = "number", default = 120 },
  max_hold = { type = "number", default = 180 },
  dmp = { default = "wfm", one_of = cx.tenant.webhooks },
  watch = { type = "number", default = 1, min = 0 },
  rule = { default = "seed", one_of = { "seed", "answer_rate" } },
  max_wait = { type = "number", default = 200 },
  min_conversion = { type = "number", default = 0.2 },
  tolerance = { type = "number", default = 0.05 },
})
local limit, watch, rule, max_wait = args.limit, args.watch, args.rule, args.max_wait
local min_conversion, tolerance, abandonment, max_hold = args.min_conversion, args.tolerance, args.abandonment, args.max_hold
local offer_callback, dmp = args.callback, args.dmp
local metrics = { "answerRate", "averageWaitTime", "callbackConversionRate" }

local changed, rows = {}, {}
for _, target in ipairs(pick.by_name(queues({ channel = args.channel }), limit)) do
  local before = analytics(target.id, { interval = "PT15M", metrics = metrics })
  local from, to, delta
  local row = cx.change(target.id, function(q)
    local wait = q.waitStrategy or {}
    from = wait.positionThreshold
    to = tune.threshold_for_answer_rate(wait.positionThreshold or 10, before.answerRate)
    local callback = q.callback or {}
    delta = {
      waitStrategy = { positionThreshold = to, abandonmentThreshold = abandonment },
      callback = { enabled = offer_callback, positionThreshold = math.min(callback.positionThreshold or to, to) },
      maxHoldTime = max_hold,
    }
    return delta
  end, { rules = { "schema", "hold_time", "wait_strategy" } })
  rows[#rows + 1] = row
  local outcome = row.outcome == "written" and ("v" .. row.version) or row.outcome
  if row.message then outcome = outcome .. ": " .. row.message end
  print(("%-28s answer rate %.2f  threshold %s -> %s  %s"):format(row.name or target.id, before.answerRate, tostring(from),
    tostring(to), outcome))
  if row.outcome == "written" or row.outcome == "planned" then
    -- The seed's DMP sync: the strategy now active (handed off; the run waits for the delivery).
    -- A dry run plans it (without the version only a write has), so a plan's apply syncs too.
    webhook(dmp, { event = "wait_strategy_synced", queue_id = row.queue_id, version = row.version, waitStrategy = delta.waitStrategy,
      callback = delta.callback, maxHoldTime = delta.maxHoldTime })
  end
  -- Only a change made can be watched (and rolled back).
  if row.outcome == "written" then changed[#changed + 1] = { id = row.queue_id, name = row.name, before = before } end
end

if #changed > 0 then cx.sleep(watch) end
for _, c in ipairs(changed) do
  local after = analytics(c.id, { interval = "PT15M", metrics = metrics })
  local degraded, why
  if rule == "answer_rate" then
    degraded = after.answerRate < c.before.answerRate - tolerance
    why = ("answer rate %.2f -> %.2f"):format(c.before.answerRate, after.answerRate)
  else
    degraded = after.averageWaitTime > max_wait and after.callbackConversionRate < min_conversion
    why = ("average wait %.0f s, callback conversion %.2f"):format(after.averageWaitTime, after.callbackConversionRate)
  end
  if degraded then
    local ok, err = pcall(rollback, c.id)
    print(("%-28s %s: %s"):format(c.name, why, ok and "rolled back" or ("rollback refused: " .. tostring(err))))
    if not ok then rows[#rows + 1] = { name = c.name, outcome = "failed", message = "degraded, and its rollback was refused: " .. tostring(err) } end
  else
    print(("%-28s %s: kept"):format(c.name, why))
  end
end
-- A queue that could not be changed, or not rolled back when it degraded, fails the run (exit 1).
cx.require_success(rows)
