-- Runs the stdlib unit tests under the stock lua5.4 interpreter:
--   lua5.4 stdlib/tests/run.lua stdlib/tests/*_test.lua
-- Each test file returns a table of name -> function. Ends with "N passed, N failed".
package.path = "stdlib/?.lua;stdlib/tests/?.lua;" .. package.path

local passed, failed = 0, 0
for _, file in ipairs(arg) do
  local ok, tests = pcall(dofile, file)
  if not ok then
    failed = failed + 1
    io.stderr:write(("FAIL %s (load): %s\n"):format(file, tests))
  else
    local names = {}
    for name in pairs(tests) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      local good, err = xpcall(tests[name], debug.traceback)
      if good then
        passed = passed + 1
      else
        failed = failed + 1
        io.stderr:write(("FAIL %s: %s\n  %s\n"):format(file, name, err))
      end
    end
  end
end
print(("lua: %d passed, %d failed"):format(passed, failed))
os.exit(failed == 0 and 0 or 1)
