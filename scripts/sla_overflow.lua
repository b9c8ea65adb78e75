-- sla_overflow.lua — seed 002: set skill requirements, SLA targets, overflow directives and the
-- wait limits (maxWaitTime, maxWaiters) across many queues at once. Overflow links are planned in
-- short chains within each channel (never longer than the tenant's overflow depth); a link the
-- rules or the tenant still refuse (another chain leading in) falls back to the rest of the change.
-- With optimize=true the wait limits and SLA come from tune.optimal_routing (utilization and the
-- members' skill coverage). Writes use optimistic locking: another admin's concurrent change is
-- merged, or reported as a conflict, never overwritten. Each written queue is a `queue.updated`
-- WFM event with its version, the write's latency and the run's success rate.
-- Arguments:
--   threshold=PERCENT   SLA threshold (default 80)
--   time=SECONDS        SLA time (default 30)
--   wait=SECONDS        overflow after this wait (30–600, default 120)
--   skill=NAME          required skill (default: the queue's requirements unchanged)
--   proficiency=LEVEL   its proficiency (default advanced)
--   max_wait=SECONDS    maxWaitTime (10–600; default unchanged)
--   max_waiters=N       maxWaiters (1–100; default unchanged)
--   optimize=true       maxWaitTime, maxWaiters and SLA from tune.optimal_routing
--   limit=N             at most N queues (default 12)
--   concurrency=N       queues in flight at once (default 4)
-- Example:
--   cxrun run scripts/sla_overflow.lua -- threshold=85 time=20 limit=12 skill=language:en max_wait=300
local pick = require("cx.pick")
local tune = require("cx.tune")
local capacity = require("cx.capacity")

-- Numbers out of range are clamped, as the seed's payload builder clamps them.
local args = require("cx.params").read(cx.args, {
  threshold = { type = "number", default = 80 },
  time = { type = "number", default = 30 },
  wait = { type = "number", default = 120 },
  skill = {},
  proficiency = { default = "advanced" },
  max_wait = { type = "number" },
  max_waiters = { type = "number" },
  optimize = { type = "boolean", default = false },
  limit = { type = "integer", default = 12, min = 1 },
  concurrency = { type = "integer", default = 4, min = 1 },
})
local threshold, time, limit = args.threshold, args.time, args.limit
local wait = math.min(600, math.max(30, args.wait))
local depth = cx.tenant.limits.max_overflow_depth or 3

local function clamp(v, lo, hi) return v and math.min(hi, math.max(lo, v)) end

-- The overflow plan: within each channel, queues in name order link in chains of at most `depth`
-- links (q1 -> q2 -> ... -> q(depth+1)), then a new chain starts.
local selected = pick.by_name(queues(), limit)
local next_of, position = {}, {}
for _, q in ipairs(selected) do
  position[q.channel] = (position[q.channel] or 0) + 1
  q.slot = position[q.channel]
end
for i, q in ipairs(selected) do
  for j = i + 1, #selected do
    local other = selected[j]
    if other.channel == q.channel then
      if q.slot % (depth + 1) ~= 0 then next_of[q.id] = other.id end
      break
    end
  end
end

local skill_names
--- The share of a queue's members who hold `skill` (by name): the seed's skill coverage.
local function coverage(q, skill)
  if not skill_names then
    skill_names = {}
    for _, s in ipairs(skills()) do skill_names[s.id] = s.name end
  end
  local members, holding = agents({ queue = q.id }), 0
  for _, a in ipairs(members) do
    for _, s in ipairs(a.skills or {}) do
      if skill_names[s.id] == skill then holding = holding + 1 break end
    end
  end
  return #members > 0 and holding / #members or 0
end

--- The seed's change to one queue.
---@param q cx.Queue
---@return table
local function sla_change(q)
  local delta = {
    serviceLevelTarget = { threshold = clamp(threshold, 0, 100), time = clamp(time, 1, 300) },
    maxWaitTime = clamp(args.max_wait, 10, 600),
    maxWaiters = clamp(args.max_waiters, 1, 100),
  }
  if args.skill then
    delta.skillRequirements = { { skill = args.skill, proficiency = args.proficiency, required = true } }
  end
  if args.optimize then
    local m = analytics(q.id, { interval = "PT1H", metrics = { "offered", "averageHandleTime", "staffedAgents" } })
    local active = capacity.erlangs(m.offered, 3600, m.averageHandleTime)
    local best = tune.optimal_routing({ active_interactions = active, max_capacity = m.staffedAgents * (q.concurrency or 1) },
      { coverage_ratio = coverage(q, args.skill or "language:en") })
    -- Clamped as the seed's payload builder clamps them (little coverage means long waits).
    delta.maxWaitTime, delta.maxWaiters = clamp(best.maxWaitTime, 10, 600), clamp(best.maxWaiters, 1, 100)
    delta.serviceLevelTarget = best.serviceLevelTarget
  end
  if next_of[q.id] then
    delta.overflow = { enabled = true, action = "routeToQueue", targetQueueId = next_of[q.id], waitTime = wait }
  end
  return delta
end

local results = cx.each(selected, function(summary)
  local change
  return cx.change(summary.id, function(q)
    change = sla_change(q)
    return change
  end, {
    rules = { "schema", "sla", "overflow", "license" },
    -- The link would still make a cycle or a chain too deep (validate says so, or the tenant
    -- does, having seen a chain another task of this run built at the same moment): write the
    -- rest of the change.
    fallback = function(q, problems)
      log.info("%s: overflow kept as is (%s)", q.name, require("cx.validate").describe(problems))
      local rest = {}
      for k, v in pairs(change) do if k ~= "overflow" then rest[k] = v end end
      return rest
    end,
  })
end, { concurrency = args.concurrency })

-- A dry run counts what it plans: its events are the ones a plan's apply delivers.
local written = 0
for _, r in ipairs(results) do if r.outcome == "written" or r.outcome == "planned" then written = written + 1 end end
local success_rate = #results > 0 and written / #results or 0
for _, r in ipairs(results) do
  local outcome = r.outcome == "written" and ("v" .. r.version .. (r.merged and " (merged with a concurrent change)" or ""))
    or (r.outcome == "planned" or r.outcome == "unchanged") and r.outcome
    or (r.outcome .. ": " .. tostring(r.message))
  print(("%-28s %s%s"):format(r.name or r.queue_id, outcome, r.fell_back and " (overflow kept as is)" or ""))
  if r.outcome == "written" or r.outcome == "planned" then
    -- The seed's WFM event (handed off; the run waits for the delivery). Planned in a dry run,
    -- without the version and latency only a write has.
    webhook("wfm", { event = "queue.updated", queueId = r.queue_id, configuration = { version = r.version },
      metrics = { updateLatencyMs = r.latency_ms, successRate = success_rate } })
  end
end
log.info("%d of %d queues %s (success rate %.2f)", written, #results, cx.run.dry_run and "planned" or "written", success_rate)
-- A queue that could not be changed fails the run (exit 1) now that the others are done and told.
cx.require_success(results)
