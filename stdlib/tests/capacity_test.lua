local c = require("cx.capacity")
local A = require("assert")

local T = {}

-- The worked example: 100 calls per 30 minutes, AHT 180 s, 80% within 20 s.
function T.worked_example()
  local traffic = c.erlangs(100, 1800, 180)
  A.near(traffic, 10, 1e-9)
  A.near(c.probability_of_waiting(14, traffic), 0.1741, 0.0005)
  A.near(c.service_level(14, traffic, 180, 20), 0.8884, 0.0005)
  A.near(c.average_speed_of_answer(14, traffic, 180), 7.83, 0.02)
  A.near(c.occupancy(14, traffic), 10 / 14, 1e-9)
  local on_phones, scheduled = c.agents_required(traffic, 180, 0.80, 20, 0.30)
  A.eq(on_phones, 14)
  A.eq(scheduled, 20)
  local no_shrinkage = select(2, c.agents_required(traffic, 180, 0.80, 20))
  A.eq(no_shrinkage, 14)
end

function T.saturated_queues()
  A.eq(c.probability_of_waiting(10, 10), 1)
  A.eq(c.service_level(9, 10, 180, 20), 0)
  A.eq(c.average_speed_of_answer(9, 10, 180), math.huge)
  A.eq(c.probability_of_waiting(5, 0), 0)
end

function T.stable_for_large_centres()
  local pw = c.probability_of_waiting(1100, 1000)
  A.eq(pw > 0 and pw < 0.1, true)
  local n = c.agents_required(1000, 300, 0.9, 30)
  A.eq(n > 1000 and n < 1100, true)
end

function T.more_agents_never_hurt()
  local last = -1
  for n = 11, 30 do
    local sl = c.service_level(n, 10, 180, 20)
    A.eq(sl >= last, true)
    last = sl
  end
end

function T.utilization_check_from_the_seed()
  local u, problem = c.utilization(20, 10, 300, 30)
  A.near(u, 0.55, 1e-9)
  A.eq(problem, nil)
  local _, busy = c.utilization(10, 10, 300, 30)
  A.eq(busy ~= nil, true)
  local _, flood = c.utilization(4, 9, 3000, 0)
  A.eq(flood ~= nil, true)
end

return T
