--- cx.pick: choosing targets the same way in every runbook.
--- Plain Lua 5.4: runs in the sandbox and under the stock interpreter.
local M = {}

--- The first `limit` items of `list` by `name` (a sorted copy; `list` is not modified).
---@param list { name: string }[]
---@param limit integer?  default: all
---@return table[]
function M.by_name(list, limit)
  if type(list) ~= "table" then error(("cx.pick.by_name: list must be a table, got %s"):format(type(list)), 2) end
  if limit ~= nil and math.type(limit) ~= "integer" and not (type(limit) == "number" and limit == math.floor(limit)) then
    error(("cx.pick.by_name: limit must be a whole number, got %s"):format(type(limit) == "string" and ("%q"):format(limit) or tostring(limit)), 2)
  end
  local sorted = {}
  for i, item in ipairs(list) do sorted[i] = item end
  table.sort(sorted, function(a, b) return tostring(a.name) < tostring(b.name) end)
  local out = {}
  for i = 1, math.min(limit or #sorted, #sorted) do out[i] = sorted[i] end
  return out
end

return M
