-- Tests of sla_overflow.lua (seed 002), run by `cxrun test`.

test("sets the SLA target and overflow links, every write once", function(t)
  local r = t.run("sla_overflow.lua", { limit = "4", threshold = "85", time = "25" })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "deploy", "ok"), 4)
  local changed = t.sim.written()
  for _, q in ipairs(changed) do t.eq(q.serviceLevelTarget, { threshold = 85, time = 25 }, q.name) end
  t.eq(#changed, 4)
  -- No chain the tasks built together is longer than the tenant allows (it refuses one that would be).
  local by_id = {}
  for _, q in ipairs(t.sim.queues()) do by_id[q.id] = q end
  for _, q in pairs(by_id) do
    local links, current = 0, q
    while current and current.overflow and current.overflow.enabled ~= false and current.overflow.action == "routeToQueue" do
      links = links + 1
      current = by_id[current.overflow.targetQueueId]
      if links > 3 then break end
    end
    t.truthy(links <= 3, q.name .. " starts a chain of more than 3 links")
  end
end)

test("sets skill requirements and wait limits, and reports each queue to WFM as queue.updated", function(t)
  local r = t.run("sla_overflow.lua", { limit = "3", skill = "language:es", proficiency = "expert", max_wait = "900", max_waiters = "40" })
  t.truthy(r.ok, r.error)
  local written = {}
  for _, q in ipairs(t.sim.written()) do
    written[q.id] = true
    t.eq(q.skillRequirements, { { skill = "language:es", proficiency = "expert", required = true } }, q.name)
    t.eq(q.maxWaitTime, 600, "clamped to the seed's 600 s")
    t.eq(q.maxWaiters, 40)
  end
  local events = 0
  for _, d in ipairs(t.sim.deliveries()) do
    if d.body.event == "queue.updated" then
      events = events + 1
      t.truthy(written[d.body.queueId], "an event for a written queue")
      t.eq(d.body.configuration.version, 2)
      t.eq(d.body.metrics.successRate, 1)
      t.truthy(type(d.body.metrics.updateLatencyMs) == "number")
    end
  end
  t.eq(events, 3)
end)

test("optimize takes wait limits and the SLA from tune.optimal_routing", function(t)
  local r = t.run("sla_overflow.lua", { limit = "2", optimize = "true" })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "deploy", "ok"), 2)
  for _, q in ipairs(t.sim.written()) do
    t.truthy(q.maxWaitTime >= 120 and q.maxWaitTime <= 600, q.name .. " maxWaitTime " .. q.maxWaitTime)
    t.truthy(q.maxWaiters >= 1 and q.maxWaiters <= 100, q.name .. " maxWaiters " .. q.maxWaiters)
    t.truthy(q.serviceLevelTarget.threshold == 85 or q.serviceLevelTarget.threshold == 70, q.name)
  end
end)

test("a dry run plans every queue and changes none", function(t)
  local r = t.run("sla_overflow.lua", { limit = "4" }, { dry_run = true })
  t.truthy(r.ok, r.error)
  -- Each queue planned, or left as is where only the overflow link was to change and the chain
  -- would be too deep (a run then reports it unchanged).
  local planned = t.count(r, "deploy", "planned")
  t.truthy(planned >= 3, r.stdout)
  t.eq(planned + t.count(r, "deploy", "ok"), 4)
  -- Its WFM events are a run's, planned: one per queue it would change, with the success rate.
  t.eq(t.count(r, "webhook", "planned"), planned)
  t.matches(table.concat(r.planned, "\n"), '"successRate":')
  t.matches(r.stdout, planned .. " of 4 queues planned")
  for _, q in ipairs(t.sim.queues()) do t.eq(q.version, 1, q.name) end
  t.eq(#t.sim.deliveries(), 0)
end)

test("another admin's SLA edit on the same queue is a conflict naming the field", function(t)
  t.sim.faults { concurrentEdit = 1.0 }
  local r = t.run("sla_overflow.lua", { limit = "2", concurrency = "1", threshold = "93" })
  t.sim.faults {}
  t.truthy(not r.ok, r.stdout)
  t.matches(r.error, "2 of 2 queues were not changed as asked: .*%(conflict: .*serviceLevelTarget%.threshold")
  t.matches(r.stdout, "conflict: .*serviceLevelTarget%.threshold")
  t.eq(t.count(r, "deploy", "ok"), 0)
end)

test("503s and resets are retried; each queue ends written once", function(t)
  t.sim.faults { status503 = 0.2, reset = 0.05 }
  local r = t.run("sla_overflow.lua", { limit = "4" })
  t.sim.faults {}
  t.truthy(r.ok, r.error)
  for _, q in ipairs(t.sim.queues()) do t.truthy(q.version <= 2, q.name .. " written twice") end
end)
