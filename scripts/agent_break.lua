-- agent_break.lua — seed 004: put agents of a queue on break with a pause reason, respecting
-- their shifts, roles and wrap-up: an agent in wrap-up (or caught by the tenant's limit on
-- concurrent status changes: a 409) is tried again with backoff for a bounded time, then
-- reported. Each agent put on break is one WFM event, and the run's summary another.
-- Arguments:
--   queue=ID            the queue whose agents go on break (default: the first voice queue)
--   count=N             how many agents (default 2)
--   reason=TEXT         pause reason from the tenant's list (default "Manager Meeting")
--   status=NAME         which agents to take: Available (default) or Busy
--   wait=SECONDS        how long to keep trying an agent whose change is blocked (default 30)
-- Example:
--   cxrun run scripts/agent_break.lua -- count=3 reason="Manager Meeting" wait=60
local pick = require("cx.pick")

-- The tenant's pause reasons (cxrun.toml's limits, else the seeds'): a reason it does not take is
-- refused with the arguments, not agent by agent after the run has started.
local reasons = cx.tenant.limits.pause_reasons or require("cx.rules").DEFAULT_LIMITS.pause_reasons
local args = require("cx.params").read(cx.args, {
  queue = {},
  count = { type = "integer", default = 2, min = 1 },
  reason = { default = "Manager Meeting", one_of = reasons },
  status = { default = "Available", one_of = { "Available", "Busy" } },
  wait = { type = "number", default = 30, min = 0 },
})
local count, reason, patience, queue_id = args.count, args.reason, args.wait, args.queue
if not queue_id then
  queue_id = pick.by_name(queues({ channel = "voice" }), 1)[1].id
end

--- Sets one agent on break, trying again with backoff (0.25 s doubling, at most 4 s between
--- tries) while the change is blocked, for at most `patience` seconds.
---@return boolean ok
---@return table result_or_error
---@return integer tries
local function break_with_backoff(user_id)
  local waited, pause, tries = 0, 0.25, 0
  while true do
    tries = tries + 1
    local ok, r = pcall(agent_status, user_id, { status = "Break", pause_reason = reason })
    if ok or type(r) ~= "table" or r.code ~= "conflict" or waited + pause > patience then return ok, r, tries end
    cx.sleep(pause)
    waited = waited + pause
    pause = math.min(pause * 2, 4)
  end
end

local on_break, blocked = {}, 0
for _, a in ipairs(agents({ queue = queue_id, status = args.status })) do
  if #on_break >= count then break end
  local ok, r, tries = break_with_backoff(a.id)
  local name = ("%s %s"):format(a.firstName, a.lastName)
  if ok then
    on_break[#on_break + 1] = a.id
    print(("%s: %s"):format(name, r.planned and "break planned" or "on break"))
    -- The seed's per-agent WFM event (handed off; the run waits for the delivery). A dry run
    -- plans it too (without the latency only a change has), so a plan's apply tells WFM as a run does.
    webhook("wfm", { event = "agent_status_updated", user_id = a.id, status = "Break", pauseReason = reason,
      previous_status = r.previous_status, latency_ms = r.latency_ms })
  elseif type(r) == "table" and (r.code == "conflict" or r.code == "invalid") then
    blocked = blocked + 1
    print(("%s: skipped after %d %s (%s)"):format(name, tries, tries == 1 and "try" or "tries", r.message))
  else
    error(r)
  end
end
local sent = webhook("wfm", { event = "agent_status_updated", status = "Break", pauseReason = reason, userIds = cx.array(on_break) },
  { wait = true })
log.info("%d on break, %d skipped; WFM: %s", #on_break, blocked, sent.status or (sent.planned and "planned") or "?")
