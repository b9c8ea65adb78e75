--- cx.schema: the canonical queue document (DESIGN.md §10) as a table, and the `schema` rule set
--- of cx.validate: unknown fields (with the closest known one), wrong types, floats where integers
--- belong, and times that look like milliseconds. Fields the server returned that cxrun does not
--- model stay allowed when the payload keeps them as fetched.
--- Plain Lua 5.4: runs in the sandbox and under the stock interpreter.
local M = {}
local shown = require("cx.check").shown
local nearest = require("cx.names").nearest

--- Field kinds: "string", "integer", "seconds" (an integer of seconds), "boolean", a table of
--- fields, or a one-element list `{ kind }` for arrays.
M.QUEUE = {
  id = "string", name = "string", channel = "string", version = "integer",
  routing = {
    strategy = "string", longestIdleSeconds = "seconds",
    priority = { enabled = "boolean", levels = { "integer" } },
  },
  skills = { { id = "string", level = "integer" } },
  -- A proficiency is a level's name ("advanced"): the tenant refuses a number.
  skillRequirements = { { skill = "string", proficiency = "string", required = "boolean" } },
  serviceLevelTarget = { threshold = "integer", time = "seconds" },
  maxWaitTime = "seconds", maxWaiters = "integer", wrapUpTime = "seconds",
  concurrency = "integer",
  waitStrategy = { type = "string", positionThreshold = "integer", abandonmentThreshold = "seconds" },
  callback = { enabled = "boolean", positionThreshold = "integer" },
  maxHoldTime = "seconds",
  overflow = { enabled = "boolean", action = "string", targetQueueId = "string", waitTime = "seconds" },
}

--- Names people write for known fields (seeds 000–003), by what they mean.
M.ALIASES = { targetId = "targetQueueId", maxWaitTime = "waitTime", skillIds = "skills", targetIds = "targetQueueId" }

local function camel(name)
  return (name:gsub("_(%w)", function(c) return c:upper() end))
end

