-- testing.lua — the Lua half of `cxrun test`: `test(name, fn)` runs `fn(t)` at once against a
-- fresh sandbox tenant and reports the outcome; `t` arranges (t.sim), acts (t.run) and asserts.
-- Receives the host's private table (new_sim, stop_sim, sim_call, run_script, report, filter,
-- and LuaHost's contain).
local private = ...
local cx, contain = private.cx, private.contain
local new_sim, stop_sim, sim_call, run_script, report = private.new_sim, private.stop_sim, private.sim_call, private.run_script, private.report
local only = private.filter()
local type, tostring, error, pairs, ipairs, select = type, tostring, error, pairs, ipairs, select

--- Checks made by the test running now (t.eq, t.truthy, t.matches, t.raises, assert): a test
--- that made none could not fail, whatever the script did.
local checks = 0
local assert_ = assert
_ENV.assert = function(v, ...)
  checks = checks + 1
  return assert_(v, ...)
end

--- A string with every character past ASCII written as its code point (\u{E9}), or as \xNN where
--- it is not UTF-8: two strings that read the same ("é" and "e" + U+0301) are told apart.
---@param s string
---@return string
local function codepoints(s)
  local quoted = ("%q"):format(s)
  if utf8.len(s) then
    return (quoted:gsub(utf8.charpattern, function(ch)
      return #ch > 1 and ("\\u{%X}"):format(utf8.codepoint(ch)) or ch
    end))
  end
  return (quoted:gsub("[\128-\255]", function(b) return ("\\x%02X"):format(b:byte()) end))
end

