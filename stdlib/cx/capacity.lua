--- cx.capacity: Erlang C and Erlang A staffing math and the seeds' utilization check. Numerically stable
--- for thousands of agents (the Erlang B recurrence, no factorials). Times in seconds.
--- Plain Lua 5.4: runs in the sandbox and under the stock interpreter.
local M = {}

-- Staffing math on a bad input must fail, not answer: NaN compared false everywhere and came out
-- as "no wait" (0 agents needed), and math.huge agents looped until the instruction limit.
local MAX_AGENTS = 1000000

local check = require("cx.check").number("cx.capacity")

--- The least n in lo..hi for which `ok(n)` holds, or nil; `ok` must hold for every n above one
--- where it holds (more agents never serve worse). Doubling, then halving: a few dozen
--- evaluations, where counting up one agent at a time evaluated (each in O(n)) up to the limit.
---@param lo integer
---@param hi integer
---@param ok fun(n: integer): boolean
---@return integer?
local function least(lo, hi, ok)
  if ok(lo) then return lo end
  local bad, good = lo, nil
  while not good do
    if bad >= hi then return nil end
    local next_n = math.min(hi, math.max(bad + 1, bad * 2))
    if ok(next_n) then good = next_n else bad = next_n end
  end
  while good - bad > 1 do
    local mid = (bad + good) // 2
    if ok(mid) then good = mid else bad = mid end
  end
  return good
end

--- Traffic intensity in erlangs: contacts per `period` seconds times handle time.
---@param contacts number   contacts arriving in the period
---@param period number     period length in seconds
---@param aht number        average handle time in seconds
---@return number erlangs
function M.erlangs(contacts, period, aht)
  check("erlangs", "contacts", contacts, 0)
  check("erlangs", "period", period, 0, nil, { above = true })
  check("erlangs", "aht", aht, 0, nil, { above = true })
  return contacts / period * aht
end

--- Probability that a contact waits (Erlang C), `agents` serving `traffic` erlangs.
---@param agents integer
---@param traffic number
---@return number probability 0..1 (1 when the queue cannot keep up)
function M.probability_of_waiting(agents, traffic)
  check("probability_of_waiting", "agents", agents, 0, MAX_AGENTS)
  check("probability_of_waiting", "traffic", traffic, 0, MAX_AGENTS)
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
  check("service_level", "agents", agents, 0, MAX_AGENTS)
  check("service_level", "traffic", traffic, 0, MAX_AGENTS)
  check("service_level", "aht", aht, 0, nil, { above = true })
  check("service_level", "threshold", threshold, 0)
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
  check("average_speed_of_answer", "agents", agents, 0, MAX_AGENTS)
  check("average_speed_of_answer", "traffic", traffic, 0, MAX_AGENTS)
  check("average_speed_of_answer", "aht", aht, 0, nil, { above = true })
  if agents <= traffic then return math.huge end
  return M.probability_of_waiting(agents, traffic) * aht / (agents - traffic)
end

--- Agent occupancy: the share of time agents are busy.
---@param agents integer
---@param traffic number
---@return number occupancy 0..1
function M.occupancy(agents, traffic)
  check("occupancy", "agents", agents, 0)
  check("occupancy", "traffic", traffic, 0)
  if agents <= 0 then return 1 end
  return math.min(1, traffic / agents)
end

--- Agents needed so that `target` of contacts are answered within `threshold` seconds,
--- optionally grossed up for shrinkage (breaks, training, absence: 0..1). An agent handling
--- `concurrency` contacts at once (chat) counts as that many servers (Erlang C on the slots).
---@param traffic number    erlangs
---@param aht number        seconds
---@param target number     service level target 0..1 (e.g. 0.8)
---@param threshold number  seconds (e.g. 20)
---@param shrinkage number? 0..1, default 0
---@param concurrency integer? contacts an agent handles at once, default 1
---@return integer agents on the phones
---@return integer scheduled agents (after shrinkage)
function M.agents_required(traffic, aht, target, threshold, shrinkage, concurrency)
  check("agents_required", "traffic", traffic, 0, MAX_AGENTS)
  check("agents_required", "aht", aht, 0, nil, { above = true })
  check("agents_required", "target", target, 0, 1)
  check("agents_required", "threshold", threshold, 0)
  check("agents_required", "shrinkage", shrinkage, 0, 1, { optional = true })
  check("agents_required", "concurrency", concurrency, 1, nil, { optional = true })
  if shrinkage == 1 then error("cx.capacity.agents_required: shrinkage 1 leaves nobody on the phones", 2) end
  local per_agent = math.max(1, math.floor(concurrency or 1))
  local slots = least(math.max(1, math.floor(traffic) + 1), MAX_AGENTS,
    function(n) return M.service_level(n, traffic, aht, threshold) >= target end)
  if not slots then
    error(("cx.capacity.agents_required: %s of contacts within %s s cannot be met with %d agents"):format(target, threshold, MAX_AGENTS), 2)
  end
  local n = math.ceil(slots / per_agent)
  local s = shrinkage or 0
  local scheduled = n
  if s > 0 and s < 1 then scheduled = math.ceil(n / (1 - s)) end
  return n, scheduled
