-- plancheck.lua — run by the host in a state of its own after a dry run: each planned queue
-- document through cx.validate's default rule sets, so that a plan shows what cxrun's rules say
-- of it before anyone applies it. Receives the planned documents and what the run knew.
---@type table<string, table>, table<string, table>, table, table|userdata
local planned, fetched, limits, skills = ...
local validators = require("cx.validate")
local known_skills = type(skills) == "table" and skills or nil  -- cx.null when the run never loaded them
local out = {}
for id, doc in pairs(planned) do
  local ctx = {
    limits = limits,
    skills = known_skills,
    --- This queue as fetched before the plan (the schema rule lets a payload keep what the
    --- server sent); any other as planned, else as fetched (the overflow rule walks chains).
    queue = function(qid)
      if qid == id then return fetched[id] end
      return planned[qid] or fetched[qid]
    end,
  }
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
