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

-- Erlang A against reference values computed independently in 60-digit arithmetic
-- (tools/erlang_a_reference.py: the chain summed directly, waits by partial fractions).
function T.erlang_a_matches_the_reference_to_1e_9()
  for _, case in ipairs(require("fixtures.erlang_a")) do
    local n, a, aht, patience, t, wait, abandon, mean_wait, sl = table.unpack(case, 1, 9)
    local what = ("n=%d A=%g aht=%g patience=%g"):format(n, a, aht, patience)
    local r = c.erlang_a(n, a, aht, patience)
    A.near(r.wait_probability, wait, 1e-9, what .. " wait")
    A.near(r.abandon_probability, abandon, 1e-9, what .. " abandon")
    A.near(r.mean_wait / mean_wait, 1, 1e-9, what .. " mean wait")
    if t then A.near(c.erlang_a_service_level(n, a, aht, patience, t), sl, 1e-9, what .. " service level") end
  end
end

function T.erlang_a_keeps_its_identities_and_extremes()
  -- Everyone who hangs up waited: mean wait over all arrivals = abandon probability x patience.
  local r = c.erlang_a(12, 15, 200, 90)
  A.near(r.mean_wait, r.abandon_probability * 90, 1e-9)
  -- Fewer agents than erlangs: defined (Erlang C has no answer), and bounded.
  local over = c.erlang_a(10, 40, 180, 60)
  A.truthy(over.wait_probability > 0.99 and over.abandon_probability > 0.74 and over.abandon_probability < 0.76)
  -- Far more agents than traffic: nobody waits, no NaN.
  local idle = c.erlang_a(2000, 1, 180, 60)
  A.eq(idle.wait_probability, 0)
  A.eq(c.erlang_a_service_level(2000, 1, 180, 60, 20), 1)
  A.eq(c.erlang_a(5, 0, 180, 60).wait_probability, 0)
  -- Very patient callers: Erlang A tends to Erlang C.
  A.near(c.erlang_a(14, 10, 180, 1e9).wait_probability, c.probability_of_waiting(14, 10), 1e-6)
  A.eq(pcall(c.erlang_a, 10, 5, 180, 0), false)
end

function T.erlang_a_staffing_meets_the_target_and_the_cap_with_one_agent_less_missing()
  local n = c.erlang_a_agents_required(25, 180, 60, 0.8, 20, 0.02)
  A.truthy(c.erlang_a_service_level(n, 25, 180, 60, 20) >= 0.8 and c.erlang_a(n, 25, 180, 60).abandon_probability <= 0.02)
  A.truthy(c.erlang_a_service_level(n - 1, 25, 180, 60, 20) < 0.8 or c.erlang_a(n - 1, 25, 180, 60).abandon_probability > 0.02)
  -- A target met only far above the traffic is found by halving, not by counting up one agent
  -- at a time (each count O(n): this one took a minute and a half).
  local many = c.erlang_a_agents_required(1000, 2, 10000, 1, 0.5, 1e-300)
  A.truthy(c.erlang_a_service_level(many, 1000, 2, 10000, 0.5) >= 1 and c.erlang_a(many, 1000, 2, 10000).abandon_probability <= 1e-300)
  local big = c.erlang_a_agents_required(1000, 2, 10000, 0.8, 0.5, 0.001)
  A.truthy(c.erlang_a_service_level(big, 1000, 2, 10000, 0.5) >= 0.8 and c.erlang_a(big, 1000, 2, 10000).abandon_probability <= 0.001)
  A.truthy(c.erlang_a_service_level(big - 1, 1000, 2, 10000, 0.5) < 0.8 or c.erlang_a(big - 1, 1000, 2, 10000).abandon_probability > 0.001)
end

-- Chat: an agent holds several conversations at once; the queue's concurrency counts.
function T.concurrency_counts_each_agents_parallel_contacts()
  local u1 = c.utilization(10, 12, 480, 0)
  local u2 = c.utilization(10, 12, 480, 0, 2)
  A.near(u2, u1 / 2, 1e-12)
  A.eq(select(2, c.utilization(10, 12, 480, 0)) ~= nil, true)
  A.eq(select(2, c.utilization(10, 12, 480, 0, 2)), nil)
  local single = c.agents_required(20, 480, 0.8, 60)
  local paired = c.agents_required(20, 480, 0.8, 60, 0, 2)
  A.eq(paired, math.ceil(single / 2))
end

-- Bad inputs fail naming the function and the argument: NaN once came out as "nobody waits"
-- (0 agents needed) and math.huge agents looped until the instruction limit.
function T.bad_inputs_fail_instead_of_answering()
  local fails = A.fails
  fails(function() return c.probability_of_waiting(0 / 0, 10) end, "cx.capacity.probability_of_waiting: agents must be a finite number")
  fails(function() return c.probability_of_waiting(math.huge, 10) end, "agents must be a finite number, got inf")
  fails(function() return c.probability_of_waiting(2e6, 10) end, "agents must be <= 1000000")
  fails(function() return c.service_level(14, 10, 0, 20) end, "cx.capacity.service_level: aht must be > 0")
  fails(function() return c.erlangs(-5, 3600, 180) end, "cx.capacity.erlangs: contacts must be >= 0, got -5")
  fails(function() return c.erlangs("100", 3600, 180) end, "contacts must be a number, got string")
  fails(function() return c.agents_required(10, 180, 1.5, 20) end, "cx.capacity.agents_required: target must be <= 1")
  fails(function() return c.agents_required(10, 180, 0.8, 20, 1) end, "shrinkage 1 leaves nobody on the phones")
  fails(function() return c.utilization(10, 0 / 0, 180) end, "cx.capacity.utilization: concurrent must be a finite number")
  fails(function() return c.erlang_a(10.5, 10, 180, 60) end, "cx.capacity.erlang_a: agents must be a whole number")
  fails(function() return c.erlang_a_service_level(12, 10, 180, -1, 20) end, "patience must be > 0")
  fails(function() return c.erlang_a_agents_required(10, 180, 60, 0 / 0, 20) end, "target must be a finite number")
  -- A chain that would not settle within reach fails at once, naming the inputs: it was cut off
  -- after seconds of work and a wrong answer returned.
  fails(function() return c.erlang_a(2, 2, 2, 2 ^ 53) end, "cx.capacity.erlang_a: 2 erlangs on 2 agents with a patience of")
  fails(function() return c.erlang_a_service_level(1, 1e6, 2, 1000, 20) end, "has no answer within reach")
  fails(function() return c.erlang_a_agents_required(1e5, 2, 1e9, 0.8, 20) end, "cx.capacity.erlang_a_agents_required: ")
  -- The worked example still answers.
  A.eq(c.agents_required(10, 180, 0.8, 20), 14)
end

return T
