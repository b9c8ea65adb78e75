--- cx.capacity: Erlang C staffing math and the seeds' utilization check. Numerically stable
--- for thousands of agents (the Erlang B recurrence, no factorials). Times in seconds.
--- Plain Lua 5.4: runs in the sandbox and under the stock interpreter.
local M = {}

--- Traffic intensity in erlangs: contacts per `period` seconds times handle time.
---@param contacts number   contacts arriving in the period
---@param period number     period length in seconds
---@param aht number        average handle time in seconds
---@return number erlangs
function M.erlangs(contacts, period, aht)
  return contacts / period * aht
end

--- Probability that a contact waits (Erlang C), `agents` serving `traffic` erlangs.
---@param agents integer
---@param traffic number
---@return number probability 0..1 (1 when the queue cannot keep up)
function M.probability_of_waiting(agents, traffic)
  if traffic <= 0 then return 0 end
  if agents <= traffic then return 1 end
  local b = 1.0 -- Erlang B with 0 agents, then the recurrence B(n) = A*B(n-1) / (n + A*B(n-1))
  for n = 1, agents do b = traffic * b / (n + traffic * b) end
  local c = agents * b / (agents - traffic * (1 - b))
  return math.min(1, math.max(0, c))
end

--- Fraction of contacts answered within `threshold` seconds.
---@param agents integer
---@param traffic number
---@param aht number
---@param threshold number
---@return number service_level 0..1
function M.service_level(agents, traffic, aht, threshold)
  if agents <= traffic then return 0 end
  local pw = M.probability_of_waiting(agents, traffic)
  return math.max(0, math.min(1, 1 - pw * math.exp(-(agents - traffic) * threshold / aht)))
end

--- Average speed of answer in seconds (math.huge when the queue cannot keep up).
---@param agents integer
---@param traffic number
---@param aht number
---@return number seconds
function M.average_speed_of_answer(agents, traffic, aht)
  if agents <= traffic then return math.huge end
  return M.probability_of_waiting(agents, traffic) * aht / (agents - traffic)
end

--- Agent occupancy: the share of time agents are busy.
---@param agents integer
---@param traffic number
---@return number occupancy 0..1
function M.occupancy(agents, traffic)
  if agents <= 0 then return 1 end
  return math.min(1, traffic / agents)
end

--- Agents needed so that `target` of contacts are answered within `threshold` seconds,
--- optionally grossed up for shrinkage (breaks, training, absence: 0..1).
---@param traffic number    erlangs
---@param aht number        seconds
---@param target number     service level target 0..1 (e.g. 0.8)
---@param threshold number  seconds (e.g. 20)
---@param shrinkage number? 0..1, default 0
---@return integer agents on the phones
---@return integer scheduled agents (after shrinkage)
function M.agents_required(traffic, aht, target, threshold, shrinkage)
  local n = math.max(1, math.floor(traffic) + 1)
  while M.service_level(n, traffic, aht, threshold) < target do
    n = n + 1
    if n > 100000 then break end
  end
  local s = shrinkage or 0
  local scheduled = n
  if s > 0 and s < 1 then scheduled = math.ceil(n / (1 - s)) end
  return n, scheduled
end

--- The seeds' utilization check: projected utilization of `agents` handling `concurrent`
--- contacts at `aht` plus wrap-up; over 0.90, or concurrent volume above twice the agents,
--- is a problem.
---@param agents integer
---@param concurrent number  expected concurrent contacts
---@param aht number         seconds
---@param wrap_up number?    seconds after each contact
---@return number utilization
---@return string? problem
function M.utilization(agents, concurrent, aht, wrap_up)
  if agents <= 0 then return 1, "no agents" end
  local hourly_capacity = agents * (3600 / (aht + (wrap_up or 0)))
  local hourly_volume = concurrent * (3600 / aht)
  local u = hourly_volume / hourly_capacity
  if u > 0.90 then return u, ("projected utilization %.2f exceeds 0.90"):format(u) end
  if concurrent > agents * 2 then return u, "expected concurrent volume exceeds twice the agents" end
  return u, nil
end

return M
