-- hello.lua: the smallest runbook. Prints a greeting, runs two tasks concurrently.
-- Arguments: name=NAME (optional).
-- Example:   cxrun run scripts/hello.lua -- name=operator
local name = cx.args.name or "world"
print(("hello, %s (%s)"):format(name, _VERSION))

local squares = cx.each({ 1, 2, 3, 4 }, function(n)
  cx.sleep(0.01)
  return n * n
end, { concurrency = 2 })
print("squares: " .. table.concat(squares, ", "))