--- A readable rendering of a value: tables as sorted Lua constructors.
local function show(v, depth)
  depth = depth or 0
  if type(v) == "string" then return ("%q"):format(v) end
  if type(v) == "number" then return require("cx.check").shown(v) end
  if type(v) ~= "table" then return tostring(v) end
  if depth > 4 then return "{...}" end
  local n = #v
  local array = n > 0
  for k in pairs(v) do
    if math.type(k) ~= "integer" or k < 1 or k > n then array = false break end
  end
  if array then
    local items = {}
    for i = 1, n do items[i] = show(v[i], depth + 1) end
    return "{" .. table.concat(items, ", ") .. "}"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do
    local key = type(k) == "string" and k:match("^[%a_][%w_]*$") and k or ("[" .. show(k) .. "]")
    parts[#parts + 1] = key .. " = " .. show(v[k], depth + 1)
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end

local function equal(a, b) return require("cx.diff").equal(a, b) end

--- Renderings of two values that differ, told apart where they could read the same: strings past
--- ASCII also by code point (`"Café" ("Caf\u{E9}")` against `"Café" ("Cafe\u{301}")`).
local function pair(expected, actual)
  local e, a = show(expected), show(actual)
  if type(expected) == "string" and type(actual) == "string" and (expected .. actual):find("[\128-\255]") then
    e, a = ("%s (%s)"):format(e, codepoints(expected)), ("%s (%s)"):format(a, codepoints(actual))
  end
  return e, a
end

--- The paths where two values differ, as lines `path: expected X, got Y` (at most 20).
local function diff(actual, expected, path, out)
  if #out >= 20 or equal(actual, expected) then return out end
  if type(actual) == "table" and type(expected) == "table" then
    local keys, seen = {}, {}
    for k in pairs(expected) do keys[#keys + 1] = k; seen[k] = true end
    for k in pairs(actual) do if not seen[k] then keys[#keys + 1] = k end end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do
      local step = type(k) == "number" and ("[" .. k .. "]") or ((path == "" and "" or ".") .. tostring(k))
      diff(actual[k], expected[k], path .. step, out)
    end
  else
    out[#out + 1] = ("  %s: expected %s, got %s"):format(path == "" and "(value)" or path, pair(expected, actual))
  end
  return out
end

--- Raises at the test's line (level 3: the assertion's caller).
local function fail(message, ...)
  error(select("#", ...) > 0 and message:format(...) or message, 3)
end

--- "file:line: " of the innermost line of the test file's own code (not the host's Lua nor a
--- stdlib module's, such as cx.diff comparing for t.eq): where a mistake in a test is named.
---@return string
local function test_where()
  for level = 3, 20 do
    local _, where = pcall(error, "", level)
    if type(where) == "string" and where ~= "" and not where:find("^%[") and not where:find("cx/[%w_]+%.lua:") then return where end
  end
  return ""
end

--- What t.run returns, and each of its calls: reading a field they do not have raises, naming
--- the fields they do have. `out.status` or a misspelt `out.eror` read as nil, so
--- `t.eq(out.eror, nil)` passed whatever the run did: a check that could not fail.
local RESULT_FIELDS = { "calls", "error", "lost", "ok", "planned", "run_id", "stdout" }
local CALL_FIELDS = { "binding", "error_code", "http_status", "result", "status", "target" }

---@param value table
---@param fields string[]
---@param what string
---@return table
local function strict(value, fields, what)
  local known = {}
  for _, f in ipairs(fields) do known[f] = true end
  return setmetatable(value, { __index = function(_, key)
    if known[key] then return nil end
    local near = type(key) == "string" and require("cx.names").nearest(key, fields)
    error(("%s%s has no field %s%s; its fields: %s"):format(test_where(), what, show(key),
      near and (" (did you mean " .. near .. "?)") or "", table.concat(fields, ", ")), 0)
  end })
end

local function checked(reply, what)
  if reply.status >= 300 then fail("%s: HTTP %d %s", what, reply.status, show(reply.body)) end
  return reply.body
end

local function make_t(sim)
  local token
  local function api(method, path, body)
    if not token then
      local r = sim_call(sim, "POST", "/oauth/token", { grant_type = "client_credentials", client_id = "cxrun-demo",
        client_secret = "cxrun-demo-secret" })
      token = checked(r, "token").access_token
    end
    return checked(sim_call(sim, method, path, body or cx.null, token), method .. " " .. path)
  end
  --- Every item of a paged list.
  local function all_pages(path)
    local out, page = {}, 1
    while true do
      local body = api("GET", path .. "?pageSize=100&page=" .. page)
      for _, item in ipairs(body.data) do out[#out + 1] = item end
      if page >= body.totalPages then return out end
      page = page + 1
    end
  end
  local t = {}
  t.sim = {
    queues = function() return all_pages("/api/v2/routing/queues") end,
    --- The queues written once since the seed (at version 2): what a run of the test changed.
    written = function()
      local out = {}
      for _, q in ipairs(all_pages("/api/v2/routing/queues")) do
        if q.version == 2 then out[#out + 1] = q end
      end
      return out
    end,
    queue = function(id) return api("GET", "/api/v2/routing/queues/" .. id) end,
    users = function() return all_pages("/api/v2/users") end,
    edit = function(id, patch) return checked(sim_call(sim, "POST", "/_sim/queues/" .. id .. "/edit", patch), "edit") end,
    --- With a table, replaces the tenant's faults (releasing writes held by `holdWrites`); with
    --- none, reads them, with `writesHeld` (it cleared them, unasked).
    faults = function(f)
      if f == nil then return checked(sim_call(sim, "GET", "/_sim/faults", cx.null), "faults") end
      return checked(sim_call(sim, "PUT", "/_sim/faults", f), "faults")
    end,
    clock = function(iso) return checked(sim_call(sim, "PUT", "/_sim/clock", { now = iso or cx.null }), "clock") end,
    deliveries = function() return checked(sim_call(sim, "GET", "/_sim/webhooks", cx.null), "deliveries").deliveries end,
    --- The tenant back at its seed (queues, agents, deliveries; the clock and faults stay): one
    --- test can then run a script twice from the same state, e.g. a dry run and then the run.
    reset = function() return checked(sim_call(sim, "POST", "/_sim/reset", {}), "reset") end,
  }
  --- Runs a runbook against this test's tenant: {ok, error, stdout, calls, planned, lost, run_id}.
  --- A mistake in the call fails the test at its line: a run given the wrong arguments passes or
  --- fails for reasons the test does not state (`"name=ops"` as args ran with no argument).
  function t.run(path, args, opts)
    if type(path) ~= "string" then error(("t.run: the script path must be a string, got %s"):format(type(path)), 2) end
    if args ~= nil and type(args) ~= "table" then
      error(('t.run: args must be a table such as {name = "ops"} or {"name=ops"}, got %s'):format(type(args)), 2)
    end
    for k, v in pairs(args or {}) do
      local kind = type(v)
      if kind ~= "string" and kind ~= "number" and kind ~= "boolean" then
        error(("t.run: args[%s] is a %s; an argument is a string, number or boolean, as on the command line"):format(show(k), kind), 2)
      end
    end
    opts = require("cx.check").options("t.run", opts, { dry_run = "boolean" })
    local out = run_script(sim, path, args or {}, opts)
    for _, call in ipairs(out.calls or {}) do strict(call, CALL_FIELDS, "a call of t.run's result") end
    return strict(out, RESULT_FIELDS, "t.run's result")
  end
  --- How many of a run's calls are of `binding` (and, when given, have `status`).
  function t.count(r, binding, status)
    local n = 0
    for _, c in ipairs(r.calls or {}) do
      if c.binding == binding and (status == nil or c.status == status) then n = n + 1 end
    end
    return n
  end
  function t.eq(actual, expected, what)
    checks = checks + 1
    if not equal(actual, expected) then
      local text = ("%sexpected %s\n     got %s"):format(what and (what .. ": ") or "", pair(expected, actual))
      if expected ~= expected and actual ~= actual then
        text = text .. "\n     (NaN equals nothing, itself included: check for it with v ~= v)"
      end
      if type(actual) == "table" and type(expected) == "table" then
        text = text .. "\ndiff:\n" .. table.concat(diff(actual, expected, "", {}), "\n")
      end
      fail(text)
    end
  end
  function t.truthy(value, what)
    checks = checks + 1
    if not value then fail("%sexpected a true value, got %s", what and (what .. ": ") or "", show(value)) end
  end
  function t.matches(s, pattern, what)
    checks = checks + 1
    if type(s) ~= "string" or not s:find(pattern) then
      fail("%sexpected a string matching %q, got %s", what and (what .. ": ") or "", pattern, show(s))
    end
  end
  function t.raises(fn, code)
    checks = checks + 1
    local ok, err = pcall(fn)
    if ok then fail("expected an error%s, none was raised", code and (" with code " .. code) or "") end
    if code and (type(err) ~= "table" or err.code ~= code) then
      fail("expected an error with code %s, got %s", code, show(err))
    end
    return err
  end
  return t
end

local declared = {}  -- test name -> "file:line" of its declaration

--- "file:line: " of the line that called `test` (as Lua's own errors name a position).
---@return string
local function caller_where()
  -- Levels from error: pcall (no line), caller_where, test, the line that called test.
  local _, where = pcall(error, "", 4)
  return type(where) == "string" and where or ""
end

--- Declares and runs one test, contained: a test that runs away fails alone (the instruction
--- limit is per test; memory it allocated is collected) and the file's other tests still run.
---@param name string
---@param fn fun(t: table)
local function test(name, fn)
  -- A mistake in a declaration fails that test at its line, and the file's other tests still run.
  if type(name) ~= "string" or type(fn) ~= "function" then
    report(type(name) == "string" and name or "(unnamed test)",
      ("%stest(name, fn) needs a name (a string) and a function, got %s and %s"):format(caller_where(), type(name), type(fn)))
    return
  end
  if only and not name:find(only, 1, true) then return end
  local where = caller_where()
  if declared[name] then
    -- Two results under one name read as one in a JUnit report: the second would hide the first.
    report(name, ("%sa test named %q is already declared at %s; give each test a name of its own"):format(where, name, declared[name]))
    return
  end
  declared[name] = where:gsub(":%s*$", "")
  local sim = new_sim(name)
  checks = 0
  local ok, err = contain(fn, make_t(sim))
  stop_sim(sim)
  local message = not ok and tostring(err) or nil
  if ok and checks == 0 then
    message = ("%sthe test checked nothing, so it could not fail: check what the run did (t.eq, t.truthy, t.matches, "
      .. "t.raises or assert)"):format(where)
  end
  -- A table raised with no __tostring: its contents, not its address.
  if message and type(err) == "table" and message:find("^table: 0x") then message = "error object " .. show(err) end
  report(name, message)
end
_ENV.test = test
