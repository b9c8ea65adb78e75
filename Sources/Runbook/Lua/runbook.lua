-- runbook.lua — a LuaHost extension run inside each runbook's sandbox: `validate` over the stdlib
-- validators, audited like every binding, and `cx.tenant`. Receives the host's private table.
local private = ...
local cx, audit, now, known, queue = private.cx, private.audit_pure, private.now, private.known, private.queue
local tenant = known()
cx.tenant = { name = tenant.name, limits = tenant.limits }

local validators
local function validate(payload, opts)
  local started = now()
  validators = validators or require("cx.validate")
  local info = known()
  local ctx = { limits = info.limits, skills = info.skills ~= cx.null and info.skills or nil, queue = queue }
  local ok, problems = validators.run(payload, opts, ctx)
  local target = type(payload) == "table" and rawget(payload, "id") or nil
  audit("validate", target, { ok = ok, problems = #problems }, now() - started, { queue_id = target or cx.null })
  return ok, problems
end
cx.validate = validate
_ENV.validate = validate
