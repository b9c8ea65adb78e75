--- cx.names: how far apart two names are, and which known name a misspelt one most likely
--- means: the one rule behind every "did you mean …?" of the standard library and the test
--- harness. Plain Lua 5.4: runs in the sandbox and under the stock interpreter.
local M = {}

--- Edits (insert, delete, replace a letter, or swap two neighbours) that turn `a` into `b`.
---@param a string
---@param b string
---@return integer
function M.distance(a, b)
  if a == b then return 0 end
  local before, previous = {}, {}
  for j = 0, #b do previous[j] = j end
  for i = 1, #a do
    local current = { [0] = i }
    local x = a:sub(i, i)
    for j = 1, #b do
      local y = b:sub(j, j)
      current[j] = math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x == y and 0 or 1))
      if i > 1 and j > 1 and x == b:sub(j - 1, j - 1) and a:sub(i - 1, i - 1) == y then
        current[j] = math.min(current[j], before[j - 2] + 1)
      end
    end
    before, previous = previous, current
  end
  return previous[#b]
end

--- The candidate nearest `name`, compared ignoring case, when it is near enough to be a slip:
--- one edit for a name of up to four letters, else two, or a third of the candidate's length
--- when that is more. Ties go to the candidate that sorts first; a name starting with `_`
--- (private) is never suggested. Nil when none is near.
---@param name string
---@param candidates string[]
---@return string?
function M.nearest(name, candidates)
  local lower = name:lower()
  local best, best_d
  for _, candidate in ipairs(candidates) do
    if candidate:sub(1, 1) ~= "_" then
      local d = M.distance(lower, candidate:lower())
      local most = math.max(#name <= 4 and 1 or 2, #candidate // 3)
      if d <= most and (best_d == nil or d < best_d or (d == best_d and candidate < best)) then best, best_d = candidate, d end
    end
  end
  return best
end

return M
