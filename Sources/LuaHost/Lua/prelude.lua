-- prelude.lua — run once per Lua state by LuaHost, with the real globals, to build the sandbox
-- environment (DESIGN.md §3). It keeps what it needs in locals, so nothing a script does to its
-- own environment changes how the host's helpers behave. Called as `prelude(G, host)`; returns
-- the environment. Its frames are the host's: chunk name "=[cx]", hidden from tracebacks.
local G, host = ...
local type, error, select, tostring, ipairs = type, error, select, tostring, ipairs
local next_, rawget_, rawset_, rawlen_ = next, rawget, rawset, rawlen
local setmetatable_, getmetatable_, load_, collectgarbage_ = setmetatable, getmetatable, load, collectgarbage
local tconcat, tunpack = table.concat, table.unpack
local co_create, co_resume, co_yield, co_status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
local co_running, co_isyieldable, co_close = coroutine.running, coroutine.isyieldable, coroutine.close
local marker = host.marker

-- Read-only tables: an empty proxy whose metatable is locked; the proxy -> real map lets the
-- raw functions see through it and refuse writes.
local real_of = setmetatable_({}, { __mode = "k" })
local function readonly(t, name)
  local proxy = setmetatable_({}, {
    __index = t,
    __newindex = function(_, k)
      error(("attempt to modify read-only table '%s' (field '%s')"):format(name, tostring(k)), 2)
    end,
    __pairs = function() return next_, t, nil end,
    __len = function() return #t end,
    __metatable = false,
  })
  real_of[proxy] = t
  return proxy
end
local function copy(t, except)
  local c = {}
  for k, v in next_, t do if k ~= except then c[k] = v end end
  return c
end

local env = {}
for _, k in ipairs { "assert", "error", "ipairs", "pairs", "pcall", "xpcall", "select", "tonumber",
                     "tostring", "type", "rawequal", "getmetatable" } do
  env[k] = G[k]
end
env._VERSION = G._VERSION
env.unpack = tunpack
-- `for _, q in ipairs(nil)`, the commonest slip in a runbook, fails inside the iterator, where
-- Lua names no line ("attempt to index a nil value"); refused here, it names the loop's line.
local ipairs_ = G.ipairs
env.ipairs = function(t)
  local kind = type(t)
  if kind ~= "table" and getmetatable_(t) == nil then
    error(("bad argument #1 to 'ipairs' (table expected, got %s)"):format(t == nil and "nil" or kind), 2)
  end
  return ipairs_(t)
end
-- Wrappers run the real function under pcall and re-raise at the script's level: a tail call
-- to a C function keeps the wrapper's frame in Lua 5.4, so the C error would name the prelude.
local pcall_ = pcall
local function rethrow(ok, ...)
  if ok then return ... end
  local err = ...
  if type(err) == "string" then error((err:gsub("^%[cx%]:%d+: ", "")), 2) end
  error(err, 0)
end
env.next = function(t, k) return rethrow(pcall_(next_, real_of[t] or t, k)) end
env.rawget = function(t, k) return rethrow(pcall_(rawget_, real_of[t] or t, k)) end
env.rawlen = function(t) return rethrow(pcall_(rawlen_, real_of[t] or t)) end
env.rawset = function(t, k, v)
  if real_of[t] then error("rawset: attempt to modify a read-only table", 2) end
  return rethrow(pcall_(rawset_, t, k, v))
end
env.setmetatable = function(t, mt)
  if type(mt) == "table" and rawget_(mt, "__gc") ~= nil then
    error("setmetatable: __gc metamethods are not available in the sandbox", 2)
  end
  return rethrow(pcall_(setmetatable_, t, mt))
