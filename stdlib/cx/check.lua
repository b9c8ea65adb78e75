--- cx.check: argument checks for the stdlib's math, so a bad input fails at the caller's line,
--- naming the function and the argument, instead of coming out as a number (NaN compares false
--- with everything: a NaN answer rate or capacity silently became a "safe" setting).
--- Plain Lua 5.4: runs in the sandbox and under the stock interpreter.
local M = {}

--- A value as a message shows it: a number as it reads back (`300.00000000000006`, where tostring
--- gives "300.0" and a message read "must be a whole number, got 300.0"), NaN as `NaN` (not the
--- platform's "-nan"); anything else as tostring.
---@param v any
---@return string
function M.shown(v)
  if type(v) ~= "number" then return tostring(v) end
  if v ~= v then return "NaN" end
  local s = tostring(v)
  if math.type(v) == "float" and tonumber(s) ~= v then s = ("%.17g"):format(v) end
  return s
end

--- A checker for the functions of `module` (`"cx.capacity"`): `check(fn, name, v, lo, hi, opts)`
--- raises at the caller of `fn` unless `v` is a finite number in [lo, hi] (nil: that side open;
--- `opts.above` makes lo exclusive, `opts.whole` wants an integer value, `opts.optional` lets nil
--- through), and returns `v`.
---@param module string
---@return fun(fn: string, name: string, v: any, lo: number?, hi: number?, opts: { above: boolean?, optional: boolean?, whole: boolean? }?): number?
function M.number(module)
  return function(fn, name, v, lo, hi, opts)
    opts = opts or {}
    if v == nil and opts.optional then return nil end
    local problem
    if type(v) ~= "number" then
      problem = ("must be a number, got %s"):format(v == nil and "nil" or type(v))
    elseif v ~= v or v == math.huge or v == -math.huge then
      problem = ("must be a finite number, got %s"):format(M.shown(v))
    elseif lo and (v < lo or (opts.above and v == lo)) then
      problem = ("must be %s %s, got %s"):format(opts.above and ">" or ">=", M.shown(lo), M.shown(v))
    elseif hi and v > hi then
      problem = ("must be <= %s, got %s"):format(M.shown(hi), M.shown(v))
    elseif opts.whole and v ~= math.floor(v) then
      problem = ("must be a whole number, got %s"):format(M.shown(v))
    end
    -- Level 3: past this checker and the stdlib function, at the script's call.
    if problem then error(("%s.%s: %s %s"):format(module, fn, name, problem), 3) end
    return v
  end
end

--- Checks an options table at the caller of the function that received it: nil, or a table whose
--- keys are all in `known` (name -> the type its value must have: "string", "boolean", "table",
--- "function", "number"). A misspelt key read as absent changed what a call did without a word
--- (`{concurency = 2}` ran with the default). Raises `"<fn>: unknown option 'k'; known: a, b"`.
---@param fn string the function, as the script calls it (`cx.each`)
---@param opts any
---@param known table<string, string>
---@param level integer? where to raise (default 3: the caller of the function that checks)
---@param name string? the table's name in messages (default "opts": "unknown option 'x'", "opts.x must be")
---@return table opts the options, {} for nil
function M.options(fn, opts, known, level, name)
  level = level or 3
  local prefix = name or "opts"
  local noun = prefix == "opts" and "option" or (prefix .. " field")
  if opts == nil then return {} end
  local names = {}
  for k in pairs(known) do names[#names + 1] = k end
  table.sort(names)
  if type(opts) ~= "table" then
    error(("%s: %s must be a table (known: %s), got %s"):format(fn, prefix, table.concat(names, ", "), type(opts)), level)
  end
  for k, v in pairs(opts) do
    local want = known[k]
    if want == nil then
      local near = type(k) == "string" and require("cx.names").nearest(k, names)
      error(("%s: unknown %s %s%s; known: %s"):format(fn, noun, type(k) == "string" and ("'" .. k .. "'") or tostring(k),
        near and (" (did you mean " .. near .. "?)") or "", table.concat(names, ", ")), level)
    end
    if type(v) ~= want then error(("%s: %s.%s must be a %s, got %s"):format(fn, prefix, k, want, type(v)), level) end
  end
  return opts
end

return M