end

--- The seeds' utilization check: projected utilization of `agents` handling `concurrent`
--- contacts at `aht` plus wrap-up, each agent taking `concurrency` contacts at once (chat);
--- over 0.90, or concurrent volume above twice what the agents can hold, is a problem.
---@param agents integer
---@param concurrent number  expected concurrent contacts
---@param aht number         seconds
---@param wrap_up number?    seconds after each contact
---@param concurrency integer? contacts an agent handles at once, default 1
---@return number utilization
---@return string? problem
function M.utilization(agents, concurrent, aht, wrap_up, concurrency)
  check("utilization", "agents", agents, 0)
  check("utilization", "concurrent", concurrent, 0)
  check("utilization", "aht", aht, 0, nil, { above = true })
  check("utilization", "wrap_up", wrap_up, 0, nil, { optional = true })
  check("utilization", "concurrency", concurrency, 1, nil, { optional = true })
  if agents <= 0 then return 1, "no agents" end
  local slots = agents * math.max(1, concurrency or 1)
  local hourly_capacity = slots * (3600 / (aht + (wrap_up or 0)))
  local hourly_volume = concurrent * (3600 / aht)
  local u = hourly_volume / hourly_capacity
  if u > 0.90 then return u, ("projected utilization %.2f exceeds 0.90"):format(u) end
  if concurrent > slots * 2 then return u, "expected concurrent volume exceeds twice the agents" end
  return u, nil
end

-- Erlang A (M/M/n+M): callers abandon after an exponential patience. The birth–death chain is
-- summed exactly (relative to the state with every agent busy, rescaled as it goes so that
-- neither a heavily overloaded queue nor thousands of agents overflows), and the chance to be
-- answered within t uses the tagged caller's own chain: with j callers ahead its wait is a sum
-- of exponentials of rates n/aht + (i+1)/patience, whose distribution function is that of a
-- birth–immigration process (negative binomial), summed in the log domain.

--- 1 - exp(-x), accurate for tiny x (Lua has no expm1).
---@param x number
---@return number
local function one_minus_exp(x)
  if x < 1e-5 then return x - x * x / 2 + x * x * x / 6 end
  return 1 - math.exp(-x)
end

-- The most terms of the chain summed: about a second of CPU at most. Past it the sum was cut off and a
-- wrong answer returned after seconds of work (a patience of 2^53 s, a million erlangs on one agent).
local MAX_TERMS = 5e6

--- Roughly how many terms the chain's tail needs before they fall below 1e-18 of its sum: until
--- hang-ups outpace arrivals (n + j theta > a), then about 41 e-folds of decay.
---@return number
local function terms_needed(n, a, theta)
  local cross = math.max(0, (a - n) / theta)
  local decay = math.sqrt(83 * a / theta)
  if n > a then decay = math.min(decay, 41.5 / math.log(n / a)) end
  return cross + decay
end

--- Raises, at the caller of `fname` (`level`), when the chain would take more than MAX_TERMS terms.
local function within_reach(fname, level, n, a, aht, patience)
  local needed = terms_needed(n, a, aht / patience)
  if needed > MAX_TERMS then
    error(("cx.capacity.%s: %s erlangs on %d agents with a patience of %s s (aht %s s) has no answer within reach: "
      .. "the queue would not settle for about %.0e callers (at most %.0e here); check the inputs' units"):format(
      fname, tostring(a), n, tostring(patience), tostring(aht), needed, MAX_TERMS), level + 1)
  end
end

--- The chain's sums for `agents` serving `traffic` erlangs with patience `theta` (in handle
--- times), and, with `t` (in handle times), the answered-within-t sum.
---@return table sums {low=, busy=, queued=, waiting=, within=}
local function erlang_a_sums(agents, traffic, theta, t)
  local n, a = agents, traffic
  -- Sum over k <= n of pi_k / pi_n is 1 / ErlangB(n, a); below n everyone is answered at once.
  local b = 1.0
  for k = 1, n do b = a * b / (k + a * b) end
  local low = (b > 0) and 1 / b or math.huge
  local pn = 1.0
  local s = { low = low, busy = 1.0, queued = 0.0, waiting = 0.0, within = 0.0 }
  -- Answered within t: everyone below n; the caller arriving at k = n + j is answered within t
  -- with probability n / (n + (j+1) theta) * P(NB(r, p) >= j + 1), r = (n + theta) / theta, p = e^(-theta t).
  local r, logq, logp0, cdf, logpmf
  if t then
    r = (n + theta) / theta
    logq = math.log(one_minus_exp(theta * t))
    logp0 = -(n + theta) * t
    logpmf, cdf = logp0, math.exp(logp0)
    s.within = (low - 1) + n / (n + theta) * (1 - cdf)
  end
  local term, j = 1.0, 0
  while true do
    j = j + 1
    term = term * a / (n + j * theta)
    s.busy = s.busy + term
    s.queued = s.queued + term
    s.waiting = s.waiting + j * term
    if t then
      logpmf = logpmf + math.log((j - 1 + r) / j) + logq
      cdf = cdf + math.exp(logpmf)
      s.within = s.within + term * n / (n + (j + 1) * theta) * math.max(0, 1 - cdf)
    end
    if term > 1e150 then
      -- Rescale everything by the same factor: only ratios are ever used.
      for k, v in pairs(s) do s[k] = v / 1e150 end
      term, pn = term / 1e150, pn / 1e150
    end
    if n + j * theta > a and term < 1e-18 * (s.low + s.queued) then break end
    -- within_reach keeps every call far below this; a sum cut off would be a wrong answer.
    if j > 4 * MAX_TERMS then error("cx.capacity: the Erlang A chain did not settle", 0) end
  end
  s.pn = pn
  return s