--- The known field an unknown `name` most likely means, and whether it is that field in snake_case.
---@return string? guess
---@return boolean snake
function M.closest(name, known)
  local c = camel(name)
  if c ~= name and known[c] ~= nil then return c, true end
  for _, candidate in ipairs { c, (c:gsub("Seconds$", "")), (c:gsub("Ids?$", "s")), M.ALIASES[c] or "" } do
    if candidate ~= "" and known[candidate] ~= nil then return candidate, false end
  end
  local names = {}
  for k in pairs(known) do
    if type(k) == "string" then names[#names + 1] = k end
  end
  return nearest(c, names), false
end

--- Whether a value of Lua type `t` is no JSON value (cx.null, which deletes the field).
local function is_null_type(t) return t ~= "table" and t ~= "string" and t ~= "number" and t ~= "boolean" end
M.is_null_type = is_null_type

--- What is wrong with `v` (of Lua type `t`) as a leaf of `kind` ("string", "boolean", "integer"
--- or "seconds") at `path`, or nil: the one rule for both passes below; true after it
--- when it is advice (a value the tenant takes).
---@return string? message
---@return boolean? advice
local function leaf_problem(kind, v, t, path)
  if kind == "string" then
    if t ~= "string" then return ("%s must be a string, got %s"):format(path, t) end
  elseif kind == "boolean" then
    if t ~= "boolean" then return ("%s must be true or false, got %s"):format(path, t) end
  elseif t ~= "number" then  -- integer or seconds
    return ("%s must be a number, got %s %s"):format(path, t, t == "string" and ("%q"):format(v) or "")
  elseif v ~= v or v == math.huge or v == -math.huge then
    -- JSON has no NaN or infinity (and tostring prints NaN as "-nan" on some platforms).
    return ("%s must be a finite number, got %s"):format(path, v ~= v and "NaN" or (v > 0 and "infinity" or "-infinity"))
  elseif v ~= math.floor(v) then
    return ("%s must be a whole number, got %s"):format(path, shown(v))
  elseif kind == "seconds" and v >= 10000 and v % 1000 == 0 then
    -- Advice: a whole number the tenant takes; it is likely not what was meant.
    -- %s, not %d: a float with no integer form (1e300) must be reported, not raise.
    return ("%s = %s looks like milliseconds (%s s); times in the queue document are seconds"):format(path, shown(v),
      shown(v // 1000)), true
  end
  return nil
end

local equal = require("cx.diff").equal

--- Why table `v` would not reach the tenant as a JSON array, or nil: the value bridge sends a
--- table as an array only when it is marked one (`cx.array`, or as fetched) or holds 1..n and
--- nothing else — so `{}` is an object, and a list with holes or other keys too.
local function list_problem(v, path)
  if getmetatable(v) == "array" then return nil end
  local n = 0
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 then return ("%s must be a list, got a table with the key %s"):format(path, tostring(k)) end
    n = n + 1
  end
  if n == 0 then return ("%s: an empty {} is sent as a JSON object; write cx.array{} for an empty list"):format(path) end
  if n ~= #v then return ("%s must be a list without holes"):format(path) end
  return nil
end

--- Why table `v` would reach the tenant as a JSON array where an object belongs, or nil.
local function object_problem(v, path)
  if getmetatable(v) == "array" then return ("%s must be a table of fields, got a list"):format(path) end
  if v[1] == nil then return nil end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  if n == #v then return ("%s must be a table of fields, got a list"):format(path) end
  return nil
end

local function check_value(kind, v, path, base, problem, advise)
  if is_null_type(type(v)) then return end
  if type(kind) == "table" and kind[1] ~= nil then
    if type(v) ~= "table" then return problem(path, "%s must be a list", path) end
    local not_list = list_problem(v, path)
    if not_list then return problem(path, not_list) end
    for i, item in ipairs(v) do
      check_value(kind[1], item, ("%s[%d]"):format(path, i), type(base) == "table" and base[i] or nil, problem, advise)
    end
  elseif type(kind) == "table" then
    if type(v) ~= "table" then return problem(path, "%s must be a table", path) end
    local not_object = object_problem(v, path)
    if not_object then return problem(path, not_object) end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)  -- problems in a stable order
    for _, k in ipairs(keys) do
      local item = v[k]
      local sub = path == "" and tostring(k) or (path .. "." .. tostring(k))
      local known = kind[k]
      if known ~= nil then
        check_value(known, item, sub, type(base) == "table" and base[k] or nil, problem, advise)
      elseif not (type(base) == "table" and equal(base[k], item)) then
        local guess, snake = M.closest(tostring(k), kind)
        local where = path == "" and "" or (path .. ".")
        -- Advice: the tenant keeps a field it does not know (as given), so it refuses none of these.
        if snake then
          advise(sub, "unknown field %s: %s is the snake_case spelling of %s%s (the document is camelCase)", sub, tostring(k), where, guess)
        elseif guess then
          advise(sub, "unknown field %s; did you mean %s%s?", sub, where, guess)
        else
          advise(sub, "unknown field %s: the queue document has no such field, so nothing would change", sub)
        end
      end
    end
  else
    local message, advice = leaf_problem(kind, v, type(v), path)
    if message then (advice and advise or problem)(path, message) end
  end
end

--- Whether `v` passes `check_value` with no problem and no field outside `kind` — the same walk
--- (leaves judged by the same `leaf_problem`) without paths or sorting. A document that passes needs nothing more; one that does
--- not (or keeps fields cxrun does not model) is checked again by `check_value`, which names what
--- is wrong. (Most payloads are valid: building every field's path and sorting every table's
--- keys to report nothing was three quarters of validate.)
---@param kind string|table a field kind of M.QUEUE, or M.QUEUE itself
---@param v any
---@return boolean
local function conforms(kind, v)
  local t = type(v)
  if is_null_type(t) then return true end
  if type(kind) == "table" then
    if t ~= "table" then return false end
    local item_kind = kind[1]
    if item_kind ~= nil then
      if list_problem(v, "") then return false end
      for _, item in ipairs(v) do
        if not conforms(item_kind, item) then return false end
      end
    else
      if object_problem(v, "") then return false end
      for k, item in pairs(v) do
        local known = kind[k]
        if known == nil or not conforms(known, item) then return false end
      end
    end
    return true
  end
  return leaf_problem(kind, v, t, "") == nil
end
M.conforms = conforms

--- The `schema` rule set (see cx.validate): the payload against M.QUEUE; `ctx.queue(id)` gives the
--- fetched document whose unmodelled fields stay allowed (asked for only when a field is not
--- modelled: it is a copy of a whole document).
function M.rule(p, ctx, problem, _, advise)
  if conforms(M.QUEUE, p) then return end
  M.report(p, ctx and ctx.queue and type(p.id) == "string" and ctx.queue(p.id) or nil, problem, advise)
end

--- Every problem of document `p` against M.QUEUE, fields of `base` (the fetched document, or nil)
--- kept as fetched allowed: the reporting pass alone. `advise` (default `problem`) takes what the
--- tenant would not refuse: unknown fields (it keeps them), times that look like milliseconds.
---@param p table
---@param base table?
---@param problem fun(path: string, message: string, ...: any)
---@param advise fun(path: string, message: string, ...: any)?
function M.report(p, base, problem, advise)
  check_value(M.QUEUE, p, "", base, problem, advise or problem)
end

return M
