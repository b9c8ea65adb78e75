-- Tests of skill_balance.lua (seed 003), run by `cxrun test`.

test("balances skill levels from the agents and sends drain rates to WFM", function(t)
  local r = t.run("skill_balance.lua", { limit = "3" })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "fetch"), 3)
  t.eq(t.count(r, "webhook", "ok"), 1)
  local delivered = t.sim.deliveries()
  t.eq(#delivered, 1)
  t.eq(delivered[1].verified, true)
end)

test("a dry run writes nothing and delivers nothing", function(t)
  local r = t.run("skill_balance.lua", { limit = "3" }, { dry_run = true })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "patch", "ok"), 0)
  t.eq(#t.sim.deliveries(), 0)
end)

test("a dry run with a profile plans the reassignments a run would make", function(t)
  local run = t.run("skill_balance.lua", { limit = "1", profile = "profile-3" })
  t.truthy(run.ok, run.error)
  local moved = t.count(run, "reassign", "ok")
  t.truthy(moved > 0, run.stdout)
  -- From the same state, the same arguments as a dry run: each of those reassignments planned.
  t.sim.reset()
  t.eq(#t.sim.written(), 0)
  t.eq(#t.sim.deliveries(), 0)
  local r = t.run("skill_balance.lua", { limit = "1", profile = "profile-3" }, { dry_run = true })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "reassign", "planned"), moved)
  t.eq(t.count(r, "reassign", "ok"), 0)
  t.eq(t.count(r, "patch", "planned"), 1)
  t.truthy(not r.stdout:find("nil ms"), r.stdout)
end)

test("writes the skills alone as a PATCH and reassigns the members when asked", function(t)
  local r = t.run("skill_balance.lua", { limit = "1", profile = "profile-3" })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "deploy"), 0)
  t.eq(t.count(r, "patch", "ok"), 1)
  local moved = t.count(r, "reassign", "ok")
  t.truthy(moved > 0, "members were reassigned")
  local delivered = t.sim.deliveries()
  t.eq(delivered[1].body.queues[1].latencyMs ~= nil, true)
end)

test("a concurrent admin edit elsewhere in the document is kept", function(t)
  local first
  for _, q in ipairs(t.sim.queues()) do
    if q.channel == "chat" and (not first or q.name < first.name) then first = q end
  end
  t.sim.edit(first.id, { maxWaiters = 11 })
  local r = t.run("skill_balance.lua", { limit = "1" })
  t.truthy(r.ok, r.error)
  t.eq(t.sim.queue(first.id).maxWaiters, 11)
end)

test("a failing WFM receiver is reported, the run still ends", function(t)
  t.sim.faults { webhook500 = 1.0 }
  local r = t.run("skill_balance.lua", { limit = "1" })
  t.sim.faults {}
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "webhook", "error"), 1)
end)

test("a profile the tenant does not have stops the run before any change", function(t)
  -- It used to patch every queue's skills, then fail each reassignment: a run left half done.
  for _, profile in ipairs({ "profile-chat", string.rep("p", 201) }) do
    local r = t.run("skill_balance.lua", { limit = "2", profile = profile })
    t.truthy(not r.ok, r.stdout)
    t.matches(r.error, "the tenant has no such routing profile;.* its profiles: profile%-1 %(Voice Tier 1%)")
    t.eq(#t.sim.written(), 0)
    t.eq(t.count(r, "patch"), 0)
    t.eq(t.count(r, "reassign"), 0)
    t.eq(#t.sim.deliveries(), 0)
  end
  t.matches(t.run("skill_balance.lua", { profile = "profile-7" }).error, "did you mean profile%-1%?")
end)
