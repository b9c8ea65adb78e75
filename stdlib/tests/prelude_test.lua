-- The sandbox prelude (Sources/LuaHost/Lua/prelude.lua) under the stock interpreter, with a fake
-- host: what the sandbox offers and refuses, without the Swift side.
local A = require("assert")

local PRELUDE = "Sources/LuaHost/Lua/prelude.lua"

-- Builds a sandbox from the prelude; the real string metatable is restored afterwards, so the
-- other tests of this process are not affected.
local function sandbox(extensions)
  local printed = {}
  local smt = getmetatable("")
  local saved = {}
  for k, v in pairs(smt) do saved[k] = v end
  local G = {}
  for k, v in pairs(_G) do G[k] = v end
  G.string = {}
  for k, v in pairs(string) do G.string[k] = v end
  local host = {
    marker = {}, null = setmetatable({}, { __name = "null" }),
    array_mt = {}, error_mt = {}, task_mt = {},
    args = { "a", "channel=voice" }, run = { id = "test" }, concurrency = 2,
    write = function(s) printed[#printed + 1] = s end,
    readmodule = function(name) return nil, "module '" .. name .. "' not found" end,
    wait = function() end, spawn = function() end, sleep = function() end, progress = function() end,
    log = function() end, bindings = { fetch = function(id) return { id = id } end },
    hidden = { secret_helper = function() return 42 end }, extensions = extensions or {},
  }
  local chunk = assert(loadfile(PRELUDE, "t"))
  local ok, env = pcall(chunk, G, host)
  debug.setmetatable("", saved)
  assert(ok, env)
  return env, printed
end

local function run(env, code)
  local f = assert(load(code, "=script", "t", env))
  return pcall(f)
end

local T = {}

function T.only_the_allowed_globals_exist()
  local env = sandbox()
  for _, name in ipairs { "io", "debug", "package", "dofile", "loadfile", "require", "load" } do
    if name == "require" or name == "load" then
      A.eq(type(env[name]), "function")
    else
      A.eq(env[name], nil)
    end
  end
  local os_names = {}
  for k in pairs(env.os) do os_names[#os_names + 1] = k end
  table.sort(os_names)
  A.eq(os_names, { "clock", "date", "difftime", "time" })
  A.eq(env.string.dump, nil)
end

function T.libraries_and_cx_are_read_only()
  local env = sandbox()
  local ok, err = run(env, "string.upper = nil")
  A.eq(ok, false)
  A.truthy(tostring(err):find("read%-only table 'string'"))
  ok, err = run(env, "cx.fetch = nil")
  A.eq(ok, false)
  A.truthy(tostring(err):find("read%-only table 'cx'"))
  ok, err = run(env, "rawset(table, 'x', 1)")
  A.eq(ok, false)
  A.truthy(tostring(err):find("read%-only"))
end

function T.binary_chunks_finalizers_and_gc_control_are_refused()
  local env = sandbox()
  local ok, err = run(env, "return load('return 1', 'x', 'b')")
  A.eq(ok, false)
  A.truthy(tostring(err):find("only text chunks"))
  ok, err = run(env, "setmetatable({}, {__gc = function() end})")
  A.eq(ok, false)
  A.truthy(tostring(err):find("__gc"))
  ok, err = run(env, "collectgarbage('stop')")
  A.eq(ok, false)
  A.truthy(tostring(err):find("only \"count\""))
  A.eq(select(2, run(env, "return type(collectgarbage('count'))")), "number")
end

function T.print_args_and_extensions_reach_the_host()
  local seen
  local env, printed = sandbox { "local private = ... ; _ENV.helper_result = private.secret_helper()" }
  A.eq(select(2, run(env, "print('a', 1, nil) return cx.args.channel")), "voice")
  A.eq(printed, { "a\t1\tnil\n" })
  seen = env.helper_result
  A.eq(seen, 42)
  A.eq(env.secret_helper, nil)
end

return T
