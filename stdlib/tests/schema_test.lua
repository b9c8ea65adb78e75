-- The `schema` rule set against the mistakes the seeds make.
local v = require("cx.validate")
local A = require("assert")

local T = {}

local base = {
  id = "q1", version = 3, name = "Voice 1", channel = "voice", maxWaitTime = 120, wrapUpTime = 30,
  routing = { strategy = "longest_idle" },
  overflow = { enabled = false, action = "routeToQueue", targetQueueId = "q2", waitTime = 120 },
  customerTier = "gold",  -- returned by the server, not modelled by cxrun
}

local function problems(payload)
  local _, found = v.run(payload, { rules = { "schema" } }, { queue = function(id) return id == "q1" and base or nil end })
  local out = {}
  for _, p in ipairs(found) do out[#out + 1] = p.path .. " | " .. p.message end
  table.sort(out)
  return out
end

local function with(changes)
  local p = {}
  for k, val in pairs(base) do p[k] = val end
  for k, val in pairs(changes) do p[k] = val end
  return p
end

function T.a_valid_document_and_unmodelled_server_fields_pass()
  A.eq(problems(base), {})
  A.eq(select(1, v.run(base, nil, { queue = function() return base end })), true)
end

function T.seed_000_snake_case_fields_are_named()
  local found = problems(with { max_wait_time_seconds = 300, skill_ids = { "s1" }, target_ids = { "q2" } })
  A.eq(#found, 3)
  A.eq(found[1], "max_wait_time_seconds | unknown field max_wait_time_seconds; did you mean maxWaitTime?")
  A.eq(found[2], "skill_ids | unknown field skill_ids; did you mean skills?")
  A.eq(found[3], "target_ids | unknown field target_ids: the queue document has no such field, so nothing would change")
  A.eq(problems(with { wrap_up_time = 30 }),
    { "wrap_up_time | unknown field wrap_up_time: wrap_up_time is the snake_case spelling of wrapUpTime (the document is camelCase)" })
end

function T.seed_002_and_003_overflow_fields_get_the_closest_known_one()
  local found = problems(with { overflow = { enabled = true, action = "routeToQueue", targetId = "q2", maxWaitTime = 90 } })
  A.eq(found, {
    "overflow.maxWaitTime | unknown field overflow.maxWaitTime; did you mean overflow.waitTime?",
    "overflow.targetId | unknown field overflow.targetId; did you mean overflow.targetQueueId?",
  })
end

function T.an_unmodelled_field_changed_by_the_script_is_a_problem()
  A.eq(#problems(with { customerTier = "platinum" }), 1)
  A.eq(#problems(with { customerTier = "gold" }), 0)
end

function T.types_integers_and_milliseconds()
  A.eq(problems(with { maxWaitTime = "240" }), { 'maxWaitTime | maxWaitTime must be a number, got string "240"' })
  A.eq(problems(with { maxWaiters = 2.5 }), { "maxWaiters | maxWaiters must be a whole number, got 2.5" })
  A.eq(problems(with { wrapUpTime = 120000 }),
    { "wrapUpTime | wrapUpTime = 120000 looks like milliseconds (120 s); times in the queue document are seconds" })
  A.eq(problems(with { routing = { strategy = 7, priority = { enabled = "yes", levels = { 1, "2" } } } }), {
    "routing.priority.enabled | routing.priority.enabled must be true or false, got string",
    "routing.priority.levels[2] | routing.priority.levels[2] must be a number, got string \"2\"",
    "routing.strategy | routing.strategy must be a string, got number",
  })
end

function T.closest_known_names()
  local schema = require("cx.schema")
  A.eq(schema.closest("maxWaitTim", schema.QUEUE), "maxWaitTime")
  A.eq((schema.closest("zzzz", schema.QUEUE)), nil)
end

function T.describe_reports_every_problem()
  local _, found = v.run(with { maxWaiters = 2.5, wrapUpTime = 120000 }, { rules = { "schema" } }, { queue = function() return base end })
  A.eq(v.describe(found), "maxWaiters: maxWaiters must be a whole number, got 2.5; wrapUpTime: wrapUpTime = 120000 looks like"
    .. " milliseconds (120 s); times in the queue document are seconds")
end

function T.the_seeds_ranges()
  local function paths(payload, ctx)
    local _, found = v.run(payload, nil, ctx or { queue = function() return base end })
    local out = {}
    for _, p in ipairs(found) do out[#out + 1] = p.rule .. ":" .. p.path end
    table.sort(out)
    return out
  end
  A.eq(paths(with { overflow = { enabled = true, action = "routeToQueue", targetQueueId = "q2", waitTime = 20 } }), { "overflow:overflow.waitTime" })
  A.eq(paths(with { overflow = { enabled = true, action = "drop", waitTime = 601 } }), { "overflow:overflow.waitTime" })
  A.eq(paths(with { maxWaitTime = 0 }), { "wait_strategy:maxWaitTime" })
  A.eq(paths(with { routing = { strategy = "priority", priority = { enabled = true, levels = { 1, 11 } } } }),
    { "routing:routing.priority.levels[2]" })
  A.eq(paths(with { routing = { strategy = "priority", priority = { enabled = true, levels = { 1, 11 } } } },
    { queue = function() return base end, limits = { max_priority_level = 12 } }), {})
  A.eq(paths(with { waitStrategy = { type = "position", positionThreshold = 0 } }), { "wait_strategy:waitStrategy.positionThreshold" })
end

return T
