--- cx.validate: the safety net before a change reaches production. Each rule set inspects a
--- payload and returns problems `{path=, rule=, message=}`; nothing here raises for bad input.
--- Plain Lua 5.4: runs in the sandbox and under the stock interpreter.
local rules = require("cx.rules")
local check = require("cx.check")
local M = {}

---@class cx.validate.Problem
---@field path string     where, e.g. `serviceLevelTarget.threshold`
---@field rule string     the rule set that found it
---@field message string  what is wrong, for people
---@field advice boolean? true when the tenant would take it all the same (a field it does not know, a time
---  that looks like milliseconds): likely a mistake, but no refusal

---@class cx.validate.Context
---@field limits table?            tenant limits: max_waiters, max_skill_requirements, max_skills,
---                                max_hold_seconds, max_overflow_depth, pause_reasons
---@field skills table?            known skills by id (nil when unknown)
---@field queue (fun(id: string): table?)?  a known queue document by id
---@field queue_ids (fun(): string[])?       every queue of the tenant (for the overflow graph upstream)
---@field upstream (fun(id: string): integer, string?)? the longest chain already leading into a queue and its
---  head (the host's fast path over queue_ids)
---@field complete boolean?        `queue` knows every queue of the tenant: a target it does not know does not exist

M.STRATEGIES = rules.set(rules.STRATEGIES)
M.CHANNELS = rules.set(rules.CHANNELS)
M.DEFAULT_LIMITS = rules.DEFAULT_LIMITS

local function is_int(v) return math.type(v) == "integer" or (type(v) == "number" and v == math.floor(v)) end
local function is_table(v) return type(v) == "table" end

local function limit(ctx, key)
  local limits = ctx and ctx.limits
  local v = limits and limits[key]
  if v == nil then v = M.DEFAULT_LIMITS[key] end
  return v
end

--- A problem collector for one rule set, and its twin for advice (`advice = true`).
local function collector(rule, out)
  local function add(advice, path, message, ...)
    out[#out + 1] = { path = path, rule = rule, message = select("#", ...) > 0 and message:format(...) or message, advice = advice }
  end
  return function(...) add(nil, ...) end, function(...) add(true, ...) end
end

--- Whether `v` is absent or an integer in lo..hi (what `range` accepts).
local function within(v, lo, hi)
  return v == nil or (is_int(v) and v >= lo and v <= hi)
end

local function range(problem, path, v, lo, hi)
  if within(v, lo, hi) then return end
  -- Worded as the schema words it, so a payload checked by both shows the mistake once.
  if not is_int(v) then return problem(path, "%s must be a whole number, got %s", path, check.shown(v)) end
  problem(path, "%s must be between %d and %d, got %s", path, lo, hi, check.shown(v))
end

M.rules = {}

--- schema: known fields only (the closest known one named), right types, seconds not milliseconds.
local schema = require("cx.schema")
M.rules.schema = schema.rule

--- fields: values the platform accepts for the queue's own fields — a known channel, a name,
--- concurrency and wrap-up in range — and, in a whole document (one with the `id` or `version`
--- fetch gave it), the fields no queue is without. (Without it a payload the tenant refuses passed
--- as valid: `{version = q.version, maxWaitTime = 300}` would have replaced the queue with one field.)
function M.rules.fields(p, _, problem)
  if p.id ~= nil or p.version ~= nil then
    for _, path in ipairs(rules.REQUIRED_FIELDS) do
      local v = p
      for key in path:gmatch("[^.]+") do v = is_table(v) and v[key] or nil end
      if schema.is_null_type(type(v)) then
        problem(path, "%s is required: a deploy replaces the whole queue, so build the payload from fetch()", path)
      end
    end
  end
  if p.channel ~= nil and not M.CHANNELS[p.channel] then
    problem("channel", "channel must be one of %s, got '%s'", table.concat(rules.CHANNELS, ", "), tostring(p.channel))
  end
  if p.name ~= nil and (type(p.name) ~= "string" or p.name == "") then problem("name", "name must be a non-empty string") end
  range(problem, "concurrency", p.concurrency, 1, rules.MAX_CONCURRENCY)
  range(problem, "wrapUpTime", p.wrapUpTime, 0, rules.MAX_WRAP_UP_SECONDS)
  if is_table(p.routing) then range(problem, "routing.longestIdleSeconds", p.routing.longestIdleSeconds, 0, rules.MAX_LONGEST_IDLE_SECONDS) end
end

--- routing: a known strategy; `priority` needs priority enabled with positive levels;
--- `skill_based` needs skills.
function M.rules.routing(p, ctx, problem)
  local routing = p.routing
  if routing == nil then return end
  if not is_table(routing) then return problem("routing", "routing must be a table") end
  local s = routing.strategy
  if s ~= nil and not M.STRATEGIES[s] then
    problem("routing.strategy", "unknown routing strategy '%s'", tostring(s))
  end
  if s == "priority" then
    local pr = routing.priority
    if not is_table(pr) or pr.enabled ~= true then
      problem("routing.priority.enabled", "the priority strategy needs priority.enabled = true")
    end
    local levels = is_table(pr) and pr.levels or nil
    if not is_table(levels) or #levels == 0 then
      problem("routing.priority.levels", "the priority strategy needs at least one priority level")
    else
      for i, level in ipairs(levels) do
        if not is_int(level) or level < 1 then
          problem(("routing.priority.levels[%d]"):format(i), "priority levels must be positive integers")
        elseif level > limit(ctx, "max_priority_level") then
          -- %s, not %d: a payload's number may be a float with no integer form (1e300), and a
          -- validator must report it, not raise.
          problem(("routing.priority.levels[%d]"):format(i), "priority level %s is beyond the tenant's licence (at most %d)",
            tostring(level), limit(ctx, "max_priority_level"))
        end
      end
    end
  elseif s == "skill_based" and (not is_table(p.skills) or #p.skills == 0) then
    problem("skills", "the skill_based strategy needs at least one skill")
  end
end

--- sla: threshold 0–100 (percent), time 1–300 seconds.
function M.rules.sla(p, _, problem)
  local sla = p.serviceLevelTarget
  if sla == nil then return end
  if not is_table(sla) then return problem("serviceLevelTarget", "serviceLevelTarget must be a table") end
  range(problem, "serviceLevelTarget.threshold", sla.threshold, 0, 100)
  range(problem, "serviceLevelTarget.time", sla.time, 1, 300)
end

--- hold_time: regulatory caps on hold and abandonment times (tenant max_hold_seconds, default 300).
function M.rules.hold_time(p, ctx, problem)
  local cap = limit(ctx, "max_hold_seconds")
  range(problem, "maxHoldTime", p.maxHoldTime, 0, cap)
  if is_table(p.waitStrategy) then
    range(problem, "waitStrategy.abandonmentThreshold", p.waitStrategy.abandonmentThreshold, 0, cap)
  end
end

--- license: max waiters, skill requirements and skill assignments within tenant limits.
function M.rules.license(p, ctx, problem)
  range(problem, "maxWaiters", p.maxWaiters, 1, limit(ctx, "max_waiters"))
  if is_table(p.skillRequirements) and #p.skillRequirements > limit(ctx, "max_skill_requirements") then
    problem("skillRequirements", "at most %d skill requirements, got %d", limit(ctx, "max_skill_requirements"), #p.skillRequirements)
  end
  if is_table(p.skills) and #p.skills > limit(ctx, "max_skills") then
    problem("skills", "at most %d skill assignments, got %d", limit(ctx, "max_skills"), #p.skills)
  end
end

--- Skill requirements: each a table whose `skill`, `proficiency` and `required`, when given, are
--- not null (the tenant refuses a null one, where elsewhere null clears a field).
---@param reqs any
---@param problem fun(path: string, message: string, ...: any)
local function skill_requirements(reqs, problem)
  if not is_table(reqs) then return end
  for i, r in ipairs(reqs) do
    if not is_table(r) then
      problem(("skillRequirements[%d]"):format(i), "each skill requirement must be a table {skill=, proficiency=, required=}")
    else
      for _, key in ipairs { "skill", "proficiency", "required" } do
        local v = rawget(r, key)
        if v ~= nil and schema.is_null_type(type(v)) then
          problem(("skillRequirements[%d].%s"):format(i, key), "skillRequirements[%d].%s must not be null (leave it out instead)", i, key)
        end
      end
    end
  end
end

--- skills: levels 1–5, no duplicates, non-empty ids, and known skills when the run knows them;
--- skill requirements without null entries or fields.
function M.rules.skills(p, ctx, problem)
  skill_requirements(p.skillRequirements, problem)
  local skills = p.skills
  if skills == nil then return end
  if not is_table(skills) then return problem("skills", "skills must be a list") end
  local known = ctx and is_table(ctx.skills) and ctx.skills or nil
  local seen = {}
  -- Paths are made only for problems: a valid list (the usual case) builds no string.
  for i, s in ipairs(skills) do
    if not is_table(s) then
      problem(("skills[%d]"):format(i), "each skill must be a table {id=, level=}")
    else
      local id = s.id
      if type(id) ~= "string" or id == "" then
        problem(("skills[%d].id"):format(i), "skill ids must be non-empty strings")
      elseif seen[id] then
        problem(("skills[%d].id"):format(i), "skill %s is assigned twice", id)
      else
        seen[id] = true
        if known and known[id] == nil then
          problem(("skills[%d].id"):format(i), "skill %s does not exist in this tenant", id)
        end
      end
      if not within(s.level, 1, 5) then range(problem, ("skills[%d].level"):format(i), s.level, 1, 5) end
    end
  end
end

--- The overflow graph over the queues `ids` (each looked up with `lookup`): a function giving, for a
--- queue id, the longest chain of enabled routeToQueue links already leading into it (not through
--- the queue itself) and the queue that chain starts at. Built once, asked for many queues.
---@param ids string[]
---@param lookup fun(id: string): table?
---@return fun(id: string): integer, string?
function M.upstream_index(ids, lookup)
  local into = {}
  for _, id in ipairs(ids) do
    local other = lookup(id)
    local qo = type(other) == "table" and other.overflow or nil
    if is_table(qo) and qo.enabled ~= false and qo.action == "routeToQueue" and type(qo.targetQueueId) == "string" then
      local list = into[qo.targetQueueId] or {}
      into[qo.targetQueueId] = list
      list[#list + 1] = id
    end
  end
  local function longest(id, visiting)
    local best, from = 0, nil
    for _, pred in ipairs(into[id] or {}) do
      if not visiting[pred] then
        visiting[pred] = true
        local n, head = longest(pred, visiting)
        visiting[pred] = nil
        if n + 1 > best then best, from = n + 1, head or pred end
      end
    end
    return best, from
  end
  return function(id) return longest(id, { [id] = true }) end
end

--- overflow: a valid action; a target for routeToQueue that exists and is not the queue itself;
--- across the known queues (with this payload applied) no cycle and depth within the limit.
function M.rules.overflow(p, ctx, problem)
  local o = p.overflow
  if o == nil then return end
  if not is_table(o) then return problem("overflow", "overflow must be a table") end
  if o.action ~= nil and o.action ~= "routeToQueue" and o.action ~= "drop" then
    problem("overflow.action", "overflow action must be routeToQueue or drop, got '%s'", tostring(o.action))
  end
  local target = o.targetQueueId
  if o.action == "routeToQueue" and (type(target) ~= "string" or target == "") then
    problem("overflow.targetQueueId", "routeToQueue needs a targetQueueId")
  end
  range(problem, "overflow.waitTime", o.waitTime, 30, 600)
  -- A target is checked whatever the action (the tenant refuses one that does not exist, or is
  -- this queue, even on a drop or a disabled overflow); the chain only when it routes.
  if type(target) ~= "string" or target == "" then return end
  if target == p.id then return problem("overflow.targetQueueId", "a queue cannot overflow to itself") end
  local lookup = ctx and ctx.queue
  if not lookup then return end
  -- Each queue of the chain is looked up once (a lookup copies a whole document).
  local q = lookup(target)
  if q == nil then
    if ctx.complete then return problem("overflow.targetQueueId", "overflow target queue %s does not exist in this tenant", target) end
    return problem("overflow.targetQueueId", "overflow target queue %s is not known in this run (fetch it or list queues first)", target)
  end
  if o.enabled == false or o.action ~= "routeToQueue" then return end
  -- Walk the overflow chain with this payload in place of the stored queue.
  local depth, seen, current = 1, { [p.id or "(this queue)"] = true }, target
  while current do
    if seen[current] then
      return problem("overflow.targetQueueId", "overflow forms a cycle through queue %s", current)
    end
    seen[current] = true
    local next_o = q and q.overflow
    if not is_table(next_o) or next_o.enabled == false or next_o.action ~= "routeToQueue" then break end
    depth = depth + 1
    current = next_o.targetQueueId
    if current == p.id then return problem("overflow.targetQueueId", "overflow forms a cycle back to this queue") end
    q = current ~= nil and not seen[current] and lookup(current) or nil
  end
  -- Links that already lead into this queue count too (a chain built one link at a time).
  local upstream, via = 0, nil
  if ctx.upstream and p.id then
    local head
    upstream, head = ctx.upstream(p.id)
    via = type(head) == "string" and head or nil
  elseif ctx.queue_ids and p.id then
    upstream, via = M.upstream_index(ctx.queue_ids(), lookup)(p.id)
  end
  if upstream + depth > limit(ctx, "max_overflow_depth") then
    problem("overflow.targetQueueId", "overflow chain is %d deep%s; the tenant allows %d", upstream + depth,
      upstream > 0 and (" counting %d link(s) into this queue (the chain starts at %s)"):format(upstream, via) or "",
      limit(ctx, "max_overflow_depth"))
  end
end

--- wait_strategy: position thresholds in range, callback threshold ≤ position threshold.
function M.rules.wait_strategy(p, _, problem)
  local w, cb = p.waitStrategy, p.callback
  range(problem, "maxWaitTime", p.maxWaitTime, 1, rules.MAX_WAIT_SECONDS)
  if is_table(w) then range(problem, "waitStrategy.positionThreshold", w.positionThreshold, 1, 50) end
  if is_table(cb) then
    range(problem, "callback.positionThreshold", cb.positionThreshold, 1, 50)
    if cb.enabled == true and is_table(w) and is_int(w.positionThreshold) and is_int(cb.positionThreshold)
        and cb.positionThreshold > w.positionThreshold then
      problem("callback.positionThreshold", "the callback threshold (%s) must not exceed the position threshold (%s)",
        tostring(cb.positionThreshold), tostring(w.positionThreshold))
    end
  end
end

--- capacity: the seed's utilization check (≤ 0.90, concurrent ≤ 2× agents) and an Erlang C
--- check that the SLA target is reachable, both counting the queue's `concurrency` (contacts an
--- agent takes at once: chat). Needs `opts.forecast = {offered=, period=, aht=, agents=,
--- concurrent=?}` (period and aht in seconds); without a forecast it finds nothing.
function M.rules.capacity(p, ctx, problem, opts)
  local f = opts and opts.forecast
  if type(f) ~= "table" then return end
  local capacity = require("cx.capacity")
  local function finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end
  local aht, agents = tonumber(f.aht), tonumber(f.agents)
  if not finite(aht) or aht <= 0 or not finite(agents) or agents < 0 then
    return problem("forecast", "the capacity forecast needs a finite aht > 0 and agents >= 0")
  end
  for _, key in ipairs({ "offered", "period", "concurrent" }) do
    if f[key] ~= nil and not finite(tonumber(f[key])) then
      return problem("forecast." .. key, "the capacity forecast's %s must be a finite number", key)
    end
  end
  -- The math raises on what it cannot answer (a negative count, traffic past a million erlangs,
  -- a target no staffing meets): for a validator that is a problem to report, never an error.
  local ok, err = pcall(function()
    local traffic = capacity.erlangs(tonumber(f.offered) or 0, tonumber(f.period) or 3600, aht)
    local concurrent = tonumber(f.concurrent) or traffic
    local per_agent = is_int(p.concurrency) and p.concurrency >= 1 and p.concurrency or 1
    local utilization, why = capacity.utilization(agents, concurrent, aht, p.wrapUpTime or 0, per_agent)
    if why then problem("forecast", "%s (utilization %.2f with %s agents)", why, utilization, tostring(agents)) end
    local sla = p.serviceLevelTarget
    if is_table(sla) and is_int(sla.threshold) and is_int(sla.time) then
      local reached = capacity.service_level(math.floor(agents) * per_agent, traffic, aht, sla.time)
      if reached * 100 < sla.threshold then
        local needed = capacity.agents_required(traffic, aht, sla.threshold / 100, sla.time, 0, per_agent)
        problem("serviceLevelTarget", "%s%% in %ss is not reachable with %s agents (Erlang C: %.0f%%; needs %d)",
          tostring(sla.threshold), tostring(sla.time), tostring(agents), reached * 100, needed)
      end
    end
  end)
  if not ok then problem("forecast", "the capacity check cannot be evaluated: %s", (tostring(err):gsub("^[^:]*:%d+: ", ""))) end
  local _ = ctx
end

M.STATUSES = rules.set(rules.STATUSES)
local STATUS_ROLES = rules.set(rules.STATUS_ROLES)

--- agent_status: a known status; Break needs a pause reason from the tenant's list; role Agent
--- or Supervisor; inside the shift window. Payload: `{status=, pause_reason=, roles=|role=,
--- shift={start=, ["end"]=, onShift=}, now=}` (times in seconds). The tenant's `onShift` (an
--- agent's `shiftSchedule` as fetched) decides when given and `now` is not, as the binding lets
--- the tenant's clock decide: a test tenant's pinned clock is not this machine's. Otherwise `now`
--- (default os.time()) must fall within start..end.
function M.rules.agent_status(p, ctx, problem)
  local path, message = rules.status_request_problem(p, { pause_reasons = limit(ctx, "pause_reasons") })
  if path then problem(path, message) end
  local roles = p.roles or (p.role and { p.role }) or {}
  local eligible = false
  for _, r in ipairs(roles) do
    local name = type(r) == "table" and r.name or r
    if STATUS_ROLES[name] then eligible = true end
  end
  if not eligible then problem("role", "only %s can change status", table.concat(rules.STATUS_ROLES, " or ")) end
  local shift = p.shift
  if not is_table(shift) then return end
  local inside
  if type(shift.onShift) == "boolean" and p.now == nil then
    inside = shift.onShift
  elseif type(shift.start) == "number" and type(shift["end"]) == "number" then
    local now = p.now or os.time()
    inside = now >= shift.start and now < shift["end"]
  end
  if inside == false then problem("shift", "outside the shift window") end
end

--- Every problem on one line, for a runbook's report: `path: message; path: message`.
---@param problems cx.validate.Problem[]
---@return string
function M.describe(problems)
  local parts = {}
  for _, p in ipairs(problems) do parts[#parts + 1] = (p.path ~= "" and (p.path .. ": ") or "") .. p.message end
  return table.concat(parts, "; ")
end

--- The rule sets that apply to a queue document by default.
M.QUEUE_RULES = { "schema", "fields", "routing", "sla", "hold_time", "license", "skills", "overflow", "wait_strategy" }

--- The problems a custom rule reported, whichever way it said them: nil, true or an empty list for
--- none; a list of `{path=, message=, rule=}` (or of strings); one such table on its own; false
--- (with a reason after it) or a string for one problem. A rule that says "no" in any form must
--- never be read as "valid"; what cannot be read as an answer raises (a script bug, not a bad payload).
---@param index integer the rule's place in `opts.rules`, to name it
---@param result any
---@param reason any a second value after `false`
---@return cx.validate.Problem[]
local function custom_problems(index, result, reason)
  local function problem(path, message, rule)
    return { path = path ~= nil and tostring(path) or "", rule = rule ~= nil and tostring(rule) or "custom", message = message }
  end
  if result == nil or result == true then return {} end
  if result == false then
    return { problem("", reason ~= nil and tostring(reason) or ("custom rule #%d returned false"):format(index)) }
  end
  if type(result) == "string" then return { problem("", result) } end
  if type(result) ~= "table" then
    error(("validate: custom rule #%d returned a %s; return nil, or a list of problems {path=, message=}"):format(index, type(result)), 0)
  end
  if rawget(result, "message") ~= nil or rawget(result, "path") ~= nil then result = { result } end
  local out = {}
  for _, p in ipairs(result) do
    if type(p) == "table" then
      out[#out + 1] = problem(p.path, p.message ~= nil and tostring(p.message) or ("custom rule #%d found a problem"):format(index), p.rule)
    else
      out[#out + 1] = problem("", tostring(p))
    end
  end
  if #out == 0 and next(result) ~= nil then
    error(("validate: custom rule #%d returned a table that is not a list of problems {path=, message=}"):format(index), 0)
  end
  return out
end

--- Runs rule sets over `payload`. `opts.rules` names the rule sets to run (the defaults when it
--- names none) and may add functions `(payload, ctx)` that run after them (see custom_problems for
--- what they return); `capacity` and `agent_status` run only when named.
---@param payload table
---@param opts { rules: (string|function)[]? }?
---@param ctx cx.validate.Context?
---@return boolean ok
---@return cx.validate.Problem[] problems
function M.run(payload, opts, ctx)
  local problems = {}
  if type(payload) ~= "table" then
    return false, { { path = "", rule = "payload", message = "the payload must be a table, got " .. type(payload) } }
  end
  -- Raised at level 0: the host places what validate refuses at the script's call.
  opts = check.options("validate", opts, { rules = "table", forecast = "table" }, 0)
  local given = opts.rules
  local names, custom = {}, {}
  for i, rule in ipairs(given or {}) do
    if type(rule) == "function" then custom[#custom + 1] = { i, rule } else names[#names + 1] = rule end
  end
  -- Functions extend; they never stand in for the default rule sets.
  if #names == 0 then names = M.QUEUE_RULES end
  for _, rule in ipairs(names) do
    if type(rule) == "string" and M.rules[rule] then
      local problem, advise = collector(rule, problems)
      M.rules[rule](payload, ctx, problem, opts, advise)
    else
      problems[#problems + 1] = { path = "", rule = tostring(rule), message = "unknown rule set '" .. tostring(rule) .. "'" }
    end
  end
  for _, c in ipairs(custom) do
    for _, p in ipairs(custom_problems(c[1], c[2](payload, ctx))) do problems[#problems + 1] = p end
  end
  return #problems == 0, M.once(problems)
end

--- The problems with each mistake once: a repeat (the same message at the same path, found by a
--- second rule set) is left out, and so is another rule set's problem at a path whose value the
--- schema already refused (a level of 2.5 is not a whole number; that it is no positive integer
--- says it again).
---@param problems cx.validate.Problem[]
---@return cx.validate.Problem[]
function M.once(problems)
  local refused = {}
  for _, p in ipairs(problems) do
    if p.rule == "schema" and not p.advice then refused[p.path] = true end
  end
  local seen, out = {}, {}
  for _, p in ipairs(problems) do
    local key = tostring(p.path) .. "\0" .. tostring(p.message)
    if not seen[key] and (p.rule == "schema" or not refused[p.path]) then
      seen[key] = true
      out[#out + 1] = p
    end
  end
  return out
end

return M
