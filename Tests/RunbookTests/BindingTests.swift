import CXone
import Foundation
import TestSupport
import JSONCore
import LuaHost
import Testing

@testable import Runbook
@testable import SandboxTenant

@Suite("Runbook bindings against the sandbox tenant")
struct BindingTests {
    @Test func everyBindingsHappyPath() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local all = queues()
                local voice = queues({channel = "voice"})
                assert(#all == 48 and #voice == 16, #all .. " " .. #voice)
                local q = fetch(voice[1].id)
                assert(q.version == 1)
                local payload = build(q, {maxWaitTime = 240, routing = {strategy = "priority", priority = {enabled = true, levels = cx.array{1, 2}}}})
                assert(q.maxWaitTime ~= 240, "build does not modify its base")
                local ok, problems = validate(payload)
                assert(ok, problems[1] and problems[1].message)
                local r = deploy(q.id, payload)
                print("deploy", r.version, r.previous_version, table.concat(r.changed, ","))
                local ss = skills()
                local members = agents({queue = q.id})
                local one = agent(members[1].id)
                assert(one.id == members[1].id and #ss == 25)
                local m = analytics(q.id, {metrics = {"answerRate", "serviceLevel"}})
                assert(m.queue_id == q.id and m.answerRate >= 0 and m.answerRate <= 1)
                local rows = analytics(nil, {interval = "PT1H"})
                assert(#rows == 48)
                local w = webhook("wfm", {event = "queue.updated", queue = q.id}, {wait = true})
                print("webhook", w.status, w.attempts)
                local back = rollback(q.id)
                print("rollback", back.restored, back.version)
                assert(fetch(q.id).maxWaitTime == q.maxWaitTime)
                print(cx.run.tenant, cx.run.dry_run, cx.tenant.limits.max_waiters)
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output.contains("deploy\t2\t1\tmaxWaitTime,routing.priority.enabled,routing.priority.levels,routing.strategy"), "\(output)")
            #expect(output.contains("webhook\tdelivered\t1"))
            #expect(output.contains("rollback\ttrue\t3"))
            #expect(output.contains("test\tfalse\t100"))
            let deliveries = try await bench.send(.GET, "/_sim/webhooks")["deliveries"]?.arrayValue ?? []
            #expect(deliveries.count == 1 && deliveries[0]["verified"] == true)
        }
    }