end
env.collectgarbage = function(opt)
  if opt == "count" then return collectgarbage_("count") end
  -- No full collection either: one call can cost a collection of the whole heap, work the
  -- instruction budget does not see (Luau's sandbox keeps only "count" too).
  error(("collectgarbage(%s) is not available in the sandbox (the collector runs on its own); only \"count\" is"):format(
    opt == nil and "" or type(opt) == "string" and ("%q"):format(opt) or tostring(opt)), 2)
end
env.load = function(chunk, chunkname, mode, ...)
  if mode ~= nil and mode ~= "t" then
    error("load: only text chunks load in the sandbox (mode must be \"t\")", 2)
  end
  local e = env
  if select("#", ...) > 0 then e = (...) end
  return rethrow(pcall_(load_, chunk, chunkname, "t", e))
end
local host_write = host.write
env.print = function(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  host_write(tconcat(parts, "\t", 1, n) .. "\n")
end

-- Libraries: copies without what the sandbox forbids, read-only; the string metatable is locked
-- and points at the sandbox copy, so ("").dump does not exist either.
G.string.dump = nil
env.string = readonly(copy(G.string, "dump"), "string")
env.table = readonly(copy(G.table), "table")
env.math = readonly(copy(G.math), "math")
env.utf8 = readonly(copy(G.utf8), "utf8")
local os_time, os_date = G.os.time, G.os.date
if host.clock_offset then
  -- The script's "now" is its tenant's (a test tenant's pinned clock), not the machine's: a
  -- runbook deciding by the hour then behaves the same in its tests at any hour.
  local shifted_time, real_time, real_date = host.shifted_time, G.os.time, G.os.date
  os_time = function(t)
    if t == nil then return shifted_time() end
    return real_time(t)
  end
  os_date = function(format, t)
    if t == nil then t = shifted_time() end
    return real_date(format, t)
  end
end
env.os = readonly({ time = os_time, clock = G.os.clock, date = os_date, difftime = G.os.difftime }, "os")
local smt = getmetatable_("")
smt.__index = env.string
smt.__metatable = false

-- Coroutines. A binding yields (marker, ...) for host I/O; when that happens inside a script's
-- own coroutine, resume/wrap pass the request outward to the scheduler and hand the answer back.
local script_threads = setmetatable_({}, { __mode = "k" })
local function forward(co, ok, first, ...)
  if ok and first == marker and co_status(co) == "suspended" then
    return forward(co, co_resume(co, co_yield(marker, ...)))
  end
  return ok, first, ...
end
local function check_co(co, fname)
  if not script_threads[co] then
    if type(co) ~= "thread" then
      error(("bad argument #1 to '%s' (coroutine expected, got %s)"):format(fname, type(co)), 3)
    end
    error(("%s: a task's own thread cannot be resumed or closed (use cx.wait)"):format(fname), 3)
  end
end
local coroutine_ = {}
coroutine_.create = function(f)
  local co = co_create(f)
  script_threads[co] = true
  return co
end
coroutine_.resume = function(co, ...)
  check_co(co, "resume")
  return forward(co, co_resume(co, ...))
end
local function wrap_result(co, ok, ...)
  if ok then return ... end
  local err = ...
  if co_status(co) == "dead" then co_close(co) end
  if type(err) == "string" then error(err, 2) end
  error(err, 0)
end
coroutine_.wrap = function(f)
  local co = coroutine_.create(f)
  return function(...) return wrap_result(co, forward(co, co_resume(co, ...))) end
end
coroutine_.yield = function(...)
  if not script_threads[co_running()] then
    error("attempt to yield from outside a coroutine", 2)
  end
  return co_yield(...)
end
coroutine_.running = function()
  local co = co_running()
  return co, not script_threads[co]
end
coroutine_.isyieldable = function()
  return script_threads[co_running()] == true and co_isyieldable()
end
coroutine_.status = co_status
coroutine_.close = function(co)
  check_co(co, "close")
  return co_close(co)
end
env.coroutine = readonly(coroutine_, "coroutine")

-- Host values: null, arrays, structured errors, task handles.
-- The tables are created and anchored by the host, which identifies them by address.
local array_mt, error_mt, task_mt = host.array_mt, host.error_mt, host.task_mt
array_mt.__metatable = "array"
error_mt.__tostring = function(e)
  local code, msg = rawget_(e, "code"), rawget_(e, "message")
  local s = tostring(code or "error") .. ": " .. tostring(msg or "")
  local status = rawget_(e, "status")
  if status ~= nil then s = s .. " (HTTP " .. tostring(status) .. ")" end
  return s
end
error_mt.__metatable = "error"
task_mt.__tostring = function(t) return "task " .. tostring(rawget_(t, "id")) end
task_mt.__metatable = "task"

-- require: stdlib modules and .lua files below the runbook's folder, text only, cached per run.
local loaded, loading = {}, {}
local host_readmodule = host.readmodule
env.require = function(name)
  if type(name) ~= "string" then
    error(("bad argument #1 to 'require' (string expected, got %s)"):format(type(name)), 2)
  end
  local m = loaded[name]
  if m ~= nil then return m end
  if loading[name] then error(("require: module '%s' requires itself (circular require)"):format(name), 2) end
  local src, chunkname, is_stdlib = host_readmodule(name)
  if not src then error(chunkname, 2) end
  local f, err = load_(src, chunkname, "t", env)
  if not f then error(err, 0) end
  loading[name] = true
  local ok, r = G.pcall(f, name)
  loading[name] = nil
  if not ok then error(r, 0) end
  if r == nil then r = true end
  if is_stdlib and type(r) == "table" then r = readonly(r, name) end
  loaded[name] = r
  return r
end

-- cx: the host's table of bindings and helpers, read-only.
local cx = {}
cx.null = host.null
local args = {}
for i, a in ipairs(host.args) do
  args[i] = a
  -- The rule of LuaHost's ScriptArguments (cxrun refuses a KEY given twice before a run starts).
  local k, v = a:match("^([%a_][%w_]*)=(.*)$")
  if k and args[k] == nil then args[k] = v end
end
cx.args = args
cx.run = host.run
cx.array = function(t)
  if t == nil then t = {} end
  if type(t) ~= "table" then
    error(("bad argument #1 to 'array' (table expected, got %s)"):format(type(t)), 2)
  end
  local m = getmetatable_(t)
  if m == "array" then return t end
  if m ~= nil then error("cx.array: the table already has a metatable", 2) end
  return setmetatable_(t, array_mt)
end
local host_wait, host_spawn = host.wait, host.spawn
cx.spawn = host_spawn
cx.sleep = host.sleep
cx.wait = function(task, ...)
  -- Checked here, so the error names the script's line, not this one.
  for i = 1, select("#", ...) + 1 do
    local t = select(i, task, ...)
    if getmetatable_(t) ~= "task" then
      error(("bad argument #%d to 'wait' (task from cx.spawn expected, got %s)"):format(i, type(t)), 2)
    end
  end
  if select("#", ...) == 0 then return host_wait(task) end
  local tasks = { task, ... }
  local firsts = {}
  for i = 1, #tasks do firsts[i] = (host_wait(tasks[i])) end
  return tunpack(firsts, 1, #tasks)
end
local host_progress, host_note_origin = host.progress, host.note_origin
cx.each = function(list, fn, opts)
  if type(list) ~= "table" then
    error(("bad argument #1 to 'each' (table expected, got %s)"):format(type(list)), 2)
  end
  if type(fn) ~= "function" then
    error(("bad argument #2 to 'each' (function expected, got %s)"):format(type(fn)), 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(("bad argument #3 to 'each' (table {concurrency = n} expected, got %s)"):format(type(opts)), 2)
  end
  -- A misspelt option ({concurency = 2}) ran with the default, without a word.
  for k in next_, opts or {} do
    if k ~= "concurrency" then error(("cx.each: unknown option '%s'; known: concurrency"):format(tostring(k)), 2) end
  end
  local concurrency = (opts and opts.concurrency) or host.concurrency
  if math.type(concurrency) ~= "integer" or concurrency < 1 then
    error("cx.each: concurrency must be a positive integer", 2)
  end
  local n = #list
  -- A map (queues by id) has no items 1..n: it ran nothing and the run said it succeeded.
  local key = n == 0 and next_(list) or nil
  if key ~= nil then
    error(("bad argument #1 to 'each' (a list expected, got a table with key %s and no items 1..n)"):format(
      type(key) == "string" and ("'" .. key .. "'") or tostring(key)), 2)
  end
  -- A hole ({q1, nil, q3}: a lookup that found nothing) ended the list at it: the items after it
  -- never ran, and the run said it succeeded.
  local function hole(at, after)
    error(("bad argument #1 to 'each' (a list with a hole: item %d is nil, item %d is not)"):format(at, after), 3)
  end
  for i = 1, n do
    if list[i] == nil then hole(i, n) end
  end
  for k in next_, list do
    if math.type(k) == "integer" and k > n then hole(n + 1, k) end
  end
  local results, next_index, done, failure = {}, 0, 0, nil
  local function worker()
    while failure == nil do
      next_index = next_index + 1
      local i = next_index
      if i > n then return end
      -- a binding's failure re-raised below is reported at its own line, not at cx.each's
      local ok, r = G.xpcall(fn, host_note_origin, list[i], i)
      if not ok then
        failure = failure or { err = r }
        return
      end
      results[i] = r
      done = done + 1
      host_progress(done, n)
    end
  end
  local tasks = {}
  for w = 1, math.min(concurrency, n) do tasks[w] = host_spawn(worker) end
  for w = 1, #tasks do host_wait(tasks[w]) end
  if failure then error(failure.err, 0) end
  return results
end
for name, fn in next_, host.bindings do
  cx[name] = fn
  env[name] = fn
end
env.cx = readonly(cx, "cx")
local host_log = host.log
local function logger(level)
  return function(fmt, ...)
    local msg = tostring(fmt)
    if select("#", ...) > 0 then
      local ok, text = pcall(msg.format, msg, ...)
      -- A format that does not fit its values fails at the script's line, naming the call (its
      -- arguments are numbered as format's: the format is #1 of both).
      if not ok then error((tostring(text):gsub("to '[%w_.]*format'", "to 'log." .. level .. "'", 1)), 2) end
      msg = text
    end
    host_log(level, msg)
  end
end
env.log = readonly({ info = logger("info"), warn = logger("warn"), error = logger("error") }, "log")

env._G = env

-- Extensions of the embedding host run last, in the sandbox, with the real cx table and
-- `contain(f, ...)`: pcall whose limit errors (instructions, a break, memory that was `f`'s garbage) end only `f`, not the run.
local private = { cx = cx, contain = host.contained_call }
for name, fn in next_, host.hidden do private[name] = fn end
for i, src in ipairs(host.extensions) do
  local f, err = load_(src, "=[cx]", "t", env)
  if not f then error("host extension " .. i .. ": " .. tostring(err), 0) end
  f(private)
end

setmetatable_(env, { __metatable = false })
return env