end

--- Erlang A: `agents` serving `traffic` erlangs with handle time `aht` and mean patience
--- `patience` (seconds); exact to 1e-9, stable to thousands of agents, and defined when there
--- are fewer agents than erlangs (where Erlang C has no answer).
---@param agents integer
---@param traffic number    erlangs
---@param aht number        seconds
---@param patience number   mean time a caller waits before hanging up, seconds (> 0)
---@return { wait_probability: number, abandon_probability: number, mean_wait: number }
function M.erlang_a(agents, traffic, aht, patience)
  check("erlang_a", "agents", agents, 0, MAX_AGENTS, { whole = true })
  check("erlang_a", "traffic", traffic, 0, MAX_AGENTS)
  check("erlang_a", "aht", aht, 0, nil, { above = true })
  check("erlang_a", "patience", patience, 0, nil, { above = true })
  if traffic == 0 then return { wait_probability = 0, abandon_probability = 0, mean_wait = 0 } end
  within_reach("erlang_a", 2, agents, traffic, aht, patience)
  local theta = aht / patience
  local s = erlang_a_sums(agents, traffic, theta)
  -- Erlang B underflowed: so many agents for the traffic that nobody waits (to 1e-300).
  if s.low == math.huge then return { wait_probability = 0, abandon_probability = 0, mean_wait = 0 } end
  local total = s.low + s.queued
  local queue_length = s.waiting / total
  return {
    wait_probability = (s.pn + s.queued) / total,
    abandon_probability = theta * queue_length / traffic,
    -- Little's law over everyone who queues (those who hang up included), per arrival.
    mean_wait = queue_length / traffic * aht,
  }
end

--- Erlang A service level: the share of callers answered within `threshold` seconds (callers
--- who hang up first count as not answered).
---@param agents integer
---@param traffic number
---@param aht number
---@param patience number
---@param threshold number  seconds
---@return number service_level 0..1
function M.erlang_a_service_level(agents, traffic, aht, patience, threshold)
  check("erlang_a_service_level", "agents", agents, 0, MAX_AGENTS, { whole = true })
  check("erlang_a_service_level", "traffic", traffic, 0, MAX_AGENTS)
  check("erlang_a_service_level", "aht", aht, 0, nil, { above = true })
  check("erlang_a_service_level", "patience", patience, 0, nil, { above = true })
  check("erlang_a_service_level", "threshold", threshold, 0)
  if traffic == 0 then return 1 end
  within_reach("erlang_a_service_level", 2, agents, traffic, aht, patience)
  local s = erlang_a_sums(agents, traffic, aht / patience, threshold / aht)
  if s.low == math.huge then return 1 end
  return math.max(0, math.min(1, s.within / (s.low + s.queued)))
end

--- Agents needed (Erlang A) so that `target` of callers are answered within `threshold`
--- seconds and at most `abandon_cap` of them hang up.
---@param traffic number
---@param aht number
---@param patience number
---@param target number       0..1
---@param threshold number    seconds
---@param abandon_cap number? 0..1 (default 1: no cap)
---@return integer agents
function M.erlang_a_agents_required(traffic, aht, patience, target, threshold, abandon_cap)
  check("erlang_a_agents_required", "traffic", traffic, 0, MAX_AGENTS)
  check("erlang_a_agents_required", "aht", aht, 0, nil, { above = true })
  check("erlang_a_agents_required", "patience", patience, 0, nil, { above = true })
  check("erlang_a_agents_required", "target", target, 0, 1)
  check("erlang_a_agents_required", "threshold", threshold, 0)
  check("erlang_a_agents_required", "abandon_cap", abandon_cap, 0, 1, { optional = true })
  local cap = abandon_cap or 1
  local n = math.max(1, math.floor(traffic * 0.5))
  -- The first candidate is the costliest: fewer agents only lengthen the chain.
  if traffic > 0 then within_reach("erlang_a_agents_required", 2, n, traffic, aht, patience) end
  local found = least(n, 100000, function(m)
    return M.erlang_a_service_level(m, traffic, aht, patience, threshold) >= target
      and M.erlang_a(m, traffic, aht, patience).abandon_probability <= cap
  end)
  if found then return found end
  error(("cx.capacity.erlang_a_agents_required: %s within %s s (abandons <= %s) cannot be met with 100000 agents"):format(
    target, threshold, cap), 2)
end

return M
