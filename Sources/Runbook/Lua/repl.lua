-- repl.lua — the Lua half of `cxrun repl`: an extension that leaves `__repl` for the main chunk
-- to call. Reads a chunk at a time (continuing an incomplete one), evaluates expressions and
-- statements in the sandbox with every binding, prints values readably (documents as indented
-- JSON), and reports errors without ending the session. Globals persist between chunks. Each
-- chunk runs contained: the instruction limit is per chunk, and a runaway chunk stopped by it or
-- by Ctrl-C ends with an error while the session goes on.
local private = ...
local read_line, pretty, contain = private.read_line, private.pretty, private.contain
local batch = private.batch()
local error, load, print, select, tostring, type = error, load, print, select, tostring, type
local next, pcall, rawget, sort = next, pcall, rawget, table.sort

local function show(...)
  local n = select("#", ...)
  for i = 1, n do
    local v = select(i, ...)
    if type(v) == "table" then print(pretty(v)) else print(tostring(v)) end
  end
end

--- Compiles `source` as an expression first (so `fetch(id)` shows the document), else as statements.
--- Piped input is a script: its chunk starts at `line` of it, and errors name that line
--- (`stdin:7:`), not the chunk's first ("stdin:1:" for every chunk of a file told nobody where).
---@param source string
---@param line integer the input line the chunk starts at
---@return function|nil chunk
---@return string|nil err
local function compile(source, line)
  local before = batch and ("\n"):rep(line - 1) or ""
  local f = load(before .. "return " .. source, "=stdin", "t")
  if f then return f end
  return load(before .. source, "=stdin", "t")
end

--- Adds to `into` the names `source` declares local (`local a, b = ...`, `local function f`).
---@param source string
---@param into table<string, boolean>
local function note_locals(source, into)
  for fn in source:gmatch("local%s+function%s+([%a_][%w_]*)") do into[fn] = true end
  for list in source:gmatch("local%s+([%a_][%w_%s,<>]*)") do
    for name in list:gsub("<%a+>", ""):gmatch("[%a_][%w_]*") do
      if name ~= "function" then into[name] = true end
    end
  end
end

