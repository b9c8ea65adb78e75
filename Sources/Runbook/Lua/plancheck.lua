-- plancheck.lua — run by the host in a state of its own after a dry run: each planned queue
-- document through cx.validate's default rule sets, so that a plan shows what cxrun's rules say
-- of it before anyone applies it. Receives the planned documents and what the run knew.
---@type table<string, table>, table<string, table>, table, table|userdata
local planned, fetched, limits, skills = ...
local validators = require("cx.validate")
local ctx = {
  limits = limits,
  skills = type(skills) == "table" and skills or nil,  -- cx.null when the run never loaded them
  --- A queue as the run fetched it before planning (the schema rule lets a payload keep what
  --- the server sent), else as planned (the overflow rule walks chains).
  queue = function(id) return fetched[id] or planned[id] end,
}
local out = {}
for id, doc in pairs(planned) do
  local ok, problems = validators.run(doc, nil, ctx)
  if not ok then
    local lines = {}
    for i, p in ipairs(problems) do
      -- Most messages name their field already.
      lines[i] = (p.path == "" or p.message:find(p.path, 1, true)) and p.message or (p.path .. ": " .. p.message)
    end
    out[id] = lines
  end
end
return out
