-- Tests of sla_overflow.lua (seed 002), run by `cxrun test`.

test("sets the SLA target and overflow links, every write once", function(t)
  local r = t.run("sla_overflow.lua", { limit = "4", threshold = "85", time = "25" })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "deploy", "ok"), 4)
  local changed = 0
  for _, q in ipairs(t.sim.queues()) do
    if q.version == 2 then
      changed = changed + 1
      t.eq(q.serviceLevelTarget, { threshold = 85, time = 25 }, q.name)
    end
  end
  t.eq(changed, 4)
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

test("a dry run plans every queue and changes none", function(t)
  local r = t.run("sla_overflow.lua", { limit = "4" }, { dry_run = true })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "deploy", "planned"), 4)
  for _, q in ipairs(t.sim.queues()) do t.eq(q.version, 1, q.name) end
end)

test("another admin's SLA edit on the same queue is a conflict naming the field", function(t)
  t.sim.faults { concurrentEdit = 1.0 }
  local r = t.run("sla_overflow.lua", { limit = "2", concurrency = "1", threshold = "93" })
  t.sim.faults {}
  t.truthy(r.ok, r.error)
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
