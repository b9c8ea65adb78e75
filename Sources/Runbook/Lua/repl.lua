-- repl.lua — the Lua half of `cxrun repl`: an extension that leaves `__repl` for the main chunk
-- to call. Reads a chunk at a time (continuing an incomplete one), evaluates expressions and
-- statements in the sandbox with every binding, prints values readably (documents as indented
-- JSON), and reports errors without ending the session. Globals persist between chunks.
local private = ...
local read_line, pretty = private.read_line, private.pretty
local load, pcall, select, tostring, type = load, pcall, select, tostring, type

local function show(...)
  local n = select("#", ...)
  for i = 1, n do
    local v = select(i, ...)
    if type(v) == "table" then print(pretty(v)) else print(tostring(v)) end
  end
end

--- Compiles `source` as an expression first (so `fetch(id)` shows the document), else as statements.
local function compile(source)
  local f = load("return " .. source, "=stdin", "t")
  if f then return f end
  return load(source, "=stdin", "t")
end

local function incomplete(err) return type(err) == "string" and err:find("<eof>$") ~= nil end

local function repl()
  _ENV.__repl = nil
  while true do
    local line = read_line("cx> ")
    if line == nil then return end
    local source = line
    local f, err = compile(source)
    while not f and incomplete(err) do
      local more = read_line(">>  ")
      if more == nil then break end
      source = source .. "\n" .. more
      f, err = compile(source)
    end
    if not f then
      print(tostring(err))
    elseif source:find("%S") then
      local results = table.pack(pcall(f))
      if results[1] then show(table.unpack(results, 2, results.n)) else print("error: " .. tostring(results[2])) end
    end
  end
end
_ENV.__repl = repl
