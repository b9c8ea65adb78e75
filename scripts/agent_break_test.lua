-- Tests of agent_break.lua (seed 004), run by `cxrun test`.

test("puts agents on break with the pause reason and tells WFM", function(t)
  local r = t.run("agent_break.lua", { count = "2", reason = "Manager Meeting" })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "agent_status", "ok") + t.count(r, "agent_status", "error") >= 2, true)
  t.matches(r.stdout, "on break")
  -- One event per agent put on break, then the summary.
  local per_user = 0
  for _, d in ipairs(t.sim.deliveries()) do
    if d.body.user_id then per_user = per_user + 1 end
  end
  t.eq(per_user, t.count(r, "agent_status", "ok"))
  t.eq(#t.sim.deliveries(), per_user + 1)
end)

test("an agent in wrap-up is tried again with backoff, then reported", function(t)
  -- An agent on shift whose wrap-up runs for an hour yet: the bounded wait gives up and says so.
  local queue
  for _, u in ipairs(t.sim.users()) do
    if u.wrapUp.active and u.shiftSchedule.onShift and u.roles[1].name == "Agent" and u.status == "Busy" then queue = u.queueIds[1] end
  end
  t.truthy(queue, "the seeded tenant has an agent in wrap-up")
  local r = t.run("agent_break.lua", { queue = queue, count = "50", status = "Busy", wait = "0.6" })
  t.truthy(r.ok, r.error)
  t.matches(r.stdout, "skipped after [2-9] tries %(wrap%-up is active")
  t.truthy(t.count(r, "agent_status", "error") >= 2)
end)

test("a dry run plans the breaks and changes no agent", function(t)
  local r = t.run("agent_break.lua", { count = "2" }, { dry_run = true })
  t.truthy(r.ok, r.error)
  t.eq(t.count(r, "agent_status", "ok"), 0)
  -- One WFM event per planned break, then the summary: what a run (and a plan's apply) sends.
  t.eq(t.count(r, "webhook", "planned"), t.count(r, "agent_status", "planned") + 1)
  -- A planned break changed nothing: its event carries no write's latency.
  t.truthy(not table.concat(r.planned, "\n"):find("latency_ms"), table.concat(r.planned, "\n"))
  t.eq(#t.sim.deliveries(), 0)
  t.matches(r.stdout, "break planned")
end)

test("a pause reason the tenant does not have is refused before any request", function(t)
  local r = t.run("agent_break.lua", { count = "1", reason = "Nap" })
  t.eq(r.ok, false)
  t.matches(r.error, "argument reason=Nap must be one of IT Issue, Queue Full, Skill Gap, Manager Meeting, System Maintenance")
  t.eq(#r.calls, 0, "it stops at its arguments, before reading the agents")
end)

test("server errors are retried", function(t)
  t.sim.faults { status503 = 0.2 }
  local r = t.run("agent_break.lua", { count = "2" })
  t.sim.faults {}
  t.truthy(r.ok, r.error)
end)
