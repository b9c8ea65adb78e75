-- runbook.lua — a LuaHost extension run inside each runbook's sandbox: `validate` over the stdlib
-- validators, audited like every binding, and `cx.tenant`. Receives the host's private table.
local private = ...
local cx, audit, now, known, queue = private.cx, private.audit_pure, private.now, private.known, private.queue
local queues_listed, overflow_upstream = private.queues_listed, private.overflow_upstream
local tenant = known()
cx.tenant = { name = tenant.name, limits = tenant.limits }

local validators
local loading = {}

--- Calls the read `load` (a binding) for `what`, once however many tasks need it at the same
--- time: the others wait until it is done.
local function load_once(what, load)
  if loading[what] then
    while loading[what] do cx.sleep(0.005) end
    return
  end
  loading[what] = true
  pcall(load)
  loading[what] = nil
end
local function validate(payload, opts)
  local started = now()
  validators = validators or require("cx.validate")
  local info = known()
  if info.skills == cx.null and type(payload) == "table" and type(rawget(payload, "skills")) == "table" then
    -- The tenant's skills, loaded on first need so that unknown skill ids are caught: one audited
    -- read per run, however many tasks validate at once (the others wait for it).
    load_once("skills", cx.skills)
    info = known()
  end
  local overflow = type(payload) == "table" and rawget(payload, "overflow") or nil
  local upstream
  if type(overflow) == "table" and overflow.enabled ~= false and overflow.action == "routeToQueue" then
    -- Links already leading into this queue count toward the depth: the host walks the run's
    -- overflow graph, whole once the queues are listed (once per run unless the script did).
    if not queues_listed() then load_once("queues", cx.queues) end
    upstream = overflow_upstream
  end
  local ctx = { limits = info.limits, skills = info.skills ~= cx.null and info.skills or nil, queue = queue,
    upstream = upstream }
  local ok, problems = validators.run(payload, opts, ctx)
  local target = type(payload) == "table" and rawget(payload, "id") or nil
  audit("validate", target, { ok = ok, problems = #problems }, now() - started, { queue_id = target or cx.null })
  return ok, problems
end
cx.validate = validate
_ENV.validate = validate

-- agent_status: the request is checked against cx.rules (the same table validate uses), then the
-- host fetches the agent, checks role and shift, and sets the status (one audited call).
local rules
local set_status = private.agent_status
local function agent_status(user_id, req)
  if type(user_id) ~= "string" or user_id == "" then
    error(("bad argument #1 to 'agent_status' (user id expected, got %s)"):format(type(user_id)), 2)
  end
  if type(req) ~= "table" then
    error(("bad argument #2 to 'agent_status' (table {status=...} expected, got %s)"):format(type(req)), 2)
  end
  rules = rules or require("cx.rules")
  local _, problem = rules.status_request_problem(req, cx.tenant.limits)
  local ok, result = pcall(set_status, user_id, req, problem or cx.null, rules.STATUS_ROLES)
  if ok then return result end
  if type(result) == "string" then error((result:gsub("^%[cx%]:%d+: ", "")), 2) end
  error(result, 0)
end
cx.agent_status = agent_status
_ENV.agent_status = agent_status
