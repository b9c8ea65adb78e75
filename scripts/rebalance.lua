-- rebalance.lua — seed 000: apply a routing strategy with priority levels to a set of queues (with
-- the seed's overflow wait, and max wait and wrap-up when given), check capacity (the seed's
-- utilization formula and Erlang C, counting chat concurrency), deploy, and tell the WFM system
-- about each deployed queue (with the write's latency) and the whole run. One queue's failure is
-- reported and the others go on.
-- Arguments:
--   channel=voice|chat|email   which queues (default voice)
--   strategy=NAME              priority, longest_idle, fewest_calls, skill_based, random, weighted (default priority)
--   levels=1,2,3               priority levels for the priority strategy (default 1,2,3)
--   limit=N                    at most N queues, by name (default 5)
--   max_wait=SECONDS           set maxWaitTime (default: unchanged)
--   wrap_up=SECONDS            set wrapUpTime (default: unchanged)
--   force=true                 deploy even where the capacity check fails
-- Example:
--   cxrun run scripts/rebalance.lua -- channel=voice strategy=priority levels=1,2,3 limit=5
--   cxrun run --dry-run scripts/rebalance.lua -- channel=chat strategy=longest_idle max_wait=300 wrap_up=30
local capacity = require("cx.capacity")
local pick = require("cx.pick")
local rules = require("cx.rules")

local args = require("cx.params").read(cx.args, {
  channel = { default = "voice", one_of = rules.CHANNELS },
  strategy = { default = "priority", one_of = rules.STRATEGIES },
  levels = { type = "list", item = "integer", default = { 1, 2, 3 }, min = 1 },
  limit = { type = "integer", default = 5, min = 1 },
  max_wait = { type = "integer", min = 1, max = rules.MAX_WAIT_SECONDS },
  wrap_up = { type = "integer", min = 0, max = rules.MAX_WRAP_UP_SECONDS },
  force = { type = "boolean", default = false },
})
local channel, strategy, limit, force = args.channel, args.strategy, args.limit, args.force
local levels = cx.array {}
for i, n in ipairs(args.levels) do levels[i] = n end

local selected = pick.by_name(queues({ channel = channel }), limit)
log.info("rebalancing %d %s queues to %s", #selected, channel, strategy)

--- The seed's change to one queue: the strategy, its priority levels, the overflow wait (where
--- the queue already overflows somewhere), and max wait and wrap-up when asked.
---@param q cx.Queue
---@return table
local function routing_change(q)
  local delta = {
    routing = {
      strategy = strategy,
      priority = { enabled = strategy == "priority", levels = strategy == "priority" and levels or cx.array {} },
    },
    maxWaitTime = args.max_wait,
    wrapUpTime = args.wrap_up,
  }
  if q.overflow and q.overflow.targetQueueId then delta.overflow = { enabled = true, waitTime = 120 } end
  return delta
end

local results = cx.each(selected, function(summary)
  local seen = {}
  local row = cx.change(summary.id, routing_change, {
    -- Capacity: last hour's load against the staffed agents.
    check = function(q, payload)
      local m = analytics(q.id, { interval = "PT1H", metrics = { "offered", "averageHandleTime", "staffedAgents" } })
      local traffic = capacity.erlangs(m.offered, 3600, m.averageHandleTime)
      seen.agents = math.max(1, math.floor(m.staffedAgents + 0.5))
      local sla = q.serviceLevelTarget or {}
      -- A chat agent takes several conversations at once (the queue's concurrency).
      seen.needed = capacity.agents_required(traffic, m.averageHandleTime, (sla.threshold or 80) / 100, sla.time or 20, 0, q.concurrency)
      local problem
      seen.utilization, problem = capacity.utilization(seen.agents, traffic, m.averageHandleTime, payload.wrapUpTime or 0, q.concurrency)
      if problem and not force then return problem end
    end,
  })
  row.agents, row.needed, row.utilization = seen.agents, seen.needed, seen.utilization
  return row
end, { concurrency = 4 })

print(("%-28s %6s %7s %7s  %s"):format("queue", "util", "agents", "needed", "outcome"))
local deployed = 0
for _, r in ipairs(results) do
  local outcome
  if r.outcome == "written" or r.outcome == "planned" then
    deployed = deployed + 1
    outcome = r.outcome == "written" and ("deployed v%d (%d %s)"):format(r.version, #r.changed, #r.changed == 1 and "field" or "fields")
      or ("planned: %d %s"):format(#r.changed, #r.changed == 1 and "field" or "fields")
    -- The seed's per-queue WFM callback, with the write's latency (handed off: the run waits for
    -- it). A dry run plans it too, without a latency (nothing was written): a plan's apply then
    -- tells WFM of each queue, as a run does.
    webhook("wfm", { event = "queue_routing_updated", queue_id = r.queue_id, strategy = strategy, latency_ms = r.latency_ms })
  elseif r.outcome == "unchanged" then
    outcome = "unchanged (already " .. strategy .. ")"
  else
    outcome = r.outcome .. ": " .. tostring(r.message)
  end
  print(("%-28s %6s %7s %7s  %s"):format(r.name or r.queue_id, r.utilization and ("%.2f"):format(r.utilization) or "-",
    r.agents or "-", r.needed or "-", outcome))
end

local sync = webhook("wfm", { event = "queue_routing_updated", channel = channel, strategy = strategy, deployed = deployed },
  { wait = true })
log.info("WFM notified: %s", sync.status or (sync.planned and "planned") or "?")
-- A queue that could not be changed fails the run (exit 1) now that the others are done and told.
cx.require_success(results)
