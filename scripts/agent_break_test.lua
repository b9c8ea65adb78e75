-- Tests of agent_break.lua (seed 004), run by `cxrun test`.

test("puts agents on break with the pause reason and tells WFM", function(t)
  local r = t.run("agent_break.lua", { count = "2", reason = "Manager Meeting" })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "agent_status", "ok") + t.count(r, "agent_status", "error") >= 2, true)
  t.matches(r.stdout, "on break")
  t.eq(#t.sim.deliveries(), 1)
end)

test("a dry run plans the breaks and changes no agent", function(t)
  local r = t.run("agent_break.lua", { count = "2" }, { dry_run = true })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "agent_status", "ok"), 0)
  t.matches(r.stdout, "break planned")
end)

test("a pause reason the tenant does not have is refused before any request", function(t)
  local r = t.run("agent_break.lua", { count = "1", reason = "Nap" })
  t.truthy(r.ok, r.error)
  t.matches(r.stdout, "skipped %(agent_status: pause_reason must be one of")
  t.eq(t.count(r, "agent_status", "ok"), 0)
end)

test("server errors are retried", function(t)
  t.sim.faults { status503 = 0.2 }
  local r = t.run("agent_break.lua", { count = "2" })
  t.sim.faults {}
  t.truthy(r.ok, r.error)
end)
