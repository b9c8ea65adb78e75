-- Tests of wait_strategy.lua (seed 003), run by `cxrun test`.

test("tunes the position threshold from the answer rate and keeps or rolls back", function(t)
  local r = t.run("wait_strategy.lua", { limit = "2", watch = "0" })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "fetch"), 2)
  t.eq(t.count(r, "analytics") >= 2, true)
  t.matches(r.stdout, "answer rate")
end)

test("a dry run plans and writes nothing", function(t)
  local r = t.run("wait_strategy.lua", { limit = "2", watch = "0" }, { dry_run = true })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "deploy", "ok"), 0)
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
