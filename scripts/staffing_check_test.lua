-- Tests of staffing_check.lua, run by `cxrun test`. It only reads.

test("reports every queue's staffing gap, shortest first", function(t)
  local r = t.run("staffing_check.lua", { channel = "voice" })
  t.truthy(r.ok, r.error)
  t.matches(r.stdout, "^queue%s+staffed")
  for _, c in ipairs(r.calls) do t.truthy(c.binding == "queues" or c.binding == "analytics", c.binding) end
end)

test("staffing follows the load: most queues meet their service level at night and at the peak", function(t)
  local night = t.run("staffing_check.lua", {})
  t.sim.clock("2026-01-05T12:00:00Z")
  local noon = t.run("staffing_check.lua", {})
  -- Queues whose service level now is under half: the hot ones.
  local function hot(out)
    local n = 0
    for sl in out:gmatch("%s(%d+)%%\n") do if tonumber(sl) < 50 then n = n + 1 end end
    return n
  end
  local queues = #t.sim.queues()
  t.truthy(hot(noon.stdout) < queues / 4 and hot(night.stdout) < queues / 4,
    ("hot of %d queues: noon %d, night %d"):format(queues, hot(noon.stdout), hot(night.stdout)))
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
