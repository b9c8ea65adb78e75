local t = require("cx.tune")
local A = require("assert")

local T = {}

function T.threshold_follows_answer_rate()
  A.eq(t.threshold_for_answer_rate(10, 0.2), 7)
  A.eq(t.threshold_for_answer_rate(2, 0.1), 1)
  A.eq(t.threshold_for_answer_rate(10, 0.8), 12)
  A.eq(t.threshold_for_answer_rate(49, 0.9), 50)
  A.eq(t.threshold_for_answer_rate(10, 0.5), 10)
  A.eq(t.threshold_for_answer_rate(10, 0.3), 10)
  A.eq(t.threshold_for_answer_rate(10, 0.7), 10)
  A.eq(t.threshold_for_answer_rate(20, 0.9, { max = 21 }), 21)
end

function T.optimal_routing_matches_the_seed()
  local calm = t.optimal_routing({ active_interactions = 40, max_capacity = 100 })
  A.eq(calm, { maxWaitTime = 160, maxWaiters = 80, serviceLevelTarget = { threshold = 85, time = 96 } })
  local busy = t.optimal_routing({ active_interactions = 95, max_capacity = 100 }, { coverage_ratio = 0.5 })
  A.eq(busy, { maxWaitTime = 300, maxWaiters = 80, serviceLevelTarget = { threshold = 70, time = 180 } })
end

--- What it returns passes validate's bounds however thin the coverage; a ratio outside 0..1 fails.
function T.optimal_routing_stays_within_what_the_platform_accepts()
  local thin = t.optimal_routing({ active_interactions = 10, max_capacity = 100 }, { coverage_ratio = 0.001 })
  A.eq(thin.maxWaitTime, 3600)
  local ok, problems = require("cx.validate").run({ maxWaitTime = thin.maxWaitTime, maxWaiters = thin.maxWaiters,
    serviceLevelTarget = thin.serviceLevelTarget }, { rules = { "wait_strategy", "sla", "license" } })
  A.eq({ ok, problems }, { true, {} })
  A.fails(function() return t.optimal_routing({ active_interactions = 1, max_capacity = 2 }, { coverage_ratio = 1.5 }) end,
    "coverage_ratio must be <= 1, got 1.5")
  A.fails(function() return t.optimal_routing({ active_interactions = 1, max_capacity = 2 }, { coverage_ratio = -0.5 }) end,
    "coverage_ratio must be >= 0, got -0.5")
end

function T.drain_rate()
  A.near(t.drain_rate(120, 3600), 2, 1e-9)
  A.eq(t.drain_rate(5, 0), 0)
end

-- A bad input fails naming the function and argument: a NaN threshold came out as 50 (the
-- maximum), a NaN answer rate as "no change", a NaN capacity as a routing to deploy.
function T.bad_inputs_fail_instead_of_answering()
  local fails = A.fails
  fails(function() return t.threshold_for_answer_rate(0 / 0, 0.5) end, "cx.tune.threshold_for_answer_rate: current must be a finite number")
  fails(function() return t.threshold_for_answer_rate(10, 0 / 0) end, "answer_rate must be a finite number")
  fails(function() return t.threshold_for_answer_rate(10, nil) end, "answer_rate must be a number, got nil")
  fails(function() return t.threshold_for_answer_rate(10, 1.5) end, "answer_rate must be <= 1")
  fails(function() return t.threshold_for_answer_rate(10, 0.5, { min = 5, max = 2 }) end, "opts.max must be >= 5")
  fails(function() return t.optimal_routing({ active_interactions = 40, max_capacity = 0 / 0 }) end,
    "cx.tune.optimal_routing: metrics.max_capacity must be a finite number")
  fails(function() return t.optimal_routing(nil) end, "metrics must be a table")
  fails(function() return t.drain_rate(math.huge, 60) end, "cx.tune.drain_rate: answered must be a finite number")
end

function T.options_it_does_not_know_are_refused()
  A.fails(function() t.optimal_routing({ active_interactions = 1, max_capacity = 10 }, { coverage = 0.3 }) end,
    "cx.tune.optimal_routing: unknown option 'coverage'; known: coverage_ratio")
  A.fails(function() t.threshold_for_answer_rate(5, 0.5, { minimum = 2 }) end,
    "cx.tune.threshold_for_answer_rate: unknown option 'minimum'; known: max, min")
end

return T

