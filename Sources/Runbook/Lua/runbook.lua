-- runbook.lua — a LuaHost extension run inside each runbook's sandbox: `validate` over the stdlib
-- validators, audited like every binding, and `cx.tenant`. Receives the host's private table.
local private = ...
local cx, audit, now, queue = private.cx, private.audit_pure, private.now, private.queue
local queues_listed, overflow_upstream = private.queues_listed, private.overflow_upstream
local known_generation, queue_writes = private.known_generation, private.queue_writes

--- What the run knows of the tenant (name, limits, skills), converted again only when the host
--- says it changed: converting every skill document at every validate was a third of its cost.
local cached_known, cached_generation
local function known()
  local generation = known_generation()
  if generation ~= cached_generation then cached_known, cached_generation = private.known(), generation end
  return cached_known
end

--- A copy (`deep`: of nested tables too), so that a rule set given `ctx` cannot change what
--- later validations see. Skills are copied one level: the validators only ask which exist.
local function copy(t, deep)
  if type(t) ~= "table" then return t end
  local out = {}
  for k, v in pairs(t) do out[k] = deep and copy(v, true) or v end
  return setmetatable(out, getmetatable(t))
end

local tenant = known()
-- The configured webhooks' names (never their URLs or secrets): a runbook given a webhook's name
-- as an argument checks it before changing anything, as a literal name is checked before a run.
local webhooks = cx.array {}
for i, name in ipairs(tenant.webhooks) do webhooks[i] = name end
cx.tenant = { name = tenant.name, limits = copy(tenant.limits, true), webhooks = webhooks }

-- What the read filters accept, from the one rule table: a misspelt channel or status matched
-- nothing, and a script went on with no queue or agent, exit 0. (No stdlib: no check.)
do
  local found, rule_table = pcall(require, "cx.rules")
  if found then private.filter_values({ channel = rule_table.CHANNELS, status = rule_table.STATUSES }) end
end

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
  -- Once the queues are listed, a target the run does not know is one the tenant does not have.
  local ctx = { limits = copy(info.limits, true), skills = info.skills ~= cx.null and copy(info.skills) or nil, queue = queue,
    upstream = upstream, complete = queues_listed() }
  local target = type(payload) == "table" and rawget(payload, "id") or nil
  local ran, ok, problems = pcall(validators.run, payload, opts, ctx)
  if not ran then
    -- A custom rule that failed, or opts it cannot read: the call still has its row.
    audit("validate", target, { error = tostring(ok) }, now() - started, { queue_id = target or cx.null }, "error")
    -- What validate itself refuses is placed at the script's call; a rule's own error has its line.
    error(ok, type(ok) == "string" and ok:find("^validate: ") and 2 or 0)
  end
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
  -- A misspelt key ({auto_availble = true}) was a default the script did not ask for.
  require("cx.check").options("agent_status", req, { status = "string", pause_reason = "string", wrap_up_code = "string",
    auto_available = "boolean", respect_wrap_up = "boolean" }, 3, "request")
  rules = rules or require("cx.rules")
  local _, problem = rules.status_request_problem(req, cx.tenant.limits)
  local ok, result = pcall(set_status, user_id, req, problem or cx.null, rules.STATUS_ROLES)
  if ok then return result end
  if type(result) == "string" then error((result:gsub("^%[cx%]:%d+: ", "")), 2) end
  error(result, 0)
end
cx.agent_status = agent_status
_ENV.agent_status = agent_status

