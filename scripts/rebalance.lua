-- rebalance.lua — seed 000: apply a routing strategy with priority levels to a set of queues,
-- check capacity (the seed's utilization formula and Erlang C), deploy, notify the WFM system.
-- Arguments:
--   channel=voice|chat|email   which queues (default voice)
--   strategy=NAME              priority, longest_idle, fewest_calls, skill_based, random, weighted (default priority)
--   levels=1,2,3               priority levels for the priority strategy (default 1,2,3)
--   limit=N                    at most N queues, by name (default 5)
--   force=true                 deploy even where the capacity check fails
-- Example:
--   cxrun run scripts/rebalance.lua -- channel=voice strategy=priority levels=1,2,3 limit=5
--   cxrun run --dry-run scripts/rebalance.lua -- channel=chat strategy=longest_idle
local capacity = require("cx.capacity")
local pick = require("cx.pick")
local validators = require("cx.validate")

local args = cx.args
local channel = args.channel or "voice"
local strategy = args.strategy or "priority"
local limit = tonumber(args.limit or "5") or 5
local force = args.force == "true"
local levels = cx.array {}
for n in (args.levels or "1,2,3"):gmatch("%d+") do levels[#levels + 1] = tonumber(n) end

local selected = pick.by_name(queues({ channel = channel }), limit)
log.info("rebalancing %d %s queues to %s", #selected, channel, strategy)

local results = cx.each(selected, function(summary)
  local q = fetch(summary.id)
  local payload = build(q, {
    routing = {
      strategy = strategy,
      priority = { enabled = strategy == "priority", levels = strategy == "priority" and levels or cx.array {} },
    },
  })
  local ok, problems = validate(payload)
  if not ok then
    return { name = q.name, outcome = "invalid: " .. validators.describe(problems) }
  end
  -- Capacity: last hour's load against the staffed agents.
  local m = analytics(q.id, { interval = "PT1H", metrics = { "offered", "averageHandleTime", "staffedAgents" } })
  local traffic = capacity.erlangs(m.offered, 3600, m.averageHandleTime)
  local agents = math.max(1, math.floor(m.staffedAgents + 0.5))
  local sla = q.serviceLevelTarget or {}
  -- A chat agent takes several conversations at once (the queue's concurrency).
  local needed = capacity.agents_required(traffic, m.averageHandleTime, (sla.threshold or 80) / 100, sla.time or 20, 0, q.concurrency)
  local utilization, problem = capacity.utilization(agents, traffic, m.averageHandleTime, q.wrapUpTime or 0, q.concurrency)
  local row = { name = q.name, utilization = utilization, agents = agents, needed = needed }
  if problem and not force then
    row.outcome = "skipped: " .. problem
    return row
  end
  local ok2, result = pcall(deploy, q.id, payload)
  if not ok2 then
    row.outcome = "failed: " .. tostring(result)
  elseif result.skipped then
    row.outcome = "unchanged (already " .. strategy .. ")"
  elseif result.planned then
    row.outcome = ("planned: %d %s"):format(#result.changed, #result.changed == 1 and "field" or "fields")
  else
    row.outcome = ("deployed v%d (%d %s)"):format(result.version, #result.changed, #result.changed == 1 and "field" or "fields")
  end
  return row
end, { concurrency = 4 })

print(("%-28s %6s %7s %7s  %s"):format("queue", "util", "agents", "needed", "outcome"))
local deployed = 0
for _, r in ipairs(results) do
  print(("%-28s %6s %7s %7s  %s"):format(r.name, r.utilization and ("%.2f"):format(r.utilization) or "-",
    r.agents or "-", r.needed or "-", r.outcome))
  if r.outcome:find("^deployed") then deployed = deployed + 1 end
end

local sync = webhook("wfm", { event = "queue_routing_updated", channel = channel, strategy = strategy, deployed = deployed },
  { wait = true })
log.info("WFM notified: %s", sync.status or (sync.planned and "planned") or "?")
