-- agent_break.lua — seed 004: put agents of a queue on break with a pause reason, respecting
-- their shifts, roles and wrap-up (an agent in wrap-up is reported, not forced), then tell the
-- WFM system.
-- Arguments:
--   queue=ID            the queue whose agents go on break (default: the first voice queue)
--   count=N             how many agents (default 2)
--   reason=TEXT         pause reason from the tenant's list (default "Manager Meeting")
-- Example:
--   cxrun run scripts/agent_break.lua -- count=3 reason="Manager Meeting"
local pick = require("cx.pick")

local args = cx.args
local count = tonumber(args.count or "2") or 2
local reason = args.reason or "Manager Meeting"
local queue_id = args.queue
if not queue_id then
  queue_id = pick.by_name(queues({ channel = "voice" }), 1)[1].id
end

local on_break, blocked = {}, 0
for _, a in ipairs(agents({ queue = queue_id, status = "Available" })) do
  if #on_break >= count then break end
  local ok, r = pcall(agent_status, a.id, { status = "Break", pause_reason = reason })
  if ok then
    on_break[#on_break + 1] = a.id
    print(("%s %s: %s"):format(a.firstName, a.lastName, r.planned and "break planned" or "on break"))
  elseif r.code == "conflict" or r.code == "invalid" then
    blocked = blocked + 1
    print(("%s %s: skipped (%s)"):format(a.firstName, a.lastName, r.message))
  else
    error(r)
  end
end
local sent = webhook("wfm", { event = "agent_status_updated", status = "Break", pauseReason = reason, userIds = cx.array(on_break) },
  { wait = true })
log.info("%d on break, %d skipped; WFM: %s", #on_break, blocked, sent.status or (sent.planned and "planned") or "?")
