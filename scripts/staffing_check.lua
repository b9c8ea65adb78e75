-- staffing_check.lua — for every queue, compare the staffed agents with what Erlang C says its
-- SLA target needs at the current load, and print the gaps. Read-only.
-- Arguments:
--   channel=voice|chat|email   only these queues (default all)
--   interval=PT1H              the analytics window the load is read from (default PT1H)
-- Example:
--   cxrun run scripts/staffing_check.lua -- channel=voice
local capacity = require("cx.capacity")

local SECONDS = { PT15M = 900, PT30M = 1800, PT1H = 3600, P1D = 86400 }
local args = require("cx.params").read(cx.args, {
  channel = { one_of = require("cx.rules").CHANNELS },
  interval = { default = "PT1H", one_of = { "PT15M", "PT30M", "PT1H", "P1D" } },
})
local filter = args.channel and { channel = args.channel } or nil
local interval = args.interval
local seconds = SECONDS[interval]

local by_id = {}
for _, q in ipairs(queues(filter)) do by_id[q.id] = q end
local rows = {}
for _, m in ipairs(analytics(nil, { interval = interval, metrics = { "offered", "averageHandleTime", "staffedAgents", "serviceLevel" } })) do
  local q = by_id[m.queue_id]
  if q then
    local sla = q.serviceLevelTarget or {}
    local traffic = capacity.erlangs(m.offered, seconds, m.averageHandleTime)
    local needed = capacity.agents_required(traffic, m.averageHandleTime, (sla.threshold or 80) / 100, sla.time or 20, 0, q.concurrency)
    local staffed = m.staffedAgents
    rows[#rows + 1] = { name = q.name, staffed = staffed, needed = needed, gap = staffed - needed, sl = m.serviceLevel }
  end
end
table.sort(rows, function(a, b) return a.gap < b.gap end)

print(("%-28s %8s %7s %7s %9s"):format("queue", "staffed", "needed", "gap", "SL now"))
local short = 0
for _, r in ipairs(rows) do
  if r.gap < 0 then short = short + 1 end
  print(("%-28s %8.1f %7d %+7.1f %8.0f%%"):format(r.name, r.staffed, r.needed, r.gap, r.sl * 100))
end
log.info("%d of %d queues are short of their SLA staffing", short, #rows)
