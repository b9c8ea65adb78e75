--- cx.diff: deep structural diff of JSON-like values (tables, strings, numbers, booleans, null).
--- Used by dry runs to show what a change would do. Plain Lua 5.4: runs in the sandbox and
--- under the stock interpreter.
local M = {}

---@class cx.diff.Change
---@field path string  where the values differ, e.g. `routing.strategy` or `skills[2].level`
---@field from any     the old value (nil when added)
---@field to any       the new value (nil when removed)

--- True when `t` is a sequence 1..n (or is marked as an array by the host).
---@param t table
---@return boolean
local function is_array(t)
  if getmetatable(t) == "array" then return true end
  local n = #t
  if n == 0 then return false end
  local count = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
    count = count + 1
  end
  return count == n
end
M.is_array = is_array

local function join(path, key, array)
  if array then return ("%s[%d]"):format(path, key) end
  if path == "" then return tostring(key) end
  return path .. "." .. tostring(key)
end

local function sorted_keys(a, b)
  local seen, keys = {}, {}
  for _, t in ipairs({ a, b }) do
    for k in pairs(t) do
      if not seen[k] then
        seen[k] = true
        keys[#keys + 1] = k
      end
    end
  end
  table.sort(keys, function(x, y)
    if type(x) == type(y) then return x < y end
    return type(x) == "number"
  end)
  return keys
end

local function walk(a, b, path, out)
  if a == b then return end
  if type(a) == "table" and type(b) == "table" then
    local array = is_array(a) and is_array(b)
    for _, k in ipairs(sorted_keys(a, b)) do
      walk(a[k], b[k], join(path, k, array and math.type(k) == "integer"), out)
    end
    return
  end
  out[#out + 1] = { path = path == "" and "(root)" or path, from = a, to = b }
end

--- Lists what differs between `a` and `b`, sorted by path; an empty list when they are equal.
---@param a any
---@param b any
---@return cx.diff.Change[]
function M.diff(a, b)
  local out = {}
  walk(a, b, "", out)
  return out
end

--- The changed paths only.
---@param changes cx.diff.Change[]
---@return string[]
--- True when `a` and `b` are the same value, deeply.
---@return boolean
function M.equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  return #M.diff(a, b) == 0
end

function M.paths(changes)
  local paths = {}
  for i, c in ipairs(changes) do paths[i] = c.path end
  return paths
end

--- Renders a value compactly and deterministically (sorted keys), for diff output.
---@param v any
---@return string
function M.render(v)
  if type(v) == "string" then return ("%q"):format(v) end
  if type(v) ~= "table" then return tostring(v) end
  local parts = {}
  if is_array(v) then
    for i = 1, #v do parts[i] = M.render(v[i]) end
    return "[" .. table.concat(parts, ", ") .. "]"
  end
  for _, k in ipairs(sorted_keys(v, {})) do parts[#parts + 1] = tostring(k) .. "=" .. M.render(v[k]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

--- Formats changes one per line: `path: old -> new` (`+ path: new` added, `- path: old` removed).
---@param changes cx.diff.Change[]
---@return string
function M.format(changes)
  local lines = {}
  for i, c in ipairs(changes) do
    if c.from == nil then
      lines[i] = ("+ %s: %s"):format(c.path, M.render(c.to))
    elseif c.to == nil then
      lines[i] = ("- %s: %s"):format(c.path, M.render(c.from))
    else
      lines[i] = ("~ %s: %s -> %s"):format(c.path, M.render(c.from), M.render(c.to))
    end
  end
  return table.concat(lines, "\n")
end

return M