    /// An options or filter table a call does not understand is refused at the script's line:
    /// `queues({chanel = "voice"})` listed every queue, and a script meant for the voice queues
    /// acted on all of them; `{wiat = true}` did not wait, `{dryrun = true}` on deploy wrote. A
    /// misspelt webhook name gets the nearest configured one (computed here: a literal one refuses
    /// the run before it starts), a queue's name given to fetch a hint. A filter's channel or status
    /// that cx.rules does not know is refused too (it matched nothing, and the script went on with
    /// no queue or agent); they are compared ignoring case, as the API's status filter does.
    @Test func optionsACallDoesNotKnowAreRefusedAtTheScriptsLine() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local q = fetch(queues()[1].id)
                local function try(f) local ok, e = pcall(f); print(ok and "no error" or e) end
                try(function() local r = queues({chanel = "voice"}); return r end)
                try(function() local r = queues({channel = 5}); return r end)
                try(function() local r = queues("voice"); return r end)
                try(function() local r = agents({stauts = "Available"}); return r end)
                try(function() local r = analytics(q.id, {intervall = "PT15M"}); return r end)
                try(function() local r = webhook("wfm", {x = 1}, {wiat = true}); return r end)
                try(function() local r = rollback(q.id, {froce = true}); return r end)
                try(function() local r = deploy(q.id, build(q, {maxWaitTime = 100}), {dryrun = true}); return r end)
                try(function() local r = validate(q, {rule = {"sla"}}); return r end)
                try(function() local r = cx.each({1}, function() end, {concurency = 2}); return r end)
                try(function() local r = cx.change(q.id, {maxWaitTime = 100}, {chek = function() end}); return r end)
                try(function() local r = agent_status("u1", {status = "Available", auto_availble = true}); return r end)
                try(function() local r = queues({"voice"}); return r end)
                try(function() local r = webhook(("wfn"):lower(), {x = 1}); return r end)
                try(function() local r = fetch("Voice - Billing 1"); return r end)
                try(function() local r = agents({status = "Avialable"}); return r end)
                try(function() local r = queues({channel = "sms"}); return r end)
                print(#queues({ids = {}}), #queues({channel = "voice", ids = {q.id}}), #queues({}))
                print(#queues({channel = "Voice"}) == #queues({channel = "voice"}), #agents({status = "available"}) == #agents({status = "Available"}))
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == """
                book.lua:3: queues: unknown filter key 'chanel' (did you mean channel?); known: channel, ids, name
                book.lua:4: queues: filter.channel must be a string, got number
                book.lua:5: bad argument #1 to 'queues' (table of filter keys expected, got string); known: channel, ids, name
                book.lua:6: agents: unknown filter key 'stauts' (did you mean status?); known: queue, status
                book.lua:7: analytics: unknown option 'intervall' (did you mean interval?); known: interval, metrics
                book.lua:8: webhook: unknown option 'wiat' (did you mean wait?); known: wait
                book.lua:9: rollback: unknown option 'froce' (did you mean force?); known: force, run
                book.lua:10: deploy: unknown option 'dryrun'; deploy takes no options
                book.lua:11: validate: unknown option 'rule' (did you mean rules?); known: forecast, rules
                book.lua:12: cx.each: unknown option 'concurency'; known: concurrency
                book.lua:13: cx.change: unknown option 'chek' (did you mean check?); known: check, fallback, forecast, patch, rules
                book.lua:14: agent_status: unknown request field 'auto_availble' (did you mean auto_available?); known: auto_available, pause_reason, respect_wrap_up, status, wrap_up_code
                book.lua:15: bad argument #1 to 'queues' (table of filter keys expected, got a list); known: channel, ids, name
                sandbox: webhook: 'wfn' is not configured (did you mean wfm? configured: wfm)
                not_found: queue Voice - Billing 1 not found; fetch takes a queue's id (queues({name = "..."}) finds one by name) (HTTP 404)
                book.lua:18: agents: filter.status 'Avialable' is not one of Available, Busy, Break, Training, Offline (did you mean Available?)
                book.lua:19: queues: filter.channel 'sms' is not one of chat, email, voice
                0\t1\t48
                true\ttrue

                """, "\(output)")
            #expect(try await bench.requests().allSatisfy { $0["method"]?.stringValue == "GET" || $0["path"]?.stringValue?.hasPrefix("/api/") != true },
                    "nothing was written")
        }
    }

    @Test func errorsAreStructuredAndScriptsBranchOnCode() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local function code(f, ...) local ok, e = pcall(f, ...) assert(not ok) return e.code .. ":" .. tostring(e.status) end
                local q = fetch(queues()[1].id)
                print(code(fetch, "no-such-queue"))
                print(code(deploy, q.id, {maxWaitTime = 1}))
                print(code(deploy, q.id, build(q, {serviceLevelTarget = {threshold = 150}})))
                print(code(webhook, "nowhere", {}))
                print(code(webhook, "http://evil.example/hook", {}))
                print(code(agent_status, "no-user", {status = "Break"}))
                print(code(agent_status, "no-user", {status = "Sleeping"}))
                print(code(rollback, q.id))
                local ok, e = pcall(deploy, q.id, build(q, {maxWaiters = 500}))
                print(tostring(e):match("^invalid") ~= nil, e.details.errors[1].path)
                ok, e = pcall(function() return deploy(q.id, build(q, {maxWaitTime = 0/0})) end)
                print(e.code, e.message)
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == """
                not_found:404
                invalid:nil
                invalid:400
                sandbox:nil
                sandbox:nil
                invalid:nil
                invalid:nil
                not_found:nil
                true\tmaxWaiters
                invalid\tbuild: the changes cannot be JSON: NaN is not a number JSON can carry at maxWaitTime

                """, "\(output)")
            #expect(result.summary.retries == 0, "a body that cannot be JSON is not retried")
        }
    }

    /// A queue id the tenant does not have, given to a read that filters by it, is `not_found`:
    /// `queues({ids = ...})` skipped a mistyped id and `agents({queue = ...})` answered no agent,
    /// and a script went on with the rest (or with nobody), exit 0.
    @Test func readsFilteredByAnIdTheTenantDoesNotHaveAreNotFound() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local all = queues()
                local ok, e = pcall(queues, {ids = {all[1].id, "no-such-id", "also-missing"}})
                print(ok, e.code, e.message, table.concat(e.details.missing, ","))
                ok, e = pcall(agents, {queue = "no-such-queue"})
                print(ok, e.code, e.message)
                print(#queues({ids = {all[1].id, all[2].id}}), #queues({ids = {all[1].id}, channel = all[1].channel == "voice" and "chat" or "voice"}))
                print(#agents({queue = all[1].id}) >= 0)
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == """
                false\tnot_found\tqueues: the tenant has no queue with id also-missing, no-such-id\talso-missing,no-such-id
                false\tnot_found\tagents: the tenant has no queue with id no-such-queue (filter.queue)
                2\t0
                true

                """, "\(output)")
        }
    }

    @Test func forbiddenUnauthorizedAndUnavailable() async throws {
        let bench = try await Bench.start { $0.clients = [SimClient(id: "cxrun-demo", secret: "cxrun-demo-secret", scopes: ["routing:queue:view"])] }
        try await stopping(bench) {
            let (forbidden, out1) = try await bench.run("local ok, e = pcall(analytics, nil, {}) print(e.code, e.status)")
            #expect(forbidden.outcome.status == .succeeded && out1 == "forbidden\t403\n", "\(out1) \(forbidden.outcome.failureText)")
            var wrong = bench.tenant()
            wrong.endpoint?.clientSecret = "not-the-secret"
            let (unauthorized, out2) = try await bench.run("local ok, e = pcall(queues) print(e.code)", tenant: wrong)
            #expect(unauthorized.outcome.status == .succeeded && out2 == "unauthorized\n")
            _ = try await bench.send(.PUT, "/_sim/faults", json: ["status503": 1])
            var retry = RetryPolicy()
            retry.maxAttempts = 2
            retry.baseDelay = 0.01
            let (unavailable, out3) = try await bench.run("local ok, e = pcall(skills) print(e.code, e.status)", tenant: bench.tenant(retry: retry))
            #expect(unavailable.outcome.status == .succeeded && out3 == "unavailable\t503\n", "\(out3)")
            _ = try await bench.send(.PUT, "/_sim/faults", json: ["latencyMs": 1500])
            let (timeout, out4) = try await bench.run("local ok, e = pcall(skills) print(e.code)", tenant: bench.tenant(retry: retry, timeout: 0.3))
            #expect(timeout.outcome.status == .succeeded && out4 == "timeout\n", "\(out4)")
        }
    }

    /// A token without a write scope fails the write before anything is sent, naming the scope.
    @Test func aWriteWithoutItsScopeFailsBeforeAnythingIsSent() async throws {
        let bench = try await Bench.start {
            $0.clients = [SimClient(id: "cxrun-demo", secret: "cxrun-demo-secret", scopes: ["routing:queue:view", "users:read"])]
        }
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local q = fetch(queues()[1].id)
                local ok, e = pcall(deploy, q.id, build(q, {maxWaitTime = 123}))
                print(e.code, e.message)
                local a
                for _, x in ipairs(agents()) do
                  if x.shiftSchedule.onShift and x.roles[1].name == "Agent" and not x.wrapUp.active then a = x break end
                end
                ok, e = pcall(agent_status, a.id, {status = "Training"})
                print(e.code)
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let lines = output.split(separator: "\n").map(String.init)
            #expect(lines.first == "forbidden\tdeploy: the token was not granted routing:queue:update or routing:queue:write "
                    + "(granted: routing:queue:view, users:read); nothing was sent", "\(output)")
            #expect(lines.dropFirst().first == "forbidden", "an eligible agent: refused for the scope alone: \(output)")
            let writes = try await bench.requests().filter { $0["method"]?.stringValue != "GET" && $0["path"]?.stringValue?.hasPrefix("/api/") == true }
            #expect(writes.isEmpty, "nothing was sent: \(writes)")
        }
    }

    @Test func networkErrorsWhenTheTenantIsGone() async throws {
        let bench = try await Bench.start()
        let tenant = bench.tenant(retry: { var r = RetryPolicy(); r.maxAttempts = 2; r.baseDelay = 0.01; return r }())
        await bench.stop()
        let (result, output) = try await bench.run("local ok, e = pcall(skills) print(e.code)", tenant: tenant)
        #expect(result.outcome.status == .succeeded)
        #expect(output == "network\n" || output == "unauthorized\n", "\(output)")
    }

    @Test func agentStatusRequestsAreCheckedAgainstTheOneRuleTable() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local ok, e = pcall(function() local r = agent_status(42, {status = "Break"}) return r end)
                print(e)
                ok, e = pcall(agent_status, "u1", {status = "Napping"})
                print(e.code, e.message)
                ok, e = pcall(agent_status, "u1", {status = "Break"})
                print(e.code, e.message)
                local _, problems = validate({status = "Break", role = "Agent"}, {rules = {"agent_status"}})
                print(problems[1].path, problems[1].message)
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let lines = output.split(separator: "\n").map(String.init)
            #expect(lines.first == "book.lua:1: bad argument #1 to 'agent_status' (user id expected, got number)", "\(output)")
            #expect(lines.dropFirst().first == "invalid\tagent_status: status must be one of Available, Busy, Break, Training, Offline, got 'Napping'")
            let defaults = "IT Issue, Queue Full, Skill Gap, Manager Meeting, System Maintenance"
            #expect(lines.dropFirst(2).first == "invalid\tagent_status: Break needs a pause_reason (one of \(defaults))")
            #expect(lines.dropFirst(3).first == "pause_reason\tBreak needs a pause_reason (one of \(defaults))", "validate says the same")
            let calls = try bench.audit.calls(run: try #require(try bench.audit.runs().first?.id))
            #expect(calls.filter { $0.binding == "agent_status" }.map(\.status) == [.error, .error], "refusals are audited, once each")
        }
    }

    @Test func overflowDepthCountsLinksDeployedEarlierInTheRun() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local all = queues()
                cx.each(all, function(q)   -- start from a tenant with no overflow links
                  local doc = fetch(q.id)
                  deploy(q.id, build(doc, {overflow = {enabled = false, action = "drop", targetQueueId = cx.null}}))
                end)
                local ids = {}
                for i = 1, 5 do ids[i] = all[i].id end
                local function link(from, to)
                  return build(fetch(from), {overflow = {enabled = true, action = "routeToQueue", targetQueueId = to, waitTime = 60}})
                end
                for i = 1, 3 do  -- a -> b -> c -> d, one link at a time, each valid when made
                  local payload = link(ids[i], ids[i + 1])
                  assert(validate(payload, {rules = {"overflow"}}))
                  deploy(ids[i], payload)
                end
                local ok, problems = validate(link(ids[4], ids[5]), {rules = {"overflow"}})
                print(ok, problems[1].message == ("overflow chain is 4 deep counting 3 link(s) into this queue (the chain starts at %s); the tenant allows 3"):format(ids[1]))
                """#, timeout: 120)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == "false\ttrue\n", "\(output)")
        }
    }

    @Test func writesReportTheirLatency() async throws {
        let bench = try await Bench.start { $0.faults.latencyMs = 30 }
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local q = fetch(queues()[1].id)
                local d = deploy(q.id, build(q, {maxWaiters = 17}))
                local w = webhook("wfm", {event = "x"}, {wait = true})
                print(math.type(d.latency_ms) == "float" and d.latency_ms >= 30, w.latency_ms > 0, d.version)  -- the sink is never slowed
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == "true\ttrue\t2\n", "\(output)")
        }
    }

    /// A custom rule cannot turn `validate` into a yes: given alone it extends the default sets,
    /// and an answer it cannot read fails at the script's line, audited like any call.
    @Test func aCustomRuleExtendsTheDefaultsAndAnUnreadableAnswerFailsAtItsLine() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local q = fetch(queues()[1].id)
                print(validate(build(q, {maxWaitTime = -1}), {rules = {function() return nil end}}))
                print(validate(q, {rules = {function() return {path = "name", message = "not this one"} end}}))
                print(validate(q, {rules = {function() return false, "no" end}}))
                validate(q, {rules = {function() return 42 end}})
                """#)
            #expect(output.split(separator: "\n").map { $0.split(separator: "\t")[0] } == ["false", "false", "false"], "\(output)")
            #expect(result.outcome.status == .failed
                    && result.outcome.failureText.contains("5: validate: custom rule #1 returned a number"), "\(result.outcome.failureText)")
            let calls = try AuditStore(path: bench.auditPath, readOnly: true).calls(run: result.summary.runID).filter { $0.binding == "validate" }
            #expect(calls.map(\.status) == [.ok, .ok, .ok, .error], "\(calls)")
        }
    }

    /// `cx.change`'s guard goes ahead only on nil: a message skips the write, and a boolean (which
    /// could mean either) fails at the script's line before anything is written.
    @Test func aChangesCheckGoesAheadOnlyOnNil() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local id = queues()[1].id
                print(cx.change(id, {maxWaitTime = 301}, {check = function() return "too busy" end}).outcome)
                print(cx.change(id, {maxWaitTime = 302}, {check = function() return nil end}).outcome)
                cx.change(id, {maxWaitTime = 303}, {check = function() return false end})
                """#)
            #expect(output == "skipped\nwritten\n", "\(output)")
            #expect(result.outcome.status == .failed
                    && result.outcome.failureText.contains("4: cx.change: opts.check returned a boolean"), "\(result.outcome.failureText)")
            let written = try await bench.queues().first?["maxWaitTime"]?.intValue
            #expect(written == 302, "the failed check wrote nothing")
        }
    }

    /// `cx.change(id, f)` with `f` answering nil changes nothing, as documented: it failed with
    /// "bad argument #2 to 'build' (table expected, got function)" (`f(q) or f`). What it cannot
    /// use (a number for changes, a function answering a string, a fallback answering a number)
    /// fails at the script's line, not at a line of the host's Lua.
    @Test func aChangeFunctionAnsweringNilChangesNothing() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local id = queues()[1].id
                print(cx.change(id, function() return nil end).outcome)
                local function try(f) local ok, e = pcall(f); print(ok and "no error" or e) end
                try(function() local r = cx.change(id, 5); return r end)
                try(function() local r = cx.change(id, function() return "x" end); return r end)
                try(function() local r = cx.change(id, {maxWaitTime = -1}, {fallback = function() return 5 end}); return r end)
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == """
                unchanged
                book.lua:4: bad argument #2 to 'cx.change' (table or function expected, got number)
                book.lua:5: cx.change: the changes function returned a string; return a table of changes, or nil for none
                book.lua:6: cx.change: opts.fallback returned a number; return a table of changes, or nil to write nothing

                """, "\(output)")
        }
    }

    /// A write with nothing to change is `skipped` in a dry run as in a run (and so `unchanged` in
    /// cx.change): a dry run said "planned: 0 fields" where the run then said "unchanged", and
    /// counted it with the queues it would change. A second write of what a dry run already planned
    /// is skipped too.
    @Test func aWriteOfNothingIsSkippedInADryRunAsInARun() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let script = #"""
                local q = fetch(queues()[1].id)
                local same = deploy(q.id, build(q, {}))
                print(same.skipped, same.planned, #same.changed, same.version)
                print(cx.change(q.id, {maxWaitTime = q.maxWaitTime}).outcome)
                local changed = deploy(q.id, build(q, {maxWaitTime = q.maxWaitTime + 1}))
                print(changed.skipped, changed.planned)
                local again = deploy(q.id, build(q, {maxWaitTime = q.maxWaitTime + 1}))
                print(again.skipped, again.planned)
                """#
            let (planned, dryOutput) = try await bench.run(script, dryRun: true)
            #expect(planned.outcome.status == .succeeded, "\(planned.outcome.failureText)")
            #expect(dryOutput == "true\tnil\t0\t1\nunchanged\nnil\ttrue\ntrue\tnil\n", "\(dryOutput)")
            #expect(planned.plannedChanges.count == 1, "one queue to change: \(planned.plannedChanges.map(\.text))")
            let (_, output) = try await bench.run(script)
            #expect(output.hasPrefix("true\tnil\t0\t1\nunchanged\n"), "\(output)")
        }
    }

    /// A run that fails after writing says, in its summary, what it changed and that those changes
    /// stay (with the command that undoes them): before, only the deploy count hinted at it. A
    /// skipped write (nothing to change) and a dry run's planned writes are not counted; a
    /// succeeded run says nothing of it.
    @Test func aFailedRunsSummarySaysWhatItChangedAndHowToUndoIt() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let script = #"""
                local qs = queues()
                for i = 1, 3 do
                  local q = fetch(qs[i].id)
                  deploy(q.id, build(q, {maxWaitTime = q.maxWaitTime + (i == 3 and 0 or 1)}))
                end
                if cx.args[1] == "fail" then error("stopped here") end
                """#
            let (failed, _) = try await bench.run(script, args: ["fail"])
            #expect(failed.outcome.status == .failed)
            #expect(failed.summary.undoable == (2, 0), "\(failed.summary.undoable)")
            #expect(failed.summary.text.contains(
                "\n  before it ended it changed 2 queues, which stay changed: cxrun rollback --run \(failed.summary.runID) undoes them\n"),
                    "\(failed.summary.text)")
            #expect(failed.summary.json["undoable"]?["queues"]?.intValue == 2)
            let (planned, _) = try await bench.run(script, dryRun: true, args: ["fail"])
            #expect(planned.outcome.status == .failed && planned.summary.undoable == (0, 0), "\(planned.summary.text)")
            let (fine, _) = try await bench.run(script)
            #expect(fine.outcome.status == .succeeded && !fine.summary.text.contains("before it ended"), "\(fine.summary.text)")
            // A queue the run put back itself is as before: not "changed, and stays changed".
            // Another run's deploy rolled back is a change this run made.
            let (undone, _) = try await bench.run(#"""
                local qs = queues()
                for i = 1, 3 do
                  local q = fetch(qs[i].id)
                  deploy(q.id, build(q, {maxWaitTime = q.maxWaitTime + 1}))
                  if i < 3 then rollback(q.id) end
                end
                rollback(qs[1].id, {run = cx.args[1]})
                error("stopped here")
                """#, args: [fine.summary.runID])
            #expect(undone.outcome.status == .failed && undone.summary.undoable == (2, 0), "\(undone.summary.text)")
        }
    }

    /// `cx.require_success` fails the run at its line when a change asked for did not happen,
    /// naming each such row, and passes `skipped`, `unchanged` and `written`: a runbook that
    /// reported every queue as a conflict exited 0.
    @Test func requireSuccessFailsTheRunWhenAChangeDidNotHappen() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local ids = {}
                for i, q in ipairs(queues()) do if i <= 3 then ids[i] = q.id end end
                local fine = {
                  cx.change(ids[1], {maxWaitTime = 301}),
                  cx.change(ids[2], {maxWaitTime = 302}, {check = function() return "too busy" end}),
                  cx.change(ids[3], function() return nil end),
                }
                print(cx.require_success(fine))
                local function try(...) local ok, e = pcall(cx.require_success, ...); print(ok and "no error" or e) end
                try("x")
                try({{name = "a"}})
                try({}, 5)
                try({[1] = fine[1], [3] = fine[2]})
                try({q1 = fine[1]})
                local rows = {
                  cx.change(ids[1], {maxWaitTime = -1}),
                  cx.change("no-such-queue", {maxWaitTime = 30}),
                  cx.change(ids[2], {maxWaitTime = 303}),
                }
                cx.require_success(rows)
                print("not reached")
                """#)
            #expect(output.hasPrefix("3\n"), "\(output)")
            #expect(output.contains("bad argument #1 to 'cx.require_success' (rows expected, got string)"), "\(output)")
            #expect(output.contains("bad argument #1 to 'cx.require_success' (row 1 has no outcome)"), "\(output)")
            #expect(output.contains("bad argument #2 to 'cx.require_success' (string expected, got number)"), "\(output)")
            #expect(output.contains("bad argument #1 to 'cx.require_success' (row 2 has no outcome)"), "a hole is not passed over: \(output)")
            #expect(output.contains("(a list of rows expected, got a table with no items 1..n)"), "a map is not an empty list: \(output)")
            #expect(!output.contains("not reached"), "\(output)")
            #expect(result.outcome.status == .failed, "\(result.outcome.failureText)")
            let failure = result.outcome.failureText
            #expect(failure.contains("book.lua:20: 2 of 3 queues were not changed as asked: "), "\(failure)")
            #expect(failure.contains("(invalid: maxWaitTime"), "\(failure)")
            #expect(failure.contains("no-such-queue (failed: "), "\(failure)")
            #expect(try await bench.queues()[1]["maxWaitTime"]?.intValue == 303, "the rows after a failure were still written")
        }
    }

    /// A changes function (or fallback) that writes the queue itself is refused at the
    /// `cx.change` line: its row said `unchanged` (the function returned nothing) or `invalid`
    /// (its deploy's result taken for changes) for a queue the run had changed. A function that
    /// reads (here another fetch) is fine; in a dry run the same mistake is refused alike.
    @Test(arguments: [false, true])
    func aChangesFunctionThatWritesTheQueueItselfIsRefused(dryRun: Bool) async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local ids = {}
                for i, q in ipairs(queues()) do if i <= 2 then ids[i] = q.id end end
                print(cx.change(ids[1], function(q) return {maxWaitTime = fetch(ids[2]).maxWaitTime + q.maxWaitTime} end).outcome)
                print(pcall(function() local row = cx.change(ids[2], function(q) deploy(q.id, build(q, {maxWaitTime = 77})) end); return row end))
                print(pcall(function()
                  local row = cx.change(ids[2], {maxWaitTime = -5}, {fallback = function(q) return deploy(q.id, build(q, {maxWaitTime = 78})) end})
                  return row
                end))
                cx.change(ids[2], function(q) return deploy(q.id, build(q, {maxWaitTime = 79})) end)
                """#, dryRun: dryRun)
            let lines = output.split(separator: "\n").map(String.init)
            #expect(lines.first == (dryRun ? "planned" : "written"), "\(output)")
            let refusal = "was written while the changes function ran (a deploy or patch in it, or another task of this run writing the same queue): "
                + "return the changes, and cx.change validates and writes them once"
            #expect(lines.count == 3 && lines[1].hasPrefix("false\tbook.lua:4: cx.change: queue ") && lines[1].hasSuffix(refusal), "\(output)")
            #expect(lines.count == 3 && lines[2].hasPrefix("false\tbook.lua:6: cx.change: queue ") && lines[2].contains("while opts.fallback ran"),
                    "\(output)")
            #expect(result.outcome.status == .failed, "\(result.outcome.failureText)")
            #expect(result.outcome.failureText.contains("book.lua:9: cx.change: queue ") && result.outcome.failureText.contains(refusal),
                    "\(result.outcome.failureText)")
        }
    }

    /// Two deploys of one queue built from the same fetch, changing the same field: the second is
    /// a conflict, as before, but its message named "someone else" for this run's own first write.
    @Test(arguments: [false, true])
    func aConflictWithTheRunsOwnEarlierWriteSaysSo(dryRun: Bool) async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local q = fetch(queues()[1].id)
                deploy(q.id, build(q, {maxWaitTime = 100}))
                local ok, e = pcall(deploy, q.id, build(q, {maxWaitTime = 200}))
                print(ok, e.code, (e.message:gsub("queue %S+ ", "queue Q ", 1)))
                """#, dryRun: dryRun)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == "false\tconflict\tqueue Q was changed by this run's own earlier write (now version 2) in the fields this payload "
                    + "changes, and it was built from the version before that: maxWaitTime (fetch the queue again and build from that)\n", "\(output)")
        }
    }

    @Test func validateKnowsTheQueueDocumentsSchema() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let id = try #require(try await bench.queues().first?["id"]?.stringValue)
            // A field the server has that cxrun does not model.
            _ = try await bench.send(.POST, "/_sim/queues/\(id)/edit", json: ["customerTier": "gold"])
            let (result, output) = try await bench.run(#"""
                local q = fetch(cx.args[1])
                local ok, problems = validate(build(q, {max_wait_time_seconds = 300, wrapUpTime = 120000}))
                print(ok, #problems)
                for _, p in ipairs(problems) do print(p.rule, p.path, p.message) end
                local ok2, p2 = validate(q)
                print(ok2, #p2)
                local ok3, p3 = validate(build(q, {customerTier = "platinum"}))
                print(ok3, p3[1].path)
                local ok4, p4 = validate(build(q, {skills = {{id = "no-such-skill", level = 3}}}))
                print(ok4, p4[1].path, p4[1].message)
                -- A rule set that tampers with what it is given changes no later validation (and,
                -- given alone, extends the default sets: the unknown skill is still refused).
                local tamper = function(_, ctx)
                  ctx.skills["no-such-skill"] = {id = "no-such-skill"}
                  ctx.limits.max_skills = 0
                  return {}
                end
                print((validate(build(q, {skills = {{id = "no-such-skill", level = 3}}}), {rules = {tamper}})))
                local ok5, p5 = validate(build(q, {skills = {{id = "no-such-skill", level = 3}}}))
                print(ok5, #p5, p5[1].message, cx.tenant.limits.max_skills ~= 0)
                -- Once the queues are listed (validate lists them for a routeToQueue), a target
                -- among none of them is one the tenant does not have.
                local _, p6 = validate(build(q, {overflow = {enabled = true, action = "routeToQueue", targetQueueId = "gone", waitTime = 60}}))
                print(p6[1].message)
                """#, args: [id])
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == """
                false\t3
                schema\tmax_wait_time_seconds\tunknown field max_wait_time_seconds; did you mean maxWaitTime?
                schema\twrapUpTime\twrapUpTime = 120000 looks like milliseconds (120 s); times in the queue document are seconds
                fields\twrapUpTime\twrapUpTime must be between 0 and 3600, got 120000
                true\t0
                false\tcustomerTier
                false\tskills[1].id\tskill no-such-skill does not exist in this tenant
                false
                false\t1\tskill no-such-skill does not exist in this tenant\ttrue
                overflow target queue gone does not exist in this tenant

                """, "\(output)")
            // The tenant's skills were read on first need, once, audited like any read.
            let calls = try bench.audit.calls(run: result.summary.runID).map(\.binding)
            #expect(calls.filter { $0 == "skills" }.count == 1, "\(calls)")
        }
    }

    /// An id that is a dot segment would name another resource behind a proxy that normalizes
    /// paths (`/queues/..` is `/`): refused before anything is sent, for reads and writes alike.
    @Test func dotSegmentIdsAreRefusedBeforeAnythingIsSent() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let before = try await bench.requests().count
            let (result, output) = try await bench.run("""
                for _, call in ipairs({function() return fetch("..") end, function() return fetch(".") end,
                                       function() return agent("..") end, function() return reassign("..", "profile-1") end,
                                       function() return agent_status("..", {status = "Available"}) end}) do
                  local ok, e = pcall(call)
                  print(ok, e.code)
                end
                """)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == String(repeating: "false\tinvalid\n", count: 5), "\(output)")
            let sent = try await bench.requests().dropFirst(before).compactMap { $0["path"]?.stringValue }
            #expect(!sent.contains { $0.hasSuffix("/..") || $0.hasSuffix("/.") || $0.contains("/../") || $0.contains("/./") }, "\(sent)")
        }
    }

    @Test func aRefusedConnectionIsKnownToHaveSentNothing() async throws {
        // Classified by the error's type (NIO's connection errors), not by matching its text.
        // A port bound but not listening, held for the whole test: refused for sure (a port merely
        // closed may be taken by a server another test starts meanwhile).
        let refusing = try BoundPort()
        defer { withExtendedLifetime(refusing) {} }
        var endpoint = TenantEndpoint(baseURL: "http://127.0.0.1:\(refusing.port)", clientID: "x", clientSecret: "y")
        endpoint.retry.maxAttempts = 1
        do {
            _ = try await CXoneClient(endpoint: endpoint).queues()
            Issue.record("a closed port answered")
        } catch {
            #expect(error.kind == .network && error.message.contains("cannot connect"), "\(error)")
        }
    }

    @Test func agentStatusChecksRoleShiftAndWrapUp() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local function first(pred) for _, a in ipairs(agents()) do if pred(a) then return a end end end
                local onshift = first(function(a) return a.shiftSchedule.onShift and a.roles[1].name == "Agent" and not a.wrapUp.active end)
                local r = agent_status(onshift.id, {status = "Break", pause_reason = "Manager Meeting"})
                print(r.status, agent(onshift.id).pauseReason)
                local off = first(function(a) return not a.shiftSchedule.onShift and a.roles[1].name == "Agent" end)
                local ok, e = pcall(agent_status, off.id, {status = "Available"})
                print(e.code, e.message:find("outside the shift window") ~= nil)
                local analyst = first(function(a) return a.roles[1].name == "Analyst" and a.shiftSchedule.onShift end)
                if analyst then ok, e = pcall(agent_status, analyst.id, {status = "Available"}) print(e.code) else print("invalid") end
                local busy = first(function(a) return a.wrapUp.active and a.shiftSchedule.onShift and a.roles[1].name ~= "Analyst" end)
                if busy then ok, e = pcall(agent_status, busy.id, {status = "Break", pause_reason = "IT Issue"}) print(e.code) else print("conflict") end
                ok, e = pcall(agent_status, onshift.id, {status = "Break"})
                print(e.code)
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == "Break\tManager Meeting\ninvalid\ttrue\ninvalid\nconflict\ninvalid\n", "\(output)")
        }
    }

    @Test func tasksRunBindingsConcurrently() async throws {
        let bench = try await Bench.start { $0.faults.latencyMs = 50 }
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local ids = {}
                for i, q in ipairs(queues()) do if i <= 16 then ids[#ids + 1] = q.id end end
                local docs = cx.each(ids, function(id) return fetch(id) end, {concurrency = 8})
                print(#docs, docs[16].id == ids[16])
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == "16\ttrue\n")
            let fetches = result.summary.bindings.first { $0.name == "fetch" }
            #expect(fetches?.calls == 16)
        }
    }
}
