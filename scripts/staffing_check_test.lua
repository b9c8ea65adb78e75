-- Tests of staffing_check.lua, run by `cxrun test`. It only reads.

test("reports every queue's staffing gap, shortest first", function(t)
  local r = t.run("staffing_check.lua", { channel = "voice" })
  t.truthy(r.ok, r.error)
  t.matches(r.stdout, "^queue%s+staffed")
  for _, c in ipairs(r.calls) do t.truthy(c.binding == "queues" or c.binding == "analytics", c.binding) end
end)

test("at the peak more queues are short than at night", function(t)
  local night = t.run("staffing_check.lua", {})
  t.sim.clock("2026-01-05T12:00:00Z")
  local noon = t.run("staffing_check.lua", {})
  local function short(out)
    local n = 0
    for gap in out:gmatch("%s([+-]%d+%.%d)%s") do if tonumber(gap) < 0 then n = n + 1 end end
    return n
  end
  t.truthy(short(noon.stdout) > short(night.stdout), ("noon %d, night %d"):format(short(noon.stdout), short(night.stdout)))
end)

test("a dry run reads the same", function(t)
  local r = t.run("staffing_check.lua", { channel = "chat" }, { dry_run = true })
  t.truthy(r.ok, r.error)
end)

test("rate limiting is absorbed", function(t)
  t.sim.faults { status429 = 0.1 }
  local r = t.run("staffing_check.lua", {})
  t.sim.faults {}
  t.truthy(r.ok, r.error)
end)
