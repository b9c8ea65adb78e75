--- cx.params: a runbook's KEY=VALUE arguments, declared. Read straight from cx.args, a misspelt
--- argument (`chanel=chat`) was absent, so the run went on with the default (the voice queues),
--- and a value that is not a number (`limit=1O`) quietly became the default too. Declared, both
--- stop the run at the declaration's line before anything is called, naming the argument.
--- Plain Lua 5.4: runs in the sandbox and under the stock interpreter.
local M = {}
local nearest = require("cx.names").nearest

---@class cx.params.Spec
---@field type ("string"|"number"|"integer"|"boolean"|"list")?  default "string"; a list is comma-separated
---@field item ("string"|"number"|"integer")?  a list's items (default "string")
---@field default any                   the value when the argument is not given
---@field one_of string[]?               the values allowed (strings, and a list's items)
---@field min number?                    numbers (and a list's numbers): at least this
---@field max number?                    ... and at most this

local BOOLEANS = { ["true"] = true, yes = true, ["1"] = true, ["false"] = false, no = false, ["0"] = false }

--- One value (text from the command line, or a value a test passed) as `kind`; nil and why when it is not one.
local function convert(text, kind, spec)
  if kind == "string" then return tostring(text) end
  if kind == "boolean" then
    if type(text) == "boolean" then return text end
    local b = BOOLEANS[tostring(text):lower()]
    if b == nil then return nil, "must be true or false" end
    return b
  end
  local n = tonumber(text)
  if n == nil or n ~= n or n == math.huge or n == -math.huge then return nil, "must be a number" end
  if kind == "integer" then
    n = math.tointeger(n)
    if n == nil then return nil, "must be a whole number" end
  end
  if spec.min and n < spec.min then return nil, ("must be at least %s"):format(spec.min) end
  if spec.max and n > spec.max then return nil, ("must be at most %s"):format(spec.max) end
  return n
end

local function allowed(value, spec)
  if not spec.one_of then return true end
  for _, v in ipairs(spec.one_of) do if v == value then return true end end
  return false
end

--- The values `spec.one_of` allows, for a message ("(none)" for an empty list).
local function choices(spec)
  return #spec.one_of > 0 and table.concat(spec.one_of, ", ") or "(none)"
end

local KINDS = { string = true, number = true, integer = true, boolean = true, list = true }

--- Why `v`, a spec's default (or one of a list default's items), is not a value of `kind` within
--- the spec's min and max; nil when it is. Checked against the spec, as an argument given is:
--- `default = "5"` for an integer reached the script as a string, whatever the spec said.
local function default_problem(v, kind, spec)
  local ok
  if kind == "string" then ok = type(v) == "string"
  elseif kind == "boolean" then ok = type(v) == "boolean"
  elseif kind == "integer" then ok = math.type(v) == "integer"
  else ok = type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end
  if not ok then
    return ("is %s, not %s"):format(type(v) == "string" and ("%q"):format(v) or tostring(v),
      kind == "integer" and "a whole number" or kind == "number" and "a number" or ("a " .. kind))
  end
  if kind == "integer" or kind == "number" then
    if spec.min and v < spec.min then return ("%s is below its min %s"):format(v, spec.min) end
    if spec.max and v > spec.max then return ("%s is above its max %s"):format(v, spec.max) end
  end
  return nil
end
local ITEM_KINDS = { string = true, number = true, integer = true }
local SPEC_KEYS = { type = true, item = true, default = true, one_of = true, min = true, max = true }

--- Reads `args` (cx.args) as `spec` declares them: name -> cx.params.Spec. Returns a table of every
--- declared argument, converted, or its default. Raises at the caller's line for an argument given
--- that is not declared (naming the nearest declared one), or a value that is not what its spec
--- wants, or a declared name given with no value (`-- force`), or an argument with no name at all
--- (`-- chat`: read as absent, the run went on with the default channel, the voice queues). A
--- runbook that takes positional arguments too says so with `opts.positional = true`; they are
--- then left alone (cx.args[1..n]).
---@param args table cx.args
---@param spec table<string, cx.params.Spec>
---@param opts { positional: boolean? }?
---@return table<string, any>
function M.read(args, spec, opts)
  if type(spec) ~= "table" then error(("cx.params.read: spec must be a table, got %s"):format(type(spec)), 2) end
  local positional = require("cx.check").options("cx.params.read", opts, { positional = "boolean" }).positional
  local names = {}
  for name, s in pairs(spec) do
    -- The spec is the runbook's own: a misspelt `tpye` would make every argument a string.
    if type(name) ~= "string" or type(s) ~= "table" then
      error(("cx.params.read: spec.%s must be a table such as {type = \"integer\"}"):format(tostring(name)), 2)
    end
    for key in pairs(s) do
      if not SPEC_KEYS[key] then
        error(("cx.params.read: spec.%s has unknown key '%s' (known: default, item, max, min, one_of, type)"):format(name, tostring(key)), 2)
      end
    end
    if s.type ~= nil and not KINDS[s.type] then
      error(("cx.params.read: spec.%s.type must be string, number, integer, boolean or list, got %s"):format(name, tostring(s.type)), 2)
    end
    if s.item ~= nil and not ITEM_KINDS[s.item] then
      error(("cx.params.read: spec.%s.item must be string, number or integer, got %s"):format(name, tostring(s.item)), 2)
    end
    if s.default ~= nil then
      local kind, why = s.type or "string", nil
      if kind ~= "list" then
        why = default_problem(s.default, kind, s)
      elseif type(s.default) ~= "table" then
        why = ("is %s, not a list"):format(type(s.default))
      else
        for i, item in ipairs(s.default) do
          local problem = default_problem(item, s.item or "string", s)
          if problem then why = ("item %d %s"):format(i, problem) break end
        end
      end
      if why then error(("cx.params.read: spec.%s.default %s"):format(name, why), 2) end
    end
    names[#names + 1] = name
  end
  table.sort(names)
  local function fail(fmt, ...) error(("argument " .. fmt):format(...), 3) end
  local given = {}
  for key in pairs(args or {}) do
    if type(key) == "string" then given[#given + 1] = key end
  end
  table.sort(given)
  -- `-- force` (no `=`) is cx.args[1], not cx.args.force: read as absent, it was the default.
  for _, word in ipairs(args or {}) do
    if type(word) == "string" and spec[word] ~= nil then
      fail("%s has no value: give it as %s=VALUE", word, word)
    end
  end
  -- `-- chat` is cx.args[1] alone: read as absent, the run went on with the default.
  for _, word in ipairs(positional and {} or args or {}) do
    local text = tostring(word)
    if not text:find("^[%a_][%w_]*=") then
      local meant
      for _, name in ipairs(names) do
        for _, value in ipairs(spec[name].one_of or {}) do
          if tostring(value):lower() == text:lower() then meant = meant or (name .. "=" .. tostring(value)) end
        end
      end
      fail("%s has no name: this runbook takes NAME=VALUE arguments (%s)%s", text,
        #names > 0 and table.concat(names, ", ") or "none", meant and ("; did you mean " .. meant .. "?") or "")
    end
  end
  for _, key in ipairs(given) do
    if spec[key] == nil then
      local near = nearest(key, names)
      fail("%s is not one this runbook takes%s; it takes: %s", key, near and (" (did you mean " .. near .. "?)") or "",
        #names > 0 and table.concat(names, ", ") or "none")
    end
  end
  local out = {}
  for _, name in ipairs(names) do
    local s, text = spec[name], args and args[name]
    local kind = s.type or "string"
    if text == nil then
      -- A default outside one_of (a list the tenant gave, e.g. its configured webhooks) would
      -- fail later, at its use: it is refused here, before any call, as a given value is.
      if s.default ~= nil and kind ~= "list" and not allowed(s.default, s) then
        fail("%s=%s (its default) must be one of %s; give %s=VALUE", name, tostring(s.default), choices(s), name)
      end
      out[name] = s.default
    elseif kind == "list" then
      local list = {}
      local whole = tostring(text)
      -- `levels=1,,2` is a slip (a value left out), not the list 1,2; `levels=` is the empty list.
      if whole:find("%S") and (whole:find(",%s*,") or whole:find("^%s*,") or whole:find(",%s*$")) then
        fail("%s=%s has an empty item", name, whole)
      end
      for item in whole:gmatch("[^,]+") do
        item = item:match("^%s*(.-)%s*$")
        local v, why = convert(item, s.item or "string", s)
        if v == nil then fail("%s: item '%s' %s", name, item, why) end
        if not allowed(v, s) then fail("%s: item '%s' must be one of %s", name, item, choices(s)) end
        list[#list + 1] = v
      end
      out[name] = list
    else
      local v, why = convert(text, kind, s)
      if v == nil then fail("%s=%s %s", name, tostring(text), why) end
      if not allowed(v, s) then fail("%s=%s must be one of %s", name, tostring(text), choices(s)) end
      out[name] = v
    end
  end
  return out
end

return M
