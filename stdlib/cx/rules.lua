--- cx.rules: the client's one table of what the platform accepts — routing strategies, agent
--- statuses, the roles that may change status, default pause reasons and tenant limits. Used by
--- `cx.validate` and by the `agent_status` binding (through the runbook extension), so the two
--- can never disagree. (The sandbox tenant emulates the server and keeps its own copy.)
local M = {}

--- Routing strategies (DESIGN §10).
M.STRATEGIES = { "priority", "longest_idle", "fewest_calls", "skill_based", "random", "weighted" }

--- Channels a queue serves.
M.CHANNELS = { "chat", "email", "voice" }

--- The fields every queue has: a deploy replaces the whole queue, and the platform refuses one
--- without them (a field within an object written with a dot).
M.REQUIRED_FIELDS = { "name", "channel", "routing.strategy" }

--- What the platform accepts for a queue's own fields: contacts an agent takes at once, and the
--- wrap-up after each (seconds).
M.MAX_CONCURRENCY = 10
M.MAX_WRAP_UP_SECONDS = 3600
M.MAX_LONGEST_IDLE_SECONDS = 86400

--- The longest a contact may wait in a queue (maxWaitTime, seconds).
M.MAX_WAIT_SECONDS = 3600

--- Agent statuses, in the order messages list them.
M.STATUSES = { "Available", "Busy", "Break", "Training", "Offline" }

--- Roles that may change an agent's status.
M.STATUS_ROLES = { "Agent", "Supervisor" }

--- Tenant limits when cxrun.toml sets none (the seeds' values).
M.DEFAULT_LIMITS = {
  max_waiters = 100, max_skill_requirements = 10, max_skills = 100, max_hold_seconds = 300, max_overflow_depth = 3,
  max_priority_level = 10,
  pause_reasons = { "IT Issue", "Queue Full", "Skill Gap", "Manager Meeting", "System Maintenance" },
}

--- A set (value -> true) of a list.
---@param list string[]
---@return table<string, boolean>
function M.set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

--- The problem with a status request `{status=, pause_reason=}` under `limits`, or nil.
---@param req table
---@param limits table?
---@return string? path
---@return string? message
function M.status_request_problem(req, limits)
  local reasons = (limits and limits.pause_reasons) or M.DEFAULT_LIMITS.pause_reasons
  -- A slip ('break', 'Avialable') is named with what it most likely means.
  local function meant(v, known)
    local near = type(v) == "string" and require("cx.names").nearest(v, known)
    return near and (" (did you mean %s?)"):format(near) or ""
  end
  if not M.set(M.STATUSES)[req.status] then
    return "status", ("status must be one of %s, got '%s'%s"):format(table.concat(M.STATUSES, ", "), tostring(req.status),
      meant(req.status, M.STATUSES))
  end
  if req.status == "Break" and req.pause_reason == nil then
    return "pause_reason", ("Break needs a pause_reason (one of %s)"):format(table.concat(reasons, ", "))
  end
  if req.pause_reason ~= nil and not M.set(reasons)[req.pause_reason] then
    return "pause_reason", ("pause_reason must be one of %s, got '%s'%s"):format(table.concat(reasons, ", "), tostring(req.pause_reason),
      meant(req.pause_reason, reasons))
  end
  return nil
end

return M
