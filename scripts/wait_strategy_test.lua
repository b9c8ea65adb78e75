-- Tests of wait_strategy.lua (seed 001), run by `cxrun test`.

test("tunes the position threshold from the answer rate and keeps or rolls back", function(t)
  local r = t.run("wait_strategy.lua", { limit = "2", watch = "0" })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "fetch"), 2)
  t.eq(t.count(r, "analytics") >= 2, true)
  t.matches(r.stdout, "answer rate")
end)

test("sets callback, abandonment and max hold, and syncs each written strategy to the DMP", function(t)
  local r = t.run("wait_strategy.lua", { limit = "2", watch = "0", max_hold = "150", abandonment = "90" })
  t.truthy(r.ok, r.error)
  local written = t.sim.written()
  for _, q in ipairs(written) do
    t.eq(q.maxHoldTime, 150)
    t.eq(q.waitStrategy.abandonmentThreshold, 90)
    t.eq(q.callback.enabled, true)
  end
  t.truthy(#written >= 1, r.stdout)
  local synced = 0
  for _, d in ipairs(t.sim.deliveries()) do
    if d.body.event == "wait_strategy_synced" then synced = synced + 1 end
  end
  t.eq(synced, #written)
end)

test("the seed's rollback rule (long waits, few callbacks taken) rolls a queue back", function(t)
  -- Thresholds every queue meets: each written queue is judged degraded and rolled back.
  local r = t.run("wait_strategy.lua", { limit = "2", watch = "0", max_wait = "-1", min_conversion = "2" })
  t.truthy(r.ok, r.error)
  t.truthy(t.count(r, "rollback", "ok") >= 1, r.stdout)
  t.matches(r.stdout, "rolled back")
  t.truthy(not r.stdout:find("kept"), r.stdout)
end)

test("a regulatory hold-time cap is not exceeded: the queue is reported, nothing written", function(t)
  local r = t.run("wait_strategy.lua", { limit = "2", watch = "0", max_hold = "900" })
  -- Reported, then the run fails: a change asked for did not happen.
  t.truthy(not r.ok, r.stdout)
  t.matches(r.error, "2 of 2 queues were not changed as asked: .*%(invalid: maxHoldTime")
  local planned = t.run("wait_strategy.lua", { limit = "2", watch = "0", max_hold = "900" }, { dry_run = true })
  t.matches(planned.error, "2 of 2 queues would not be changed as asked: ")
  t.eq(t.count(r, "deploy"), 0)
  t.matches(r.stdout, "invalid: ")
end)

test("a dry run plans and writes nothing", function(t)
  local r = t.run("wait_strategy.lua", { limit = "2", watch = "0" }, { dry_run = true })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "deploy", "ok"), 0)
  -- The DMP syncs a run would send are planned with the changes (a plan's apply sends them).
  t.eq(t.count(r, "webhook", "planned"), t.count(r, "deploy", "planned"))
  t.truthy(t.count(r, "webhook", "planned") > 0, r.stdout)
  t.eq(#t.sim.deliveries(), 0)
  for _, q in ipairs(t.sim.queues()) do t.eq(q.version, 1, q.name) end
end)

test("a concurrent SLA edit merges with the wait-strategy change", function(t)
  local q = t.sim.queues()[1]
  t.sim.edit(q.id, { maxWaiters = 12 })
  local r = t.run("wait_strategy.lua", { limit = "3", watch = "0" })
  t.truthy(r.ok, r.error)
  t.eq(t.sim.queue(q.id).maxWaiters, 12, "the other admin's edit stands")
end)

test("rate limiting is absorbed", function(t)
  t.sim.faults { status429 = 0.1 }
  local r = t.run("wait_strategy.lua", { limit = "2", watch = "0" })
  t.sim.faults {}
  t.truthy(r.ok, r.error)
end)

test("a DMP webhook the tenant does not configure stops the run before any change", function(t)
  local r = t.run("wait_strategy.lua", { limit = "2", watch = "0", dmp = "crm" })
  t.truthy(not r.ok, r.stdout)
  t.matches(r.error, "argument dmp=crm must be one of wfm")
  t.eq(t.count(r, "deploy"), 0)
  t.eq(t.count(r, "fetch"), 0)
end)
