--- cx.tune: the seeds' tuning helpers, as documented functions.
--- Plain Lua 5.4: runs in the sandbox and under the stock interpreter.
local M = {}

local check = require("cx.check").number("cx.tune")
local options = require("cx.check").options
local rules = require("cx.rules")

--- Seed 001: move a queue's position threshold with its answer rate. Below 0.3 (agents are
--- busy) the threshold drops by 3 (callbacks offered sooner); above 0.7 it rises by 2.
---@param current integer      the current position threshold
---@param answer_rate number   0..1
---@param opts { min: integer?, max: integer? }?  bounds (default 1..50)
---@return integer threshold
function M.threshold_for_answer_rate(current, answer_rate, opts)
  -- A NaN threshold came out as the maximum (math.min(50, nan) is 50), and a NaN rate as no change.
  check("threshold_for_answer_rate", "current", current)
  check("threshold_for_answer_rate", "answer_rate", answer_rate, 0, 1)
  options("cx.tune.threshold_for_answer_rate", opts, { min = "number", max = "number" })
  local lo = check("threshold_for_answer_rate", "opts.min", opts and opts.min, nil, nil, { optional = true }) or 1
  local hi = check("threshold_for_answer_rate", "opts.max", opts and opts.max, lo, nil, { optional = true }) or 50
  if answer_rate < 0.3 then return math.max(lo, current - 3) end
  if answer_rate > 0.7 then return math.min(hi, current + 2) end
  return math.max(lo, math.min(hi, current))
end

--- Seed 002: maximum wait, waiters and SLA target from utilization and skill coverage.
---@param metrics { active_interactions: number, max_capacity: number }
---@param skill_matrix { coverage_ratio: number? }?  share of contacts the skills cover, 0..1 (0 or none: 0.75)
---@return { maxWaitTime: integer, maxWaiters: integer, serviceLevelTarget: { threshold: integer, time: integer } }
function M.optimal_routing(metrics, skill_matrix)
  if type(metrics) ~= "table" then error("cx.tune.optimal_routing: metrics must be a table", 2) end
  check("optimal_routing", "metrics.max_capacity", metrics.max_capacity, 0)
  check("optimal_routing", "metrics.active_interactions", metrics.active_interactions, 0)
  -- A misspelt key ({coverage = 0.3}) was the default coverage, 0.75, without a word.
  options("cx.tune.optimal_routing", skill_matrix, { coverage_ratio = "number" })
  check("optimal_routing", "skill_matrix.coverage_ratio", skill_matrix and skill_matrix.coverage_ratio, 0, 1, { optional = true })
  local capacity = math.max(1, metrics.max_capacity)
  local utilization = metrics.active_interactions / capacity
  local coverage = skill_matrix and skill_matrix.coverage_ratio or 0.75
  if coverage <= 0 then coverage = 0.75 end
  -- A thin coverage lengthens the wait, never past what the platform accepts (validate's bound).
  local base_wait = math.min(rules.MAX_WAIT_SECONDS, math.floor(120 / coverage + 0.5))
  local wait = utilization > 0.85 and math.min(base_wait + 60, 300) or base_wait
  return {
    maxWaitTime = wait,
    maxWaiters = math.min(100, math.floor(capacity * 0.8 + 0.5)),
    serviceLevelTarget = { threshold = utilization > 0.9 and 70 or 85, time = math.max(1, math.min(300, math.floor(wait * 0.6 + 0.5))) },
  }
end

--- Seed 003: contacts drained per minute over an interval.
---@param answered number   contacts answered in the interval
---@param seconds number    interval length
---@return number per_minute
function M.drain_rate(answered, seconds)
  check("drain_rate", "answered", answered, 0)
  check("drain_rate", "seconds", seconds)
  if seconds <= 0 then return 0 end
  return answered / seconds * 60
end

return M
