-- plancheck.lua — run by the host in a state of its own: each planned queue document through
-- cx.validate's default rule sets, so that a plan shows what cxrun's rules say of it before anyone
-- applies it (after the dry run), and an apply refuses what the plan would break (before it writes).
-- Receives the planned documents, each planned queue as it was before the change, the other
-- queues known, the tenant's limits and skills, and whether the known queues are all of them.
-- Returns, by planned queue id, `{after = {...}, before = {...}, advice = {...}}`: the problems of
-- the planned document, those of the queue as it was (in the world before the plan), and which of
-- the planned document's are advice (the tenant would take them all the same), as lines; then
-- the roles that may change an agent's status (cx.rules, for an apply's planned status changes).
---@type table<string, table>, table<string, table>, table<string, table>, table, table|userdata, boolean
local planned, before, known, limits, skills, complete = ...
local validators = require("cx.validate")
local rules = require("cx.rules")
local known_skills = type(skills) == "table" and skills or nil  -- cx.null when the run never loaded them

--- Every queue id of a world.
---@param world table<string, table>
---@return string[]
local function ids_of(world)
  local ids = {}
  for id in pairs(world) do ids[#ids + 1] = id end
  return ids
end

--- The world before the plan (each planned queue as it was, the others as known) and after it.
local world_before, world_after = {}, {}
for id, doc in pairs(known) do world_before[id], world_after[id] = doc, doc end
for id, doc in pairs(before) do world_before[id] = doc end
for id, doc in pairs(planned) do world_after[id] = doc end

--- The rules' context over `world`, for the queue `id`: the overflow chains and the links into
--- `id` as `world` holds them, the queue itself as it was before (the schema rule lets a
--- payload keep what the server sent).
---@param world table<string, table>
---@param upstream fun(id: string): integer, string?
local function context(world, upstream, id)
  return {
    limits = limits,
    skills = known_skills,
    complete = complete == true,
    upstream = upstream,
    queue = function(qid)
      if qid == id then return before[id] end
      return world[qid]
    end,
  }
end

--- The problems of `doc` as lines (most messages name their field already), and those of them
--- that are advice.
---@return string[] lines
---@return string[] advice
local function lines_of(doc, ctx)
  local _, problems = validators.run(doc, nil, ctx)
  local lines, advice = {}, {}
  for i, p in ipairs(problems) do
    lines[i] = (p.path == "" or p.message:find(p.path, 1, true)) and p.message or (p.path .. ": " .. p.message)
    if p.advice then advice[#advice + 1] = lines[i] end
  end
  return lines, advice
end

local lookup_before = function(qid) return world_before[qid] end
local lookup_after = function(qid) return world_after[qid] end
local upstream_before = validators.upstream_index(ids_of(world_before), lookup_before)
local upstream_after = validators.upstream_index(ids_of(world_after), lookup_after)
local out = {}
for id, doc in pairs(planned) do
  local was = before[id]
  local after, advice = lines_of(doc, context(world_after, upstream_after, id))
  out[id] = {
    after = after,
    advice = advice,
    before = type(was) == "table" and (lines_of(was, context(world_before, upstream_before, id))) or {},
  }
end
return out, rules.STATUS_ROLES
