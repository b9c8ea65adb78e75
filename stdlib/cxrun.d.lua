---@meta
-- LuaLS definitions of what cxrun gives a runbook (DESIGN.md §5). Point your editor's
-- Lua.workspace.library at stdlib/ to get completion for the bindings and the stdlib.

---@alias cx.ErrorCode "invalid"|"not_found"|"conflict"|"unauthorized"|"forbidden"|"rate_limited"|"unavailable"|"timeout"|"network"|"sandbox"|"locked"

---@class cx.Error                 what a failed binding raises
---@field code cx.ErrorCode
---@field status integer?          the HTTP status, when there was a response
---@field message string
---@field details table?           the server's error body, or paths for a conflict

---@alias cx.Strategy "priority"|"longest_idle"|"fewest_calls"|"skill_based"|"random"|"weighted"

---@class cx.Queue: table          a queue document (DESIGN.md §10: camelCase fields, times in seconds)
---@field id string
---@field version integer          server-managed; bumps on every write
---@field name string
---@field channel "voice"|"chat"|"email"
---@field routing { strategy: cx.Strategy, longestIdleSeconds: integer?, priority: { enabled: boolean, levels: integer[] }? }?
---@field skills { id: string, level: integer }[]?
---@field skillRequirements { skill: string, proficiency: integer, required: boolean }[]?
---@field serviceLevelTarget { threshold: integer, time: integer }?   threshold in percent, time in seconds
---@field maxWaitTime integer?     seconds
---@field maxWaiters integer?
---@field wrapUpTime integer?      seconds
---@field concurrency integer?     contacts an agent handles at once (chat: 2–3)
---@field waitStrategy { type: string, positionThreshold: integer?, abandonmentThreshold: integer? }?
---@field callback { enabled: boolean, positionThreshold: integer? }?
---@field maxHoldTime integer?     seconds
---@field overflow { enabled: boolean, action: "routeToQueue"|"drop", targetQueueId: string?, waitTime: integer? }?

---@class cx.Agent: table          a user as the API shows it
---@field id string
---@field firstName string
---@field lastName string
---@field status "Available"|"Busy"|"Break"|"Training"|"Offline"
---@field pauseReason string?
---@field roles { name: string }[]
---@field queueIds string[]
---@field routingProfileId string?
---@field shiftSchedule { start: number, ["end"]: number, onShift: boolean, startHour: integer, durationHours: integer }
---@field wrapUp { active: boolean, ["until"]: number? }

---@class cx.DeployResult
---@field version integer?
---@field previous_version integer
---@field changed string[]
---@field planned boolean?         set by a dry run
---@field skipped boolean?         nothing to change

---@class cx.Task

---@param queue_id string
---@return cx.Queue
function fetch(queue_id) end

---@param base table
---@param changes table
---@return table
function build(base, changes) end

--- Runs the rule sets `opts.rules` names (the defaults when it names none), then its functions:
--- each returns nil (or true, or `{}`) for no problem, else a list of `{path=, message=}`, one
--- such table, a message, or `false, message`. Any other answer raises at the call.
---@param payload table
---@param opts { rules: (string|fun(payload: table, ctx: table): (table[]|table|string|boolean|nil))[] }?
---@return boolean ok
---@return cx.validate.Problem[] problems
function validate(payload, opts) end

--- Replaces the whole queue: `payload` is its document as `build(fetch(queue_id), changes)` makes
--- it, with the `id` and `version` it was fetched with.
---@param queue_id string
---@param payload table
---@return cx.DeployResult
function deploy(queue_id, payload) end

--- Only the fields in `changes` (with the `version` of the fetched document they were built
--- from), sent as an HTTP PATCH; a concurrent change is merged as for `deploy`; rollback-able.
---@param queue_id string
---@param changes table
---@return cx.DeployResult
function patch(queue_id, changes) end

--- Restores a queue this run (or `opts.run`) deployed, or a user this run reassigned.
---@param queue_id string          a queue id, or a user id this run reassigned
---@param opts { run: string?, force: boolean? }?
---@return { version: integer?, restored: boolean?, changed: string[]|boolean, planned: boolean?, routing_profile_id: string? }
function rollback(queue_id, opts) end

--- Sets an agent's routing profile (seed 003's reassignment); audited, dry-run aware, rollback-able.
--- A profile the tenant does not have is `not_found` before anything is sent.
---@param user_id string
---@param routing_profile_id string
---@return { routing_profile_id: string, previous_routing_profile_id: string?, changed: boolean?, planned: boolean?, latency_ms: number? }
function reassign(user_id, routing_profile_id) end