--- What Tab completes at the prompt: the session's global names, and `name.key` for the keys of
--- its global tables (`cx.each`, `q.maxWaitTime`). Read raw (no __pairs runs) and bounded: a
--- table of 50,000 agents is not walked at every prompt.
---@return string[]
local function completions()
  local names, scanned = {}, 0
  for name, value in next, _ENV do
    if type(name) == "string" and not name:find("^__") then
      names[#names + 1] = name
      if type(value) == "table" then
        local seen = 0
        for key in next, value do
          seen = seen + 1
          if seen > 500 or scanned > 20000 then break end
          scanned = scanned + 1
          if type(key) == "string" and key:find("^[%a_][%w_]*$") then names[#names + 1] = name .. "." .. key end
        end
      end
    end
  end
  sort(names)
  return names
end

--- The prompt's completions: none for piped input (nobody presses Tab), nor when they cannot be
--- read (a global table a chunk broke).
local function tab()
  if batch then return {} end
  local ok, names = pcall(completions)
  return ok and names or {}
end

--- The bindings as they are now (globals that are also cx's fields), by name: what `help` lists,
--- and, taken as the session starts, what a chunk that assigns one (`queues = queues()`) is told of.
---@return table<string, function>
local function bindings_now()
  local out, cx = {}, rawget(_ENV, "cx") or {}
  for name, value in next, cx do
    if type(name) == "string" and type(value) == "function" and rawget(_ENV, name) == value then out[name] = value end
  end
  return out
end

--- What `help` at the prompt shows: the bindings and `cx`'s helpers as this session has them
--- (read from `cx`, where every binding is a field too), and how the prompt works.
---@return string
local function help_text()
  local current, bindings, helpers = bindings_now(), {}, {}
  for name, value in next, rawget(_ENV, "cx") or {} do
    if type(name) == "string" and type(value) == "function" then
      if current[name] then bindings[#bindings + 1] = name else helpers[#helpers + 1] = "cx." .. name end
    end
  end
  sort(bindings)
  sort(helpers)
  return table.concat({
    "Type Lua: an expression shows its value (documents as indented JSON), a statement runs.",
    "bindings: " .. table.concat(bindings, ", "),
    "helpers:  " .. table.concat(helpers, ", "),
    'modules:  require("cx.params"), require("cx.capacity"), require("cx.tune"), require("cx.pick"), ...',
    "Tab completes names. Every binding call is audited (cxrun audit show). Ctrl-D ends the session.",
  }, "\n")
end

--- Why `name` reads as nil: a local of an earlier chunk, ended with it (the prompt's common surprise).
---@param name string
---@return string
local function ended_local(name)
  return ("(%s was local to an earlier chunk and ended with it; drop `local` to keep a value)"):format(name)
end

local function incomplete(err) return type(err) == "string" and err:find("<eof>$") ~= nil end

--- Shows a chunk's results, or its error; true when it failed.
---@param gone table<string, boolean> locals of earlier chunks, ended with them
---@param ok boolean
---@return boolean failed
local function report(gone, ok, ...)
  if ok then
    show(...)
    return false
  end
  local err = ...
  -- An error value whose __tostring itself fails is still shown, as the runner shows it.
  local shown, text = pcall(tostring, err)
  if not shown then text = ("(error object is a %s value)"):format(type(err)) end
  -- A table raised with no __tostring: its contents, not its address.
  if type(err) == "table" and text:find("^table: 0x") then
    local pretty_ok, p = pcall(pretty, err)
    if pretty_ok then text = "error object " .. p end
  end
  -- A limit raised inside the host's own Lua (cx.each's wait) names no line of the chunk.
  local message = text:gsub("^%[cx%]:%d+: ", "")
  -- A local of an earlier chunk ended with it, the prompt's common surprise: said where it bites.
  local name = message:match("%(global '([%a_][%w_]*)'%)")
  if name and gone[name] then
    message = message .. " " .. ended_local(name)
  end
  print("error: " .. message)
  return true
end

local function repl()
  _ENV.__repl = nil
  local chunks, failed, gone, lines = 0, 0, {}, 0
  local bindings = bindings_now()
  while true do
    local line, refused = read_line("cx> ", tab())
    if line == nil then break end
    lines = lines + 1
    local first = lines
    local source = line or ""
    -- `help` (unless the session defined a global of that name) shows what the prompt offers.
    if (source:match("^%s*help%s*$") or source:match("^%s*help%s*%(%s*%)%s*$")) and rawget(_ENV, "help") == nil then
      print(help_text())
      source = ""
    end
    local f, err = compile(source, first)
    while line and not f and incomplete(err) do
      local more
      more, refused = read_line(">>  ", tab())
      if more == nil then break end
      lines = lines + 1
      if more == false then line = false break end
      source = source .. "\n" .. more
      f, err = compile(source, first)
    end
    if line == false then
      -- A line the host refused (not UTF-8): the chunk is not run.
      print("error: " .. refused)
      chunks, failed = chunks + 1, failed + 1
    elseif not f then
      print("error: " .. tostring(err))
      chunks, failed = chunks + 1, failed + 1
    elseif source:find("%S") then
      chunks = chunks + 1
      if report(gone, contain(f)) then failed = failed + 1 end
      -- The name alone shows nil and raises nothing, so the hint that errors carry goes here.
      local bare = source:match("^%s*([%a_][%w_]*)%s*$")
      if bare and gone[bare] and rawget(_ENV, bare) == nil then
        print(ended_local(bare))
      end
      note_locals(source, gone)
      for name, binding in next, bindings do
        if rawget(_ENV, name) ~= binding then
          bindings[name] = nil
          print(("(%s was a binding; in this session the name now holds your value: cx.%s still calls the binding)"):format(name, name))
        end
      end
    end
  end
  -- A script piped in fails as a script would; a person saw each error as it happened.
  if batch and failed > 0 then error(("%d of %d chunks failed"):format(failed, chunks), 0) end
end
_ENV.__repl = repl
