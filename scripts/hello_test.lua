-- Tests of hello.lua, run by `cxrun test`.

test("greets by name and squares concurrently, calling no API", function(t)
  local r = t.run("hello.lua", { name = "ops" })
  t.truthy(r.ok, r.error)
  t.matches(r.stdout, "^hello, ops %(Lua 5%.4%)\nsquares: 1, 4, 9, 16\n$")
  t.eq(#r.calls, 0)
end)
