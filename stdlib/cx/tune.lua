--- cx.tune: the seeds' tuning helpers, as documented functions.
--- Plain Lua 5.4: runs in the sandbox and under the stock interpreter.
local M = {}

--- Seed 001: move a queue's position threshold with its answer rate. Below 0.3 (agents are
--- busy) the threshold drops by 3 (callbacks offered sooner); above 0.7 it rises by 2.
---@param current integer      the current position threshold
---@param answer_rate number   0..1
---@param opts { min: integer?, max: integer? }?  bounds (default 1..50)
---@return integer threshold
function M.threshold_for_answer_rate(current, answer_rate, opts)
  local lo = opts and opts.min or 1
  local hi = opts and opts.max or 50
  if answer_rate < 0.3 then return math.max(lo, current - 3) end
  if answer_rate > 0.7 then return math.min(hi, current + 2) end
  return math.max(lo, math.min(hi, current))
end

--- Seed 002: maximum wait, waiters and SLA target from utilization and skill coverage.
---@param metrics { active_interactions: number, max_capacity: number }
---@param skill_matrix { coverage_ratio: number? }?  share of contacts the skills cover (default 0.75)
---@return { maxWaitTime: integer, maxWaiters: integer, serviceLevelTarget: { threshold: integer, time: integer } }
function M.optimal_routing(metrics, skill_matrix)
  local capacity = math.max(1, metrics.max_capacity)
  local utilization = metrics.active_interactions / capacity
  local coverage = skill_matrix and skill_matrix.coverage_ratio or 0.75
  if coverage <= 0 then coverage = 0.75 end
  local base_wait = math.floor(120 / coverage + 0.5)
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
  if seconds <= 0 then return 0 end
  return answered / seconds * 60
end

return M
