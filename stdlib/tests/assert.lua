-- Assertions for the stdlib tests: deep equality with a readable failure.
local M = {}

local function deep_equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do if not deep_equal(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
M.deep_equal = deep_equal

local function show(v)
  if type(v) ~= "table" then return type(v) == "string" and ("%q"):format(v) or tostring(v) end
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = tostring(k) .. "=" .. show(x) end
  table.sort(parts)
  return "{" .. table.concat(parts, ", ") .. "}"
end

--- Fails unless `actual` deeply equals `expected`.
function M.eq(actual, expected, what)
  if not deep_equal(actual, expected) then
    error(("%sexpected %s, got %s"):format(what and (what .. ": ") or "", show(expected), show(actual)), 2)
  end
end

--- Fails unless |actual - expected| <= tolerance.
function M.near(actual, expected, tolerance, what)
  if type(actual) ~= "number" or math.abs(actual - expected) > tolerance then
    local prefix = what and (what .. ": ") or ""
    error(("%sexpected %s ± %s, got %s"):format(prefix, expected, tolerance, tostring(actual)), 2)
  end
end

function M.truthy(value, what)
  if not value then
    local prefix = what and (what .. ": ") or ""
    error(("%sexpected a true value, got %s"):format(prefix, tostring(value)), 2)
  end
end

--- Fails unless `f()` raises an error whose text contains `says`.
function M.fails(f, says)
  local ok, err = pcall(f)
  if ok then error(("expected an error saying %q, got none"):format(says), 2) end
  if not tostring(err):find(says, 1, true) then
    error(("expected an error saying %q, got %s"):format(says, tostring(err)), 2)
  end
end

return M