---@param user_id string
---@param req { status: "Available"|"Busy"|"Break"|"Training"|"Offline", pause_reason: string?, wrap_up_code: string?, auto_available: boolean?, respect_wrap_up: boolean? }
---@return { status: string, previous_status: string?, planned: boolean? }
function agent_status(user_id, req) end

---@param name string              a webhook configured in cxrun.toml (never a URL)
---@param payload table
---@param opts { wait: boolean? }?
---@return { id: string, status: string, attempts: integer?, planned: boolean? }
function webhook(name, payload, opts) end

--- A filter key it does not know, or a value of the wrong kind, fails at the call; `ids`, given, picks (`{}`: none).
--- `channel` is one of cx.rules.CHANNELS (any case), else the call fails.
---@param filter { channel: "voice"|"chat"|"email"|string?, name: string?, ids: string[]? }?
---@return cx.Queue[]
function queues(filter) end

---@return table[]
function skills() end

--- The tenant's routing profiles, the ids `reassign` takes: check an argument against them before
--- changing anything. Raises `not_found` when the tenant does not list them.
---@return { id: string, name: string? }[]
function routing_profiles() end

--- `status` is one of cx.rules.STATUSES (any case), else the call fails.
---@param filter { queue: string?, status: "Available"|"Busy"|"Break"|"Training"|"Offline"|string? }?
---@return cx.Agent[]
function agents(filter) end

---@param user_id string
---@return cx.Agent
function agent(user_id) end

--- One queue's metrics by short name; a queue the tenant has no data for is zeros with `no_data = true`.
---@param queue_id string?         nil: a row per queue
---@param opts { interval: string?, metrics: string[]? }?
---@return table
function analytics(queue_id, opts) end

---@class cxlib
---@field args table               script arguments: [1..n], and KEY for KEY=VALUE
---@field run { id: string, tenant: string, dry_run: boolean }
---@field tenant { name: string, limits: table, webhooks: string[] }  webhooks: the configured names (no URLs, no secrets)
---@field null userdata            JSON null (a null read from the tenant is this, and Lua counts it as true: compare with `~= cx.null`)
cx = {}

-- Every binding is also a field of cx.
cx.fetch, cx.build, cx.validate, cx.deploy, cx.patch, cx.rollback = fetch, build, validate, deploy, patch, rollback
cx.agent_status, cx.webhook, cx.reassign = agent_status, webhook, reassign
cx.queues, cx.skills, cx.agents, cx.agent, cx.analytics = queues, skills, agents, agent, analytics
cx.routing_profiles = routing_profiles

---@param t table?
---@return table                   t, marked as a JSON array (even when empty)
function cx.array(t) end

---@param fn function
---@return cx.Task
function cx.spawn(fn, ...) end

---@param task cx.Task
---@return any ...
function cx.wait(task, ...) end

---@param list any[]
---@param fn fun(item: any, index: integer): any
---@param opts { concurrency: integer? }?
---@return any[] results           in input order
function cx.each(list, fn, opts) end

---@param seconds number
function cx.sleep(seconds) end

---@class cx.ChangeRow
---@field queue_id string
---@field name string?
---@field outcome "written"|"planned"|"unchanged"|"invalid"|"skipped"|"conflict"|"failed"|"partial"  partial: written, but the server did not apply `not_applied`
---@field version integer?         after a write
---@field changed string[]?        the fields written (or planned)
---@field merged boolean?          merged over someone else's concurrent change
---@field latency_ms number?       the write's latency
---@field message string?          why it was not written
---@field problems table[]?        validate's problems when invalid
---@field fell_back string?        why `opts.fallback` was used instead
---@field not_applied string[]?     partial: the fields the server took the write without

--- One queue's change as one step — fetch, build, validate, write (deploy, or patch with the
--- fetched version) — never raising for what the tenant or the rules say: an outcome row.
---@param queue_id string
---@param changes table|fun(q: cx.Queue): table?   the changes, or a function of the fetched document returning them (never writing the queue itself: that fails the call)
---@param opts { rules: string[]?, forecast: table?, patch: boolean?, check: (fun(q: cx.Queue, payload: table): string?)?, fallback: (fun(q: cx.Queue, problems: table[]): table?)? }?
---@return cx.ChangeRow
function cx.change(queue_id, changes, opts) end

--- Fails the run (exit 1) at this line when a row's outcome is invalid, conflict, failed or
--- partial, naming each; called last, after the runbook's table and notices.
---@param rows cx.ChangeRow[]|table[]   rows with outcome, and name or queue_id, and message
---@param noun string?                  what a row is, plural (default "queues")
---@return integer count
function cx.require_success(rows, noun) end

log = {}
---@param fmt string
function log.info(fmt, ...) end
---@param fmt string
function log.warn(fmt, ...) end
---@param fmt string
function log.error(fmt, ...) end