--- What `fn(...)` returns — the changes to write to `queue_id` — refused at the caller of
--- cx.change when the queue was written meanwhile: a function that deploys by itself made its row
--- say `unchanged` (or `invalid`, its deploy's result taken for changes) for a queue it had changed.
---@param queue_id string
---@param fn function
---@param what string what `fn` is, for the message
---@return table? changes
local function changes_from(queue_id, fn, what, ...)
  local before = queue_writes(queue_id)
  local delta = fn(...)
  if queue_writes(queue_id) ~= before then
    error(("cx.change: queue %s was written while %s ran (a deploy or patch in it, or another task of this run "
      .. "writing the same queue): return the changes, and cx.change validates and writes them once"):format(queue_id, what), 3)
  end
  return delta
end

--- cx.change(queue_id, changes, opts): the step every runbook repeats — fetch, build, validate,
--- write — as one call that never raises for what the tenant or the rules say: it returns an
--- outcome row the runbook can print and report. `changes` is a table, or a function of the
--- fetched document returning one (nil: nothing to change). Options: `rules` (validate's rule
--- sets), `forecast` (for the capacity rule), `patch = true` (write only the changed fields, with
--- the fetched version), `check = function(q, payload) -> problem?` (a runbook's own guard,
--- e.g. capacity), `fallback = function(q, problems) -> changes?` (what to write instead when
--- the change is invalid or the tenant refuses it).
---@param queue_id string
---@param changes table|fun(q: table): table?
---@param opts table?
---@return table row {queue_id=, name=, outcome=, version=, changed=, merged=, latency_ms=, message=, problems=, not_applied=}
local function change(queue_id, changes, opts)
  if type(queue_id) ~= "string" or queue_id == "" then
    error(("bad argument #1 to 'cx.change' (queue id expected, got %s)"):format(type(queue_id)), 2)
  end
  if type(changes) ~= "table" and type(changes) ~= "function" then
    error(("bad argument #2 to 'cx.change' (table or function expected, got %s)"):format(type(changes)), 2)
  end
  opts = require("cx.check").options("cx.change", opts,
    { rules = "table", forecast = "table", patch = "boolean", check = "function", fallback = "function" })
  validators = validators or require("cx.validate")
  local row = { queue_id = queue_id }
  local got, q = pcall(cx.fetch, queue_id)
  if not got then
    row.outcome, row.message = "failed", tostring(q)
    return row
  end
  row.name = q.name
  local function attempt(delta)
    local payload = cx.build(q, delta)
    local ok, problems = validate(payload, { rules = opts.rules, forecast = opts.forecast })
    if not ok then return "invalid", problems end
    if opts.check then
      local why = opts.check(q, payload)
      -- Only nil goes ahead: `false` or `true` could mean either, and a guard must not fail open.
      if why ~= nil and type(why) ~= "string" then
        error(("cx.change: opts.check returned a %s; return nil to go ahead, or a message saying why not"):format(type(why)), 3)
      end
      if why then return "skipped", why end
    end
    local done, r
    if opts.patch then
      local patch = { version = q.version }
      for k, v in pairs(delta) do patch[k] = v end
      done, r = pcall(cx.patch, queue_id, patch)
    else
      done, r = pcall(cx.deploy, queue_id, payload)
    end
    if not done then
      -- Taken with a new version, yet not all of it held: written, and not to be written again.
      if type(r) == "table" and type(r.details) == "table" and r.details.not_applied then return "partial", r end
      return "refused", r
    end
    return "written", r
  end
  -- Not `f(q) or changes`: a function answering nil (nothing to change) was then sent to build itself.
  local delta = changes
  if type(changes) == "function" then delta = changes_from(queue_id, changes, "the changes function", q) end
  if delta ~= nil and type(delta) ~= "table" then
    error(("cx.change: the changes function returned a %s; return a table of changes, or nil for none"):format(type(delta)), 2)
  end
  if delta == nil then
    row.outcome = "unchanged"
    return row
  end
  local state, r = attempt(delta)
  local tenant_refused = state == "refused" and type(r) == "table" and r.code == "invalid"
  if (state == "invalid" or tenant_refused) and opts.fallback then
    local problems = state == "invalid" and r or { { path = "", rule = "tenant", message = tostring(r) } }
    local instead = changes_from(queue_id, opts.fallback, "opts.fallback", q, problems)
    if instead ~= nil and type(instead) ~= "table" then
      error(("cx.change: opts.fallback returned a %s; return a table of changes, or nil to write nothing"):format(type(instead)), 2)
    end
    if instead ~= nil then
      row.fell_back = state == "invalid" and validators.describe(r) or tostring(r)
      state, r = attempt(instead)
    end
  end
  if state == "invalid" then
    row.outcome, row.problems, row.message = "invalid", r, validators.describe(r)
  elseif state == "skipped" then
    row.outcome, row.message = "skipped", r
  elseif state == "partial" then
    row.outcome, row.version, row.message = "partial", r.details.version, r.message
    row.not_applied = {}
    for i, miss in ipairs(r.details.not_applied) do row.not_applied[i] = miss.path end
  elseif state == "refused" then
    row.outcome = type(r) == "table" and r.code == "conflict" and "conflict" or "failed"
    row.message = type(r) == "table" and (r.message or tostring(r)) or tostring(r)
  else
    row.outcome = r.planned and "planned" or (r.skipped and "unchanged" or "written")
    row.version, row.changed, row.merged, row.latency_ms = r.version, r.changed, r.merged, r.latency_ms
  end
  return row
end
cx.change = change

--- Outcomes of a `cx.change` row that mean a change the runbook asked for did not happen.
local NOT_DONE = { invalid = true, conflict = true, failed = true, partial = true }

--- cx.require_success(rows, noun): ends the run as failed (exit 1), at the caller's line, when a
--- row's outcome says a change asked for did not happen (invalid, conflict, failed, partial),
--- naming each. A runbook calls it last, after printing its table and sending its notices: one
--- queue's failure does not stop the others, yet automation reading the exit code sees what the
--- table shows, not a success. `skipped` (the runbook's own guard), `unchanged` and `planned`
--- are not failures.
---@param rows table[] rows with `outcome`, and `name` or `queue_id`, and `message`
---@param noun string? what a row is, plural ("queues" unless given)
---@return integer count how many rows there were, all fine
local function require_success(rows, noun)
  if type(rows) ~= "table" then
    error(("bad argument #1 to 'cx.require_success' (rows expected, got %s)"):format(type(rows)), 2)
  end
  if noun ~= nil and type(noun) ~= "string" then
    error(("bad argument #2 to 'cx.require_success' (string expected, got %s)"):format(type(noun)), 2)
  end
  -- Every index up to the largest: ipairs would stop at a hole (an item whose function returned
  -- nothing) and pass the failures after it.
  local n = 0
  for k in pairs(rows) do if math.type(k) == "integer" and k > n then n = k end end
  -- A map (rows keyed by queue id) would pass as an empty list: refused, as cx.each refuses one.
  if n == 0 and next(rows) ~= nil then
    error("bad argument #1 to 'cx.require_success' (a list of rows expected, got a table with no items 1..n)", 2)
  end
  local missed = {}
  for i = 1, n do
    local row = rows[i]
    if type(row) ~= "table" or type(row.outcome) ~= "string" then
      error(("bad argument #1 to 'cx.require_success' (row %d has no outcome)"):format(i), 2)
    end
    if NOT_DONE[row.outcome] then
      missed[#missed + 1] = ("%s (%s%s)"):format(tostring(row.name or row.queue_id or ("row " .. i)), row.outcome,
        row.message and (": " .. tostring(row.message)) or "")
    end
  end
  if #missed == 0 then return n end
  local shown = {}
  for i = 1, math.min(#missed, 5) do shown[i] = missed[i] end
  local more = #missed > 5 and ("; and %d more"):format(#missed - 5) or ""
  local verb = cx.run.dry_run and "would not be changed" or "were not changed"
  error(("%d of %d %s %s as asked: %s%s"):format(#missed, n, noun or "queues", verb, table.concat(shown, "; "), more), 2)
end
cx.require_success = require_success
