-- hello.lua: the smallest runbook. Prints a greeting, runs two tasks concurrently.
-- Arguments: name=NAME (optional).
-- Example:   cxrun run scripts/hello.lua -- name=operator
-- Declared: a misspelt argument (`nmae=ops`) stops the run here, naming it.
local name = require("cx.params").read(cx.args, { name = { default = "world" } }).name
print(("hello, %s (%s)"):format(name, _VERSION))

local squares = cx.each({ 1, 2, 3, 4 }, function(n)
  cx.sleep(0.01)
  return n * n
end, { concurrency = 2 })
print("squares: " .. table.concat(squares, ", "))
