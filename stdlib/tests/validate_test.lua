local v = require("cx.validate")
local A = require("assert")

local T = {}

--- As `cx.array` marks a table (the sandbox's; stock Lua has none): an empty list stays a list.
local function array(t) return setmetatable(t, { __metatable = "array" }) end

local function queue(fields)
  local q = {
    id = "q1", name = "Voice - Support", channel = "voice",
    routing = { strategy = "longest_idle", priority = { enabled = false, levels = array {} } },
    skills = { { id = "s1", level = 3 } }, serviceLevelTarget = { threshold = 80, time = 20 },
    maxWaiters = 50, maxHoldTime = 120, waitStrategy = { positionThreshold = 10, abandonmentThreshold = 120 },
    callback = { enabled = true, positionThreshold = 5 }, overflow = { enabled = false, action = "drop" },
  }
  for k, val in pairs(fields or {}) do q[k] = val end
  return q
end

local function rules_of(problems)
  local out = {}
  for _, p in ipairs(problems) do out[#out + 1] = p.rule .. ":" .. p.path end
  table.sort(out)
  return out
end

function T.a_good_queue_passes()
  local ok, problems = v.run(queue())
  A.eq(ok, true)
  A.eq(problems, {})
end

--- A whole document (it has the id or version fetch gave it) keeps the fields no queue is
--- without: a deploy replaces the queue, and `{version = 3, maxWaitTime = 300}` passed as valid.
function T.a_whole_document_keeps_the_fields_no_queue_is_without()
  A.eq(rules_of(select(2, v.run({ version = 3, maxWaitTime = 300 }))), { "fields:channel", "fields:name", "fields:routing.strategy" })
  local unnamed = queue { routing = { priority = { enabled = false } } }
  unnamed.name = nil
  A.eq(rules_of(select(2, v.run(unnamed))), { "fields:name", "fields:routing.strategy" })
  local no_channel = queue()
  no_channel.channel = nil
  local _, problems = v.run(no_channel)
  A.eq(problems[1].message, "channel is required: a deploy replaces the whole queue, so build the payload from fetch()")
  A.eq(select(1, v.run({ maxWaitTime = 300 })), true, "a fragment (no id, no version) is checked for what it has")
end

function T.sla_boundaries()
  A.eq(select(1, v.run(queue { serviceLevelTarget = { threshold = 0, time = 1 } })), true)
  A.eq(select(1, v.run(queue { serviceLevelTarget = { threshold = 100, time = 300 } })), true)
  A.eq(rules_of(select(2, v.run(queue { serviceLevelTarget = { threshold = 101, time = 0 } }))),
    { "sla:serviceLevelTarget.threshold", "sla:serviceLevelTarget.time" })
  A.eq(rules_of(select(2, v.run(queue { serviceLevelTarget = { threshold = -1, time = 301 } }))),
    { "sla:serviceLevelTarget.threshold", "sla:serviceLevelTarget.time" })
end

function T.routing_rules()
  A.eq(rules_of(select(2, v.run(queue { routing = { strategy = "round_robin" } }))), { "routing:routing.strategy" })
  A.eq(rules_of(select(2, v.run(queue { routing = { strategy = "priority", priority = { enabled = false, levels = array {} } } }))),
    { "routing:routing.priority.enabled", "routing:routing.priority.levels" })
  A.eq(select(1, v.run(queue { routing = { strategy = "priority", priority = { enabled = true, levels = { 1, 2 } } } })), true)
  A.eq(rules_of(select(2, v.run(queue { routing = { strategy = "skill_based" }, skills = array {} }))), { "routing:skills" })
end

function T.hold_time_and_license_limits_follow_the_tenant()
  A.eq(select(1, v.run(queue { maxHoldTime = 300 })), true)
  A.eq(rules_of(select(2, v.run(queue { maxHoldTime = 301 }))), { "hold_time:maxHoldTime" })
  A.eq(rules_of(select(2, v.run(queue { maxHoldTime = 200 }, nil, { limits = { max_hold_seconds = 180 } }))), { "hold_time:maxHoldTime" })
  A.eq(select(1, v.run(queue { maxWaiters = 100 })), true)
  A.eq(rules_of(select(2, v.run(queue { maxWaiters = 101 }))), { "license:maxWaiters" })
  local reqs = {}
  for i = 1, 11 do reqs[i] = { skill = "s" .. i } end
  A.eq(rules_of(select(2, v.run(queue { skillRequirements = reqs }))), { "license:skillRequirements" })
end

function T.skills_rules()
  A.eq(rules_of(select(2, v.run(queue { skills = { { id = "s1", level = 0 }, { id = "s1", level = 6 }, { id = "", level = 2 } } }))),
    { "skills:skills[1].level", "skills:skills[2].id", "skills:skills[2].level", "skills:skills[3].id" })
  A.eq(rules_of(select(2, v.run(queue { skills = { { id = "ghost", level = 2 } } }, nil, { skills = { s1 = {} } }))),
    { "skills:skills[1].id" })
end

function T.overflow_rules()
  local known = {
    q2 = { id = "q2", overflow = { enabled = true, action = "routeToQueue", targetQueueId = "q3" } },
    q3 = { id = "q3", overflow = { enabled = true, action = "routeToQueue", targetQueueId = "q1" } },
    q4 = { id = "q4", overflow = { enabled = false } },
  }
  local ctx = { queue = function(id) return known[id] end }
  A.eq(rules_of(select(2, v.run(queue { overflow = { enabled = true, action = "teleport" } }))), { "overflow:overflow.action" })
  A.eq(rules_of(select(2, v.run(queue { overflow = { enabled = true, action = "routeToQueue" } }))), { "overflow:overflow.targetQueueId" })
  A.eq(rules_of(select(2, v.run(queue { overflow = { enabled = true, action = "routeToQueue", targetQueueId = "q1" } }))),
    { "overflow:overflow.targetQueueId" })
  A.eq(select(1, v.run(queue { overflow = { enabled = true, action = "routeToQueue", targetQueueId = "q4" } }, nil, ctx)), true)
  local ok, problems = v.run(queue { overflow = { enabled = true, action = "routeToQueue", targetQueueId = "q2" } }, nil, ctx)
  A.eq(ok, false)
  A.eq(problems[1].message:find("cycle") ~= nil, true)
  A.eq(rules_of(select(2, v.run(queue { overflow = { enabled = true, action = "routeToQueue", targetQueueId = "q9" } }, nil, ctx))),
    { "overflow:overflow.targetQueueId" })
end

--- A chain that loops among other queues is named at the queue it comes back to, and each
--- queue of a chain is looked up once (a lookup copies a whole document in a run).
function T.overflow_chain_lookups_and_a_loop_elsewhere()
  local known = {
    q2 = { id = "q2", overflow = { enabled = true, action = "routeToQueue", targetQueueId = "q3" } },
    q3 = { id = "q3", overflow = { enabled = true, action = "routeToQueue", targetQueueId = "q2" } },
    a = { id = "a", overflow = { enabled = true, action = "routeToQueue", targetQueueId = "b" } },
    b = { id = "b", overflow = { enabled = false } },
  }
  local lookups = {}
  local ctx = { queue = function(id)
    lookups[#lookups + 1] = id
    return known[id]
  end, limits = { max_overflow_depth = 5 } }
  local ok, problems = v.run(queue { overflow = { enabled = true, action = "routeToQueue", targetQueueId = "q2" } },
    { rules = { "overflow" } }, ctx)
  A.eq(ok, false)
  A.eq(problems[1].message, "overflow forms a cycle through queue q2")
  A.eq(lookups, { "q2", "q3" })
  lookups = {}
  A.eq(select(1, v.run(queue { overflow = { enabled = true, action = "routeToQueue", targetQueueId = "a" } }, { rules = { "overflow" } }, ctx)),
    true)
  A.eq(lookups, { "a", "b" })
end

function T.overflow_depth_counts_links_into_the_queue()
  -- a -> b -> c exists; linking c -> d makes a chain of 3 links, d -> e would make 4.
  local docs = {
    a = { id = "a", overflow = { enabled = true, action = "routeToQueue", targetQueueId = "b" } },
    b = { id = "b", overflow = { enabled = true, action = "routeToQueue", targetQueueId = "c" } },
    c = { id = "c", overflow = { enabled = false } },
    d = { id = "d", overflow = { enabled = false } },
    e = { id = "e" },
  }
  local ctx = { queue = function(id) return docs[id] end, queue_ids = function() return { "a", "b", "c", "d", "e" } end,
    limits = { max_overflow_depth = 3 } }
  local link = function(from, to) return { id = from, overflow = { enabled = true, action = "routeToQueue", targetQueueId = to } } end
  A.eq(select(1, v.run(link("c", "d"), { rules = { "overflow" } }, ctx)), true)
  docs.c = link("c", "d")  -- deployed earlier in the same run
  local ok, problems = v.run(link("d", "e"), { rules = { "overflow" } }, ctx)
  A.eq(ok, false)
  A.eq(problems[1].message, "overflow chain is 4 deep counting 3 link(s) into this queue (the chain starts at a); the tenant allows 3")
  -- Without the tenant's graph only the chain downstream is seen (1 link).
  A.eq(select(1, v.run(link("d", "e"), { rules = { "overflow" } }, { queue = ctx.queue, limits = ctx.limits })), true)
end

function T.upstream_index_is_the_longest_chain_into_a_queue()
  local docs = {
    a = { id = "a", overflow = { enabled = true, action = "routeToQueue", targetQueueId = "c" } },
    b = { id = "b", overflow = { enabled = true, action = "routeToQueue", targetQueueId = "a" } },
    c = { id = "c", overflow = { enabled = true, action = "routeToQueue", targetQueueId = "b" } },  -- a cycle a -> c -> b -> a
    d = { id = "d", overflow = { enabled = false, action = "routeToQueue", targetQueueId = "a" } },  -- disabled: no link
    e = { id = "e", overflow = { enabled = true, action = "drop", targetQueueId = "a" } },           -- a drop: no link
  }
  local upstream = v.upstream_index({ "a", "b", "c", "d", "e" }, function(id) return docs[id] end)
  A.eq({ upstream("a") }, { 2, "c" })  -- c -> b -> a, not around the cycle through a itself
  A.eq({ upstream("e") }, { 0 })
  A.eq({ upstream("unknown") }, { 0 })
end

function T.a_target_outside_every_known_queue_does_not_exist_when_all_are_known()
  local payload = queue { overflow = { enabled = true, action = "routeToQueue", targetQueueId = "gone", waitTime = 60 } }
  local lookup = function() return nil end
  local _, some = v.run(payload, { rules = { "overflow" } }, { queue = lookup })
  A.eq(some[1].message, "overflow target queue gone is not known in this run (fetch it or list queues first)")
  local _, all = v.run(payload, { rules = { "overflow" } }, { queue = lookup, complete = true })
  A.eq(all[1].message, "overflow target queue gone does not exist in this tenant")
end

function T.skill_requirements_take_a_proficiency_name_and_no_nulls()
  local null = print  -- a function stands for cx.null (userdata in the host): neither table, string, number nor boolean
  local function problems_of(reqs)
    local _, problems = v.run(queue { skillRequirements = reqs })
    local out = {}
    for _, p in ipairs(problems) do out[#out + 1] = p.path end
    return out
  end
  A.eq(problems_of { { skill = "language:en", proficiency = "advanced", required = true } }, {})
  -- The tenant refuses a number where a level's name belongs, and a null entry or field.
  A.eq(problems_of { { skill = "language:en", proficiency = 3 } }, { "skillRequirements[1].proficiency" })
  A.eq(problems_of { { skill = "language:en", proficiency = null } }, { "skillRequirements[1].proficiency" })
  A.eq(problems_of { { skill = null, required = null } }, { "skillRequirements[1].skill", "skillRequirements[1].required" })
  A.eq(problems_of { null }, { "skillRequirements[1]" })
end

function T.a_float_with_no_integer_form_is_reported_not_raised()
  -- Messages formatted these numbers with %d, which raises for 1e300: validate raised instead of
  -- answering (found by random edits against the tenant).
  local cases = {
    { routing = { strategy = "priority", priority = { enabled = true, levels = { 1e300 } } } },
    { waitStrategy = { positionThreshold = 1e300 }, callback = { enabled = true, positionThreshold = 2e300 } },
    { wrapUpTime = 2 ^ 80 },
  }
  for _, extra in ipairs(cases) do
    local ran, ok, problems = pcall(v.run, queue(extra))
    A.eq(ran, true, tostring(ok))
    A.eq(ok, false)
    A.truthy(#problems > 0)
  end
  local _, problems = v.run(queue { routing = { strategy = "priority", priority = { enabled = true, levels = { 1e300 } } } })
  A.eq(problems[1].message, "priority level 1e+300 is beyond the tenant's licence (at most 10)")
end

--- A number just off a whole one read as whole: "must be a whole number, got 300.0" (tostring
--- gives 14 digits). It is shown as it reads back, by every rule set that names it.
function T.a_number_just_off_a_whole_one_is_shown_as_it_is()
  local _, problems = v.run(queue { maxWaitTime = 300.00000000000006 })
  A.eq(problems[1].message, "maxWaitTime must be a whole number, got 300.00000000000006")
  _, problems = v.run(queue { maxWaiters = 99.99999999999999 }, { rules = { "license" } })
  A.eq(problems[1].message, "maxWaiters must be a whole number, got 99.999999999999986")
  local check = require("cx.check")
  A.eq({ check.shown(0.1 + 0.2), check.shown(0 / 0), check.shown(300.0), check.shown(7), check.shown("x") },
    { "0.30000000000000004", "NaN", "300.0", "7", "x" })
end

--- A status or pause reason off by case or a letter names what it most likely means.
function T.a_status_slip_names_what_it_likely_means()
  local rules = require("cx.rules")
  A.eq(select(2, rules.status_request_problem({ status = "break" })),
    "status must be one of Available, Busy, Break, Training, Offline, got 'break' (did you mean Break?)")
  A.eq(select(2, rules.status_request_problem({ status = "Break", pause_reason = "IT Issue " })),
    "pause_reason must be one of IT Issue, Queue Full, Skill Gap, Manager Meeting, System Maintenance, got 'IT Issue ' (did you mean IT Issue?)")
  A.eq(select(2, rules.status_request_problem({ status = "Napping" })),
    "status must be one of Available, Busy, Break, Training, Offline, got 'Napping'")
end

--- A number that is not whole was named by the schema and again by each range rule: a reviewer
--- read one mistake as two.
function T.a_mistake_found_by_two_rule_sets_is_reported_once()
  local _, problems = v.run(queue { maxWaiters = 1.5, concurrency = 2.5 })
  local shown = {}
  for _, p in ipairs(problems) do shown[#shown + 1] = p.rule .. ":" .. p.message end
  table.sort(shown)
  A.eq(shown, { "schema:concurrency must be a whole number, got 2.5", "schema:maxWaiters must be a whole number, got 1.5" })
  -- A rule set run alone still says it.
  A.eq(rules_of(select(2, v.run(queue { maxWaiters = 1.5 }, { rules = { "license" } }))), { "license:maxWaiters" })
  -- Different messages at one path both stay.
  A.eq(#v.once({ { path = "a", message = "x" }, { path = "a", message = "y" }, { path = "a", message = "x" } }), 2)
  -- A value the schema refused is not judged again by another rule set; schema advice refuses nothing.
  local _, levels = v.run(queue { routing = { strategy = "priority", priority = { enabled = true, levels = { 0, 2.5, "x" } } } })
  A.eq(rules_of(levels), { "routing:routing.priority.levels[1]", "schema:routing.priority.levels[2]", "schema:routing.priority.levels[3]" })
  A.eq(#v.once({ { path = "a", rule = "schema", message = "x", advice = true }, { path = "a", rule = "sla", message = "y" } }), 2)
end

--- A routed overflow without a target still has its wait checked (the check stopped at the target).
function T.an_overflow_without_a_target_has_its_wait_checked()
  local _, problems = v.run(queue { overflow = { enabled = true, action = "routeToQueue", waitTime = 5 } })
  A.eq(rules_of(problems), { "overflow:overflow.targetQueueId", "overflow:overflow.waitTime" })
end

function T.advice_is_marked()
  -- The tenant keeps a field it does not know and takes any whole number of seconds: advice, not
  -- refusals (cxrun apply refuses a plan only for the others).
  local _, problems = v.run(queue { integration = { apiToken = "x" }, wrapUpTime = 120000, maxWaiters = -1 })
  local marked = {}
  for _, p in ipairs(problems) do marked[#marked + 1] = p.path .. "=" .. tostring(p.advice) end
  table.sort(marked)
  -- 120000 s of wrap-up: out of range (refused), and looks like milliseconds (advice).
  A.eq(marked, { "integration=true", "maxWaiters=nil", "wrapUpTime=nil", "wrapUpTime=true" })
end

function T.wait_strategy_rules()
  A.eq(rules_of(select(2, v.run(queue { callback = { enabled = true, positionThreshold = 12 } }))), { "wait_strategy:callback.positionThreshold" })
  A.eq(select(1, v.run(queue { callback = { enabled = true, positionThreshold = 10 } })), true)
  A.eq(rules_of(select(2, v.run(queue { waitStrategy = { positionThreshold = 0 } }))),
    { "wait_strategy:callback.positionThreshold", "wait_strategy:waitStrategy.positionThreshold" })
end

function T.rules_can_be_narrowed_and_extended()
  A.eq(select(1, v.run(queue { maxWaiters = 500 }, { rules = { "sla" } })), true)
  local custom = function(p) if p.name ~= "Sales" then return { { path = "name", message = "needs the name Sales" } } end end
  A.eq(rules_of(select(2, v.run(queue(), { rules = { "sla", custom } }))), { "custom:name" })
  A.eq(rules_of(select(2, v.run(queue(), { rules = { "nonsense" } }))), { "nonsense:" })
end

--- A custom rule extends the default sets, never stands in for them: a payload they refuse stays
--- refused however the rule answers.
function T.a_custom_rule_alone_extends_the_defaults()
  local none = function() return {} end
  A.eq(rules_of(select(2, v.run(queue { maxWaiters = 500 }, { rules = { none } }))), { "license:maxWaiters" })
  A.eq(rules_of(select(2, v.run(queue { maxWaiters = 500 }, { rules = {} }))), { "license:maxWaiters" })
  A.eq(select(1, v.run(queue(), { rules = { none } })), true)
end

--- Every way a rule can say "no" is a problem; what cannot be read as an answer raises.
function T.a_custom_rules_answer_is_read_whichever_way_it_says_no()
  local function answer(...)
    local values = table.pack(...)
    return rules_of(select(2, v.run(queue(), { rules = { "sla", function() return table.unpack(values, 1, values.n) end } })))
  end
  A.eq(answer(nil), {})
  A.eq(answer(true), {})
  A.eq(answer({}), {})
  A.eq(answer({ path = "name", message = "one problem, not in a list" }), { "custom:name" })
  A.eq(answer({ { path = "a", message = "x", rule = "mine" }, "a plain message" }), { "custom:", "mine:a" })
  A.eq(answer(false), { "custom:" })
  A.eq(select(2, v.run(queue(), { rules = { function() return false, "too long" end } }))[1].message, "too long")
  A.eq(answer("a message alone"), { "custom:" })
  A.fails(function() answer(5) end, "custom rule #2 returned a number")
  A.fails(function() answer({ ok = false }) end, "not a list of problems")
  A.fails(function() v.run(queue(), { rules = "sla" }) end, "validate: opts.rules must be a table, got string")
  A.fails(function() v.run(queue(), { rule = { "sla" } }) end, "validate: unknown option 'rule' (did you mean rules?); known: forecast, rules")
  A.fails(function() v.run(queue(), "sla") end, "validate: opts must be a table (known: forecast, rules), got string")
end

function T.never_raises_for_bad_input()
  A.eq(select(1, v.run("not a table")), false)
  A.eq(select(1, v.run({ routing = 5, serviceLevelTarget = "x", skills = "y", overflow = 3, maxWaiters = "z" })), false)
end

function T.capacity_rule_follows_the_worked_example()
  local q = queue { serviceLevelTarget = { threshold = 80, time = 20 }, wrapUpTime = 0 }
  local forecast = { offered = 100, period = 1800, aht = 180, agents = 14 }
  A.eq(select(1, v.run(q, { rules = { "capacity" }, forecast = forecast })), true)
  forecast.agents = 13
  A.eq(rules_of(select(2, v.run(q, { rules = { "capacity" }, forecast = forecast }))), { "capacity:serviceLevelTarget" })
  forecast.agents = 11
  A.eq(rules_of(select(2, v.run(q, { rules = { "capacity" }, forecast = forecast }))), { "capacity:forecast", "capacity:serviceLevelTarget" })
  A.eq(select(1, v.run(q, { rules = { "capacity" } })), true)
  -- A chat queue whose agents take two conversations each: 7 agents hold what 14 did.
  local chat = queue { serviceLevelTarget = { threshold = 80, time = 20 }, wrapUpTime = 0, concurrency = 2 }
  A.eq(select(1, v.run(chat, { rules = { "capacity" }, forecast = { offered = 100, period = 1800, aht = 180, agents = 7 } })), true)
  A.eq(select(1, v.run(q, { rules = { "capacity" }, forecast = { offered = 100, period = 1800, aht = 180, agents = 7 } })), false)
end

-- A forecast the math cannot answer is a problem the capacity rule reports, never an error.
function T.capacity_rule_reports_a_forecast_it_cannot_evaluate()
  local q = queue { serviceLevelTarget = { threshold = 80, time = 20 }, wrapUpTime = 0 }
  for _, forecast in ipairs({
    { offered = 100, period = 1800, aht = 0 / 0, agents = 14 },
    { offered = 100, period = 1800, aht = 180, agents = math.huge },
    { offered = 0 / 0, period = 1800, aht = 180, agents = 14 },
    { offered = -100, period = 1800, aht = 180, agents = 14 },
    { offered = 1e12, period = 1, aht = 180, agents = 14 },
  }) do
    local ok, problems = v.run(q, { rules = { "capacity" }, forecast = forecast })
    A.eq(ok, false)
    A.eq(rules_of(problems)[1]:sub(1, #"capacity:forecast"), "capacity:forecast")
  end
end

-- A list the value bridge would send as a JSON object is no list: `{}` (write cx.array{}), a
-- table with keys, one with holes. Each passed as valid and the tenant refused it.
function T.lists_are_lists_as_sent()
  for _, bad in ipairs({ {}, { threshold = 80 }, { [1] = { id = "s1", level = 3 }, [3] = { id = "s2", level = 3 } } }) do
    local ok, problems = v.run(queue { skills = bad })
    A.eq(ok, false)
    A.eq(rules_of(problems), { "schema:skills" })
  end
  A.truthy(select(2, v.run(queue { skills = {} }))[1].message:find("write cx.array{} for an empty list", 1, true))
  A.eq(select(1, v.run(queue { skills = array {} })), true)
  A.eq(select(1, v.run(queue { skills = { { id = "s1", level = 3 }, { id = "s2", level = 2 } } })), true)
end

-- The queue's own fields within what the tenant accepts (each passed as valid, and was refused).
function T.fields_rule()
  for field, value in pairs({ channel = "fax", name = "", concurrency = 11, wrapUpTime = 3601 }) do
    local ok, problems = v.run(queue { [field] = value })
    A.eq(ok, false, field)
    A.eq(rules_of(problems), { "fields:" .. field })
  end
  A.eq(rules_of(select(2, v.run(queue { routing = { strategy = "longest_idle", longestIdleSeconds = 86401 } }))),
    { "fields:routing.longestIdleSeconds" })
  A.eq(select(1, v.run(queue { channel = "chat", concurrency = 3, wrapUpTime = 0, name = "Chat" })), true)
end

-- An overflow target is checked whatever the action: the tenant refuses one that does not exist.
function T.an_overflow_target_is_checked_on_any_action()
  local known = { q1 = queue(), q2 = queue { id = "q2" } }
  local ctx = { queue = function(id) return known[id] end }
  local ok, problems = v.run(queue { overflow = { enabled = false, action = "drop", targetQueueId = "nope" } }, nil, ctx)
  A.eq(ok, false)
  A.eq(rules_of(problems), { "overflow:overflow.targetQueueId" })
  A.eq(select(1, v.run(queue { overflow = { enabled = false, action = "drop", targetQueueId = "q2" } }, nil, ctx)), true)
  A.eq(rules_of(select(2, v.run(queue { overflow = { action = "drop", targetQueueId = "q1" } }, nil, ctx))), { "overflow:overflow.targetQueueId" })
end

function T.agent_status_rule()
  local ok_req = { status = "Break", pause_reason = "IT Issue", roles = { { name = "Agent" } }, shift = { start = 0, ["end"] = 100 }, now = 50 }
  A.eq(select(1, v.run(ok_req, { rules = { "agent_status" } })), true)
  local bad = { status = "Break", roles = { "Analyst" }, shift = { start = 0, ["end"] = 100 }, now = 150 }
  A.eq(rules_of(select(2, v.run(bad, { rules = { "agent_status" } }))),
    { "agent_status:pause_reason", "agent_status:role", "agent_status:shift" })
  -- The tenant's verdict (onShift, by its clock) decides over this machine's clock; an explicit
  -- `now` is judged against the window.
  local window = { start = 0, ["end"] = 100 }  -- long past by os.time()
  A.eq(select(1, v.run({ status = "Available", role = "Agent", shift = { start = 0, ["end"] = 100, onShift = true } },
    { rules = { "agent_status" } })), true)
  A.eq(rules_of(select(2, v.run({ status = "Available", role = "Agent", shift = { start = 0, ["end"] = os.time() + 3600, onShift = false } },
    { rules = { "agent_status" } }))), { "agent_status:shift" })
  A.eq(rules_of(select(2, v.run({ status = "Available", role = "Agent", shift = { start = 0, ["end"] = 100, onShift = true }, now = 150 },
    { rules = { "agent_status" } }))), { "agent_status:shift" })
  A.eq(rules_of(select(2, v.run({ status = "Available", role = "Agent", shift = window }, { rules = { "agent_status" } }))),
    { "agent_status:shift" })
  A.eq(rules_of(select(2, v.run({ status = "Napping", role = "Agent" }, { rules = { "agent_status" } }))), { "agent_status:status" })
  A.eq(rules_of(select(2, v.run({ status = "Break", pause_reason = "Nap", role = "Agent" }, { rules = { "agent_status" } }))),
    { "agent_status:pause_reason" })
  A.eq(select(1, v.run({ status = "Break", pause_reason = "Nap", role = "Agent" }, { rules = { "agent_status" } },
    { limits = { pause_reasons = { "Nap" } } })), true)
end

return T
