-- Tests of rebalance.lua, run by `cxrun test` (each test against a fresh sandbox tenant).

test("deploys the chosen strategy at a quiet hour and notifies WFM", function(t)
  local r = t.run("rebalance.lua", { channel = "chat", strategy = "weighted", limit = "3" })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "deploy", "ok"), 3)
  t.matches(r.stdout, "deployed v2")
  -- One WFM event per deployed queue (with the write's latency), then the run's summary.
  local deliveries = t.sim.deliveries()
  t.eq(#deliveries, 4)
  local per_queue = 0
  for _, d in ipairs(deliveries) do
    if d.body.queue_id then
      per_queue = per_queue + 1
      t.eq(d.body.strategy, "weighted")
      t.truthy(type(d.body.latency_ms) == "number", "latency reported")
    end
  end
  t.eq(per_queue, 3)
  for _, q in ipairs(t.sim.written()) do
    if q.channel == "chat" then t.eq(q.routing.strategy, "weighted") end
  end
end)

test("a dry run plans the change and writes nothing", function(t)
  local r = t.run("rebalance.lua", { channel = "chat", strategy = "weighted", limit = "3" }, { dry_run = true })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "deploy", "planned"), 3)
  t.eq(#r.planned >= 3, true)
  -- The events it plans are a run's: one per queue it would deploy, then the summary counting them
  -- (a plan's apply delivers them as planned).
  t.eq(t.count(r, "webhook", "planned"), 4)
  local planned = table.concat(r.planned, "\n")
  t.matches(planned, '"deployed":3')
  local _, per_queue = planned:gsub('"queue_id":', "")
  t.eq(per_queue, 3)
  for _, q in ipairs(t.sim.queues()) do t.eq(q.version, 1, q.name) end
  t.eq(#t.sim.deliveries(), 0)
end)

test("at the daily peak staffing follows the load and it still deploys", function(t)
  t.sim.clock("2026-01-05T12:00:00Z")
  local r = t.run("rebalance.lua", { channel = "chat", strategy = "weighted", limit = "3" })
  t.truthy(r.ok, r.error)
  t.truthy(t.count(r, "deploy", "ok") >= 1, r.stdout)
end)

test("another admin's concurrent edits are merged, never overwritten", function(t)
  t.sim.faults { concurrentEdit = 1.0 }
  local r = t.run("rebalance.lua", { channel = "voice", strategy = "weighted", limit = "2", force = "true" })
  t.sim.faults {}
  -- The run fails (exit 1) once the table is printed and WFM told: automation sees the conflict.
  t.truthy(not r.ok, r.stdout)
  t.matches(r.error, "rebalance%.lua:%d+: 1 of 2 queues were not changed as asked: .*%(conflict: queue .* kept changing")
  t.eq(t.count(r, "webhook", "ok"), 1)
  -- The editor changes the SLA target before each write: a 409, a re-read, a merge; the run gives up
  -- after 8 attempts with nothing overwritten, and says so per queue.
  t.truthy(t.count(r, "deploy", "error") >= 1)
  for _, c in ipairs(r.calls) do
    -- A queue already on the strategy is skipped (no write); every write gave up on a conflict.
    if c.binding == "deploy" and not (c.result and c.result.skipped) then t.eq(c.error_code, "conflict") end
  end
  t.matches(r.stdout, "conflict: queue")
  for _, q in ipairs(t.sim.queues()) do
    if q.channel == "voice" then t.truthy(q.routing.strategy ~= "weighted" or q.version == 1, q.name) end
  end
end)

test("max wait and wrap-up are set when asked, and the overflow wait where a queue overflows", function(t)
  local r = t.run("rebalance.lua", { channel = "voice", strategy = "longest_idle", limit = "4", max_wait = "420", wrap_up = "45", force = "true" })
  t.truthy(r.ok, r.error)
  local written = t.sim.written()
  for _, q in ipairs(written) do
    t.eq(q.maxWaitTime, 420)
    t.eq(q.wrapUpTime, 45)
    if q.overflow.targetQueueId then t.eq(q.overflow.waitTime, 120) end
  end
  t.truthy(#written >= 1, r.stdout)
end)

test("rate limiting and server errors still end in the right state", function(t)
  t.sim.faults { status429 = 0.1, status503 = 0.2 }
  local r = t.run("rebalance.lua", { channel = "chat", strategy = "weighted", limit = "3" })
  t.sim.faults {}
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "deploy", "ok"), 3)
end)

test("a misspelt or malformed argument stops the run before any call", function(t)
  local r = t.run("rebalance.lua", { chanel = "chat" })
  t.truthy(not r.ok)
  t.matches(r.error, "argument chanel is not one this runbook takes %(did you mean channel%?%)")
  t.eq(#r.calls, 0)
  r = t.run("rebalance.lua", { limit = "1O" })
  t.matches(r.error, "argument limit=1O must be a number")
  t.eq(#r.calls, 0)
end)
