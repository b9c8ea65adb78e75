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
  A.eq(problems(with { maxWaiters = 0 / 0 }), { "maxWaiters | maxWaiters must be a finite number, got NaN" })
  A.eq(problems(with { maxWaitTime = math.huge, wrapUpTime = -math.huge }), {
    "maxWaitTime | maxWaitTime must be a finite number, got infinity",
    "wrapUpTime | wrapUpTime must be a finite number, got -infinity",
  })
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

--- `conforms` (the fast pass) finds no problem exactly where the reporting pass finds none, over
--- every single-field change of a full document: each field set to each kind of value, plus an
--- unknown field at every level.
function T.the_fast_pass_agrees_with_the_reporting_pass()
  local schema = require("cx.schema")
  local full = {
    id = "q1", version = 3, name = "Voice 1", channel = "voice", maxWaitTime = 120, wrapUpTime = 30, concurrency = 1,
    maxWaiters = 10, maxHoldTime = 90,
    routing = { strategy = "priority", longestIdleSeconds = 300, priority = { enabled = true, levels = { 1, 2 } } },
    skills = { { id = "s1", level = 3 } },
    skillRequirements = { { skill = "language:en", proficiency = "advanced", required = true } },
    serviceLevelTarget = { threshold = 80, time = 20 },
    waitStrategy = { type = "position", positionThreshold = 5, abandonmentThreshold = 60 },
    callback = { enabled = true, positionThreshold = 3 },
    overflow = { enabled = true, action = "routeToQueue", targetQueueId = "q2", waitTime = 120 },
  }
  local samples = { "text", 7, 2.5, 120000, 0 / 0, math.huge, true, {}, { 1, 2 }, { x = 1 }, { { id = "s", level = 1 } },
    print }  -- a function stands for cx.null: neither table, string, number nor boolean
  local function reported(doc)
    local found = {}
    schema.report(doc, nil, function(path) found[#found + 1] = path end)
    return #found == 0
  end
  local function copy(t)
    if type(t) ~= "table" then return t end
    local out = {}
    for k, val in pairs(t) do out[k] = copy(val) end
    return out
  end
  local checked = 0
  A.eq(schema.conforms(schema.QUEUE, full), true)
  A.eq(reported(full), true)
  -- Every path of the document, as a list of keys.
  local paths = {}
  local function walk(t, prefix)
    for k, val in pairs(t) do
      local path = { table.unpack(prefix) }
      path[#path + 1] = k
      paths[#paths + 1] = path
      if type(val) == "table" then walk(val, path) end
    end
  end
  walk(full, {})
  for _, path in ipairs(paths) do
    for _, sample in ipairs(samples) do
      local doc = copy(full)
      local parent = doc
      for i = 1, #path - 1 do parent = parent[path[i]] end
      parent[path[#path]] = copy(sample)
      A.eq(schema.conforms(schema.QUEUE, doc), reported(doc), table.concat(path, ".") .. " = " .. tostring(sample))
      checked = checked + 1
    end
  end
  -- An unknown field in each table in turn (in a list's table it is no list item: both ignore it).
  table.insert(paths, 1, {})
  for _, path in ipairs(paths) do
    local doc = copy(full)
    local target = doc
    for i = 1, #path do target = target[path[i]] end
    if type(target) == "table" then
      target.notAField = 1
      A.eq(schema.conforms(schema.QUEUE, doc), reported(doc), "notAField in " .. table.concat(path, "."))
      checked = checked + 1
    end
  end
  A.eq(checked > 300, true, "every field was changed to every sample")
end

return T
