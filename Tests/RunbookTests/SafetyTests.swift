import CXone
import Foundation
import TestSupport
import GRDB
import JSONCore
import LuaHost
import Testing

@testable import Runbook
@testable import SandboxTenant

@Suite("Runbook: no lost update, rollback, faults, audit")
struct SafetyTests {
    @Test func concurrentEditorsChangesSurviveAndMerge() async throws {
        let bench = try await Bench.start { $0.seed = 11 }
        try await stopping(bench) {
            let before = try await bench.queues()
            _ = try await bench.send(.PUT, "/_sim/faults", json: ["concurrentEdit": 0.3])
            let (result, output) = try await bench.run(#"""
                local ids = {}
                for _, q in ipairs(queues()) do ids[#ids + 1] = q.id end
                local results = cx.each(ids, function(id)
                  local q = fetch(id)
                  return deploy(id, build(q, {maxWaitTime = 333}))
                end, {concurrency = 4})
                local merged = 0
                for _, r in ipairs(results) do if r.merged then merged = merged + 1 end end
                print(#results, merged)
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let after = try await bench.queues()
            #expect(after.count == before.count)
            var edited = 0
            for (old, new) in zip(before, after) {
                #expect(new["maxWaitTime"] == 333, "our change is on every queue")
                if new.value(at: ["serviceLevelTarget", "threshold"]) != old.value(at: ["serviceLevelTarget", "threshold"]) { edited += 1 }
            }
            #expect(edited > 0, "the editor's changes are kept too (\(output))")
            let merged = Int(output.split(separator: "\t").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "0") ?? 0
            #expect(merged > 0, "some deploys had to merge: \(output)")
        }
    }

    @Test func overlappingEditRaisesConflictAndWritesNothing() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let id = try #require(try await bench.queues().first?["id"]?.stringValue)
            // Another admin changes the same field between the script's fetch and its deploy: the script
            // waits until it sees the new version; the test edits once the log shows the script's fetch.
            let task = Task { try await bench.run(#"""
                local q = fetch(cx.args[1])
                local payload = build(q, {serviceLevelTarget = {threshold = 91}})
                repeat cx.sleep(0.05) until fetch(cx.args[1]).version > q.version
                local ok, e = pcall(deploy, q.id, payload)
                print(ok, e.code, e.details.paths[1])
                """#, args: [id]) }
            _ = try await eventually(within: .seconds(10), poll: .milliseconds(25)) {
                try await bench.requests().contains { $0["path"]?.stringValue == "/api/v2/routing/queues/\(id)" }
            }
            _ = try await bench.send(.POST, "/_sim/queues/\(id)/edit", json: ["serviceLevelTarget": ["threshold": 55]])
            let (conflicted, out) = try await task.value
            #expect(conflicted.outcome.status == .succeeded, "\(conflicted.outcome.failureText)")
            #expect(out == "false\tconflict\tserviceLevelTarget.threshold\n", "\(out)")
            let now = try #require(try await bench.queues().first { $0["id"]?.stringValue == id })
            #expect(now.value(at: ["serviceLevelTarget", "threshold"]) == 55, "the other admin's value stands")
        }
    }

    /// A float of the fetched integer's value (`q.maxWaitTime / 1`, `-0.0`) is the same number: the
    /// deploy wrote a new version for it and a plan showed `~ maxWaitTime: 300 -> 300`. And another
    /// admin's 600 against the script's 600.0 is one change made twice, not a conflict.
    @Test func aFloatOfTheFetchedValueIsNoChangeAndNoConflict() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let id = try #require(try await bench.queues().first?["id"]?.stringValue)
            let same = #"""
                local q = fetch(cx.args[1])
                local r = deploy(q.id, build(q, {maxWaitTime = q.maxWaitTime / 1, serviceLevelTarget = {threshold = q.serviceLevelTarget.threshold + 0.0}}))
                print(math.type(q.maxWaitTime / 1), #r.changed, r.version == q.version)
                """#
            let (planned, plan) = try await bench.run(same, dryRun: true, args: [id])
            #expect(planned.outcome.status == .succeeded, "\(planned.outcome.failureText)")
            #expect(plan.hasPrefix("float\t0\ttrue\n"), "\(plan)")
            #expect(planned.plannedChanges.isEmpty, "\(planned.plannedChanges.map(\.text))")
            let (written, out) = try await bench.run(same, args: [id])
            #expect(written.outcome.status == .succeeded, "\(written.outcome.failureText)")
            #expect(out == "float\t0\ttrue\n", "\(out)")
            #expect(try await bench.requests().allSatisfy { $0["method"]?.stringValue != "PUT" }, "nothing was written")

            let task = Task { try await bench.run(#"""
                local q = fetch(cx.args[1])
                repeat cx.sleep(0.05) until fetch(cx.args[1]).version > q.version
                local r = deploy(q.id, build(q, {maxWaitTime = 600.0}))
                print(r.merged, #r.changed)
                """#, args: [id]) }
            // The edit comes once the log shows this run's first fetch (the runs above fetched it twice).
            _ = try await eventually(within: .seconds(10), poll: .milliseconds(25)) {
                try await bench.requests().filter { $0["path"]?.stringValue == "/api/v2/routing/queues/\(id)" }.count > 2
            }
            _ = try await bench.send(.POST, "/_sim/queues/\(id)/edit", json: ["maxWaitTime": 600])
            let (agreed, said) = try await task.value
            #expect(agreed.outcome.status == .succeeded, "\(agreed.outcome.failureText)")
            // Merged over the admin's version, which already holds it: no conflict, and nothing
            // written after the one PUT the admin's version refused.
            #expect(said == "true\t1\n", "\(said)")
            let puts = try await bench.requests().filter { $0["method"]?.stringValue == "PUT" }
            #expect(puts.map { $0["status"] } == [409], "\(puts)")
        }
    }

    /// A name rewritten in another Unicode normalization is another name to the tenant: the
    /// deploy said it changed nothing and sent nothing.
    @Test func aStringWithOtherBytesIsAChangeThoughSwiftCallsItEqual() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let id = try #require(try await bench.queues().first?["id"]?.stringValue)
            let (result, out) = try await bench.run(#"""
                local q = fetch(cx.args[1])
                deploy(q.id, build(q, {name = "Caf\u{E9}"}))
                local r = deploy(q.id, build(fetch(q.id), {name = "Cafe\u{301}"}))
                print(#r.changed, r.version, #fetch(q.id).name)
                """#, args: [id])
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(out == "1\t3\t6\n", "\(out)")
            // A plan says why a change that reads the same on screen is one.
            let (planned, _) = try await bench.run(#"""
                local q = fetch(cx.args[1])
                deploy(q.id, build(q, {name = "Caf\u{E9}"}))
                """#, dryRun: true, args: [id])
            let text = planned.plannedChanges.map(\.text).joined(separator: "\n")
            #expect(text.contains("(the same text in another Unicode normalization: its bytes change)"), "\(text)")
        }
    }

    /// A deploy replaces the whole queue, so it writes only a whole document of that queue: a
    /// payload with another queue's content and no id went through (and replaced the queue), and
    /// a partial one with the version and id replaced the queue with the fields it had.
    @Test func aDeployWritesOnlyAWholeDocumentOfItsQueue() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, out) = try await bench.run(#"""
                local qs = queues()
                local q1, q2 = fetch(qs[1].id), fetch(qs[2].id)
                local copied = build(q1, {maxWaitTime = 201})
                copied.id = nil
                local ok, e = pcall(deploy, q2.id, copied)
                print(ok, e.code, e.message)
                ok, e = pcall(deploy, q2.id, {id = q2.id, version = q2.version, maxWaitTime = 300})
                local paths = {}
                for i, err in ipairs(e.details.errors) do paths[i] = err.path end
                print(ok, e.code, table.concat(paths, ","))
                local after = fetch(q2.id)
                print(after.name == q2.name, after.version, after.maxWaitTime == q2.maxWaitTime)
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let lines = out.split(separator: "\n").map(String.init)
            #expect(lines.count == 3, "\(out)")
            #expect(lines.first?.hasPrefix("false\tinvalid\tdeploy: the payload has no id; a deploy replaces the whole queue, so build it from fetch(") == true,
                    "\(out)")
            #expect(lines.dropFirst().first == "false\tinvalid\tname,channel,routing.strategy", "the tenant names what is missing: \(out)")
            #expect(lines.last == "true\t1\ttrue", "the queue is as it was: \(out)")
            let puts = try await bench.requests().filter { $0["method"] == "PUT" }
            #expect(puts.count == 1 && puts.first?["status"] == 400, "the id-less payload was never sent: \(puts)")
        }
    }

    /// A field added beside the queue's own under nearly its name is a slip: the tenant kept
    /// `maxwaittime` as a field of its own, and the deploy "succeeded" with maxWaitTime unchanged.
    /// Refused before anything is sent, in a run and in a dry run; real fields still go through.
    @Test(arguments: [false, true]) func aMisspeltFieldIsRefusedNamingTheQueuesOwn(_ dryRun: Bool) async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, out) = try await bench.run(#"""
                local q = fetch(queues()[1].id)
                for _, change in ipairs({ {maxwaittime = 300}, {max_wait_time = 300}, {routing = {stratgy = "priority"}}, {Name = "x"} }) do
                  local ok, e = pcall(deploy, q.id, build(q, change))
                  print(ok, e.code, e.message)
                end
                local ok, e = pcall(patch, q.id, {version = q.version, wrapuptime = 5})
                print(ok, e.code, e.message)
                print(deploy(q.id, build(q, {maxWaitTime = q.maxWaitTime + 1, brandNewField = 1})).changed[1])
                """#, dryRun: dryRun)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let lines = out.split(separator: "\n").map(String.init)
            let slip = { (verb: String, added: String, existing: String) in
                "false\tinvalid\t\(verb) \(added), a field the queue does not have, beside its \(existing): a misspelling? "
                    + "(the tenant would keep both, and \(existing) would not change)"
            }
            #expect(Array(lines.prefix(5)) == [
                slip("deploy: the payload adds", "maxwaittime", "maxWaitTime"), slip("deploy: the payload adds", "max_wait_time", "maxWaitTime"),
                slip("deploy: the payload adds", "routing.stratgy", "routing.strategy"), slip("deploy: the payload adds", "Name", "name"),
                slip("patch: the changes add", "wrapuptime", "wrapUpTime"),
            ], "\(out)")
            #expect(lines.last == "brandNewField", "a field far from every other is the script's to add: \(out)")
            let puts = try await bench.requests().filter { $0["method"] == "PUT" || $0["method"] == "PATCH" }
            #expect(puts.count == (dryRun ? 0 : 1), "only the last write was sent: \(puts)")
        }
    }

    @Test func anAuditLogThatCannotTakeTheWriteStopsItAndLosesNoOtherRow() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let id = try #require(try await bench.queues().first?["id"]?.stringValue)
            // A real SQLite failure on the pending deploy row only: a trigger in the audit file.
            _ = try bench.audit
            let db = try DatabaseQueue(path: bench.auditPath)
            try await db.write { db in
                try db.execute(sql: """
                    CREATE TRIGGER refuse_deploy BEFORE INSERT ON calls WHEN NEW.binding = 'deploy'
                    BEGIN SELECT RAISE(ABORT, 'simulated disk failure'); END
                    """)
            }
            let (result, out) = try await bench.run(#"""
                local q = fetch(cx.args[1])
                local ok, e = pcall(deploy, q.id, build(q, {maxWaitTime = q.maxWaitTime + 7}))
                print(ok, e.code, e.message)
                print(#skills() > 0)
                """#, args: [id])
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(out.hasPrefix("false\tsandbox\tthe audit log could not be written, so deploy was not attempted"), "\(out)")
            #expect(out.hasSuffix("true\n"), "\(out)")
            let writes = try await bench.requests().filter { $0["method"]?.stringValue != "GET" && $0["path"]?.stringValue?.hasPrefix("/api/") == true }
            #expect(writes.isEmpty, "nothing was sent for the unaudited deploy: \(writes)")
            let rows = try bench.audit.calls(run: result.summary.runID)
            #expect(rows.map(\.binding) == ["fetch", "build", "skills"], "every other call kept its row")
            #expect(result.auditProblems.contains { $0.contains("(deploy) could not be written") }, "\(result.auditProblems)")
        }
    }

    @Test func rollbackGoesThroughTheQueueWriterAndKeepsAConcurrentEditorsChange() async throws {
        let bench = try await Bench.start { $0.seed = 7 }
        try await stopping(bench) {
            let id = try #require(try await bench.queues().first?["id"]?.stringValue)
            let original = try #require(try await bench.queues().first)
            let (deployRun, _) = try await bench.run(#"""
                local q = fetch(cx.args[1])
                deploy(q.id, build(q, {maxWaitTime = 444}))
                """#, args: [id])
            #expect(deployRun.outcome.status == .succeeded, "\(deployRun.outcome.failureText)")
            // Another admin changes the SLA target just before every incoming write: the rollback's
            // writes meet 409s, each followed by a re-read and a new plan, until the writer gives up
            // with nothing overwritten.
            _ = try await bench.send(.PUT, "/_sim/faults", json: ["concurrentEdit": 1.0])
            let (busyRun, busy) = try await RollbackSession.run(
                of: deployRun.summary.runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath, force: false, dryRun: false)
            _ = try await bench.send(.PUT, "/_sim/faults", json: [:])
            #expect(busy.first?.ok == false && busy.first?.message.contains("kept changing during the rollback (8 attempts)") == true,
                    "\(busy.first?.message ?? "")")
            #expect(try await bench.queues().first?["maxWaitTime"] == 444, "nothing was overwritten")
            let gaveUp = try #require(try bench.audit.calls(run: busyRun).first { $0.binding == "rollback" })
            #expect(gaveUp.status == .error && gaveUp.errorCode == "conflict")
            // Once the queue holds still, the rollback reverts this run's field and keeps the admin's edits.
            let edited = try #require(try await bench.queues().first)
            let (_, lines) = try await RollbackSession.run(
                of: deployRun.summary.runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath, force: false, dryRun: false)
            #expect(lines.first?.ok == true, "\(lines.first?.message ?? "")")
            let now = try #require(try await bench.queues().first)
            #expect(now["maxWaitTime"] == original["maxWaitTime"], "this run's field reverted")
            #expect(now.value(at: ["serviceLevelTarget", "threshold"]) == edited.value(at: ["serviceLevelTarget", "threshold"]),
                    "the other admin's edits stand")
            #expect(edited.value(at: ["version"])?.intValue ?? 0 >= 10, "the admin wrote on each of the 8 attempts")
        }
    }

    @Test func rollbackRestoresAndRefusesOverForeignEdits() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let ids = try await bench.queues().prefix(3).compactMap { $0["id"]?.stringValue }
            let original = try await bench.queues().prefix(3).map { $0 }
            let (deployRun, _) = try await bench.run(#"""
                for _, id in ipairs(cx.args) do
                  local q = fetch(id)
                  deploy(id, build(q, {maxWaitTime = 444, waitStrategy = {positionThreshold = 7}}))
                end
                """#, args: ids)
            #expect(deployRun.outcome.status == .succeeded, "\(deployRun.outcome.failureText)")
            // Queue 0: untouched since. Queue 1: someone edits a field the deploy changed. Queue 2: someone edits another field.
            _ = try await bench.send(.POST, "/_sim/queues/\(ids[1])/edit", json: ["maxWaitTime": 500])
            _ = try await bench.send(.POST, "/_sim/queues/\(ids[2])/edit", json: ["maxWaiters": 12])
            let (result, lines) = try await RollbackSession.run(
                of: deployRun.summary.runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath, force: false, dryRun: false)
            let byQueue = Dictionary(uniqueKeysWithValues: lines.map { ($0.queue, $0) })
            #expect(byQueue[ids[0]]?.ok == true)
            #expect(byQueue[ids[1]]?.ok == false && byQueue[ids[1]]?.message.contains("maxWaitTime") == true, "\(byQueue[ids[1]]?.message ?? "")")
            #expect(byQueue[ids[2]]?.ok == true)
            let now = try await bench.queues().prefix(3).map { $0 }
            #expect(now[0].changes(to: original[0], ignoring: ["version"]).isEmpty, "fully restored")
            #expect(now[1]["maxWaitTime"] == 500, "refused: the foreign edit stands")
            #expect(now[2]["maxWaitTime"] == original[2]["maxWaitTime"] && now[2]["maxWaiters"] == 12, "only our fields reverted")
            #expect(now[2].value(at: ["waitStrategy", "positionThreshold"]) == original[2].value(at: ["waitStrategy", "positionThreshold"]))
            // --force restores queue 1 anyway.
            let (_, forced) = try await RollbackSession.run(
                of: deployRun.summary.runID, queues: [ids[1]], tenant: bench.tenant(), auditPath: bench.auditPath, force: true, dryRun: false)
            #expect(forced.first?.ok == true)
            let restored = try await bench.queues()[1]
            #expect(restored["maxWaitTime"] == original[1]["maxWaitTime"])
            let rollbackRun = try #require(try bench.audit.run(result))
            #expect(rollbackRun.status == .failed && rollbackRun.script.hasPrefix("cxrun rollback --run"))
        }
    }

    /// A queue a run deployed twice goes back to before the run — in the run and later — not to
    /// between its two deploys (the latest deploy's pre-image was what both restored; found by
    /// rolling back runs of random edits and comparing every queue with its state before).
    @Test func aQueueDeployedTwiceIsRolledBackToBeforeTheRun() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let queues = try await bench.queues()
            let (a, b) = (try #require(queues[0]["id"]?.stringValue), try #require(queues[1]["id"]?.stringValue))
            let (inRun, output) = try await bench.run(#"""
                local id = cx.args[1]
                local before = fetch(id)
                deploy(id, build(before, {maxWaitTime = 301, maxWaiters = 11}))
                deploy(id, build(fetch(id), {maxWaitTime = 302, waitStrategy = {positionThreshold = 9}}))
                rollback(id)
                local after = fetch(id)
                print(after.maxWaitTime == before.maxWaitTime, after.maxWaiters == before.maxWaiters,
                      after.waitStrategy.positionThreshold == before.waitStrategy.positionThreshold)
                """#, args: [a])
            #expect(inRun.outcome.status == .succeeded && output == "true\ttrue\ttrue\n", "\(output) \(inRun.outcome.failureText)")

            let original = try #require(try await bench.queues().first { $0["id"]?.stringValue == b })
            let (twice, _) = try await bench.run(#"""
                local id = cx.args[1]
                deploy(id, build(fetch(id), {maxWaitTime = 401, maxWaiters = 12}))
                deploy(id, build(fetch(id), {maxWaitTime = 402, waitStrategy = {positionThreshold = 8}}))
                """#, args: [b])
            #expect(twice.outcome.status == .succeeded, "\(twice.outcome.failureText)")
            let (_, lines) = try await RollbackSession.run(of: twice.summary.runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath,
                                                           force: false, dryRun: false)
            #expect(lines.map(\.ok) == [true], "\(lines.map(\.message))")
            let now = try #require(try await bench.queues().first { $0["id"]?.stringValue == b })
            #expect(now.changes(to: original, ignoring: ["version"]).isEmpty, "as before the run: \(now.changes(to: original, ignoring: ["version"]))")
        }
    }

    /// Rolling back the wrong run is itself undone by rolling back the rollback: it reported
    /// success and changed nothing (a rollback's writes were not counted as writes).
    @Test func aRollbackRunIsRolledBackLikeAnyRun() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let ids = try await bench.queues().prefix(2).map { try #require($0["id"]?.stringValue) }
            func state() async throws -> [JSONValue] { try await bench.state(of: ids) }
            let before = try await state()
            let (run, _) = try await bench.run(#"""
                for i, id in ipairs(cx.args) do
                  deploy(id, build(fetch(id), {maxWaitTime = 500 + i, serviceLevelTarget = {threshold = 60 + i}}))
                end
                """#, args: ids)
            #expect(run.outcome.status == .succeeded, "\(run.outcome.failureText)")
            let changed = try await state()
            func rollback(_ runID: String) async throws -> String {
                let (id, lines) = try await RollbackSession.run(of: runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath,
                                                                force: false, dryRun: false)
                #expect(lines.count == 2 && lines.allSatisfy(\.ok), "\(lines.map { "\($0.queue): \($0.message)" })")
                return id
            }
            let undo = try await rollback(run.summary.runID)
            #expect(try await state() == before)
            let redo = try await rollback(undo)
            #expect(try await state() == changed, "the rollback undone: the run's changes are back")
            _ = try await rollback(redo)
            #expect(try await state() == before)
        }
    }

    /// A script rolls back another run's queues by name: `rollback(id, {run = R})` restores each
    /// to before that run; a queue R did not deploy, or a run that is not in the log, is not_found.
    @Test func aScriptRollsBackAnotherRunsQueues() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let ids = try await bench.queues().prefix(4).map { try #require($0["id"]?.stringValue) }
            func state() async throws -> [JSONValue] { try await bench.state(of: ids) }
            let before = try await state()
            let (run, _) = try await bench.run(#"""
                for i = 1, 3 do
                  local id = cx.args[i]
                  deploy(id, build(fetch(id), {maxWaitTime = 600 + i}))
                end
                """#, args: ids)
            #expect(run.outcome.status == .succeeded, "\(run.outcome.failureText)")
            let (undo, output) = try await bench.run(#"""
                local run = cx.args[1]
                for i = 2, 5 do  -- the last queue: not deployed by that run
                  local ok, r = pcall(rollback, cx.args[i], {run = run})
                  print(ok and tostring(r.restored) or r.code)
                end
                local _, e = pcall(rollback, cx.args[2], {run = "20200101T000000Z-00000000"})
                print(e.code, e.message)
                """#, args: [run.summary.runID] + ids)
            #expect(undo.outcome.status == .succeeded, "\(undo.outcome.failureText)")
            // A run id the log does not have is said so, not "did not deploy queue Q".
            #expect(output == "true\ntrue\ntrue\nnot_found\n"
                    + "not_found\trollback: the audit log has no run 20200101T000000Z-00000000 (cxrun audit runs lists them)\n", "\(output)")
            #expect(try await state() == before)
        }
    }

    /// What a rollback cannot undo is said, not passed over: a run's agent status changes and
    /// webhook deliveries.
    @Test func aRollbackNamesWhatItDoesNotUndo() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (run, _) = try await bench.run(#"""
                for _, a in ipairs(agents()) do
                  if a.shiftSchedule.onShift and a.roles[1].name == "Agent" and not a.wrapUp.active then
                    agent_status(a.id, {status = "Break", pause_reason = "Manager Meeting"})
                    break
                  end
                end
                webhook("wfm", {event = "a"}, {wait = true})
                webhook("wfm", {event = "b"}, {wait = true})
                """#)
            #expect(run.outcome.status == .succeeded, "\(run.outcome.failureText)")
            #expect(RollbackSession.notUndone(run: run.summary.runID, auditPath: bench.auditPath)
                    == "not undone by a rollback: the run's 1 agent status change and 2 webhook deliveries "
                    + "(an agent's status is live state, since moved on; what was delivered cannot be called back)")
            // Only the reasons of what the run did: a webhook-only run is not told of agents.
            let (sent, _) = try await bench.run(#"webhook("wfm", {event = "c"}, {wait = true})"#)
            #expect(RollbackSession.notUndone(run: sent.summary.runID, auditPath: bench.auditPath)
                    == "not undone by a rollback: the run's 1 webhook delivery (what was delivered cannot be called back)")
            let (quiet, _) = try await bench.run("local q = fetch(queues()[1].id)\ndeploy(q.id, build(q, {maxWaitTime = 299}))\n")
            #expect(RollbackSession.notUndone(run: quiet.summary.runID, auditPath: bench.auditPath) == nil)
        }
    }

    /// A deploy with nothing to change writes nothing (skipped): a rollback of its run neither lists
    /// that queue as failed ("no snapshot recorded", exit 1) nor lets it hide a later real deploy.
    @Test func aSkippedDeployNeitherFailsNorHidesARollback() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let queues = try await bench.queues()
            let (a, b) = (try #require(queues[2]["id"]?.stringValue), try #require(queues[3]["id"]?.stringValue))
            let original = try #require(try await bench.queues().first { $0["id"]?.stringValue == b })
            let (run, _) = try await bench.run(#"""
                local a, b = cx.args[1], cx.args[2]
                assert(deploy(a, fetch(a)).skipped)        -- nothing to change
                assert(deploy(b, fetch(b)).skipped)
                deploy(b, build(fetch(b), {maxWaitTime = 402}))
                """#, args: [a, b])
            #expect(run.outcome.status == .succeeded, "\(run.outcome.failureText)")
            let (_, lines) = try await RollbackSession.run(of: run.summary.runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath,
                                                           force: false, dryRun: false)
            #expect(lines.map(\.queue) == [b] && lines.map(\.ok) == [true], "\(lines.map { "\($0.queue): \($0.message)" })")
            let now = try #require(try await bench.queues().first { $0["id"]?.stringValue == b })
            #expect(now.changes(to: original, ignoring: ["version"]).isEmpty)
        }
    }

    /// Rollback is exact: a run of random edits (deploys or patches, queues hit more than once,
    /// secrets among the fields), rolled back, leaves every queue as it was before the run.
    @Test(arguments: [("deploy", 12), ("deploy", 13), ("patch", 16)])
    func aRunOfRandomEditsRollsBackToExactlyBefore(_ binding: String, _ seed: Int) async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let before = try await bench.queues()
            let (run, output) = try await bench.run(#"""
                math.randomseed(tonumber(cx.args[1]))
                local ids = {}
                for _, q in ipairs(queues()) do ids[#ids + 1] = q.id end
                local fields = {"maxWaitTime", "maxWaiters", "wrapUpTime", "maxHoldTime", "concurrency", "name", {"serviceLevelTarget", "time"},
                  {"routing", "strategy"}, {"waitStrategy", "positionThreshold"}, {"callback", "enabled"}, {"overflow", "waitTime"}, "skills",
                  "description", {"integration", "apiToken"}}
                local pool = {1, 2, 5, 10, 20, 30, 45, 60, 80, 100, 120, 300, 600, 3600, "A name", "Queue ✓ 日本", true, false, "random",
                  "weighted", cx.null, cx.array{}, {{id = "skill-001", level = 2}}, "tok-SECRET-123"}
                local written = 0
                for _ = 1, 60 do
                  local id = ids[math.random(#ids)]
                  local q = fetch(id)
                  local change = {}
                  for _ = 1, math.random(1, 4) do
                    local f, v = fields[math.random(#fields)], pool[math.random(#pool)]
                    if type(f) == "table" then
                      if type(change[f[1]]) ~= "table" then change[f[1]] = {} end
                      change[f[1]][f[2]] = v
                    else change[f] = v end
                  end
                  local ok, payload = pcall(build, q, change)
                  if ok and validate(payload) then
                    local sent
                    if cx.args[2] == "patch" then change.version = q.version; sent = pcall(patch, id, change) else sent = pcall(deploy, id, payload) end
                    if sent then written = written + 1 end
                  end
                end
                print(written)
                """#, args: [String(seed), binding])
            #expect(run.outcome.status == .succeeded, "\(run.outcome.failureText)")
            #expect((Int(output.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) >= 3, "enough writes to mean something: \(output)")
            let (_, lines) = try await RollbackSession.run(of: run.summary.runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath,
                                                           force: false, dryRun: false)
            let failed = lines.filter { !$0.ok }.map { "\($0.queue): \($0.message)" }
            #expect(failed.isEmpty, "\(failed)")
            let after = try await bench.queues()
            for (old, new) in zip(before, after) {
                let changed = new.changes(to: old, ignoring: ["version"]).map(\.dotted)
                #expect(changed.isEmpty, "queue \(old["id"]?.stringValue ?? "?") still differs in \(changed)")
            }
        }
    }

    /// Deploys of one queue that ran concurrently (cx.each; each 409 replanned over the others)
    /// roll back to before the run, in the run and later. The later one took the first call's
    /// pre-image by call number — re-snapshotted after its replan, it held its siblings' changes,
    /// which stayed while the rollback reported success (6 of 8 runs by hand).
    @Test func concurrentDeploysOfOneQueueRollBackToBeforeTheRun() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let before = try await bench.queues()
            let targets = before.prefix(6).compactMap { $0["id"]?.stringValue }
            let source = #"""
                local inrun = cx.args[1] == "inrun"
                for i = 2, #cx.args do
                  local target = cx.args[i]
                  local work = {{"maxWaitTime", 77}, {"maxWaiters", 13}, {"maxHoldTime", 99}, {"wrapUpTime", 33}, {"description", "conc"}}
                  cx.each(work, function(w) deploy(target, build(fetch(target), {[w[1]] = w[2]})) end, {concurrency = 5})
                  if inrun then rollback(target) end
                end
                """#
            let (inRun, _) = try await bench.run(source, args: ["inrun"] + targets.prefix(3))
            #expect(inRun.outcome.status == .succeeded, "\(inRun.outcome.failureText)")
            let (later, _) = try await bench.run(source, args: ["later"] + targets.suffix(3))
            #expect(later.outcome.status == .succeeded, "\(later.outcome.failureText)")
            let (_, lines) = try await RollbackSession.run(of: later.summary.runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath,
                                                           force: false, dryRun: false)
            #expect(lines.count == 3 && lines.filter { !$0.ok }.isEmpty, "\(lines.map { "\($0.queue): \($0.message)" })")
            let after = try await bench.queues()
            for (old, new) in zip(before, after) {
                let changed = new.changes(to: old, ignoring: ["version"]).map(\.dotted)
                #expect(changed.isEmpty, "queue \(old["id"]?.stringValue ?? "?") still differs in \(changed)")
            }
        }
    }

    @Test func faultsStillEndInTheRightStateWithOneRowPerCall() async throws {
        let bench = try await Bench.start { $0.seed = 5 }
        try await stopping(bench) {
            let before = try await bench.queues()
            _ = try await bench.send(.PUT, "/_sim/faults", json: ["status429": 0.2, "status503": 0.05, "reset": 0.05])
            var retry = RetryPolicy()
            retry.maxAttempts = 12
            retry.baseDelay = 0.01
            retry.maxDelay = 0.2
            let (result, output) = try await bench.run(#"""
                local ids = {}
                for _, q in ipairs(queues()) do ids[#ids + 1] = q.id end
                cx.each(ids, function(id)
                  local q = fetch(id)
                  local payload = build(q, {maxWaiters = 42})
                  assert(validate(payload))
                  deploy(id, payload)
                end, {concurrency = 4})
                print("done", #ids)
                """#, tenant: bench.tenant(retry: retry))
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == "done\t48\n")
            _ = try await bench.send(.PUT, "/_sim/faults", json: [:])
            let after = try await bench.queues()
            #expect(after.allSatisfy { $0["maxWaiters"] == 42 })
            for (old, new) in zip(before, after) {
                // Written exactly once — or not at all where the value already was 42.
                #expect(new["version"] == (old["maxWaiters"] == 42 ? 1 : 2), "\(new["id"] ?? .null)")
            }
            let calls = try bench.audit.calls(run: result.summary.runID)
            // One row per call: queues, then fetch, build, validate and deploy per queue, and the
            // skills validate loads once (on first need).
            let expected = 1 + 48 * 4 + 1
            #expect(calls.count == expected)
            #expect(Set(calls.map(\.seq)) == Set(1...calls.count))
            #expect(calls.allSatisfy { $0.status == .ok })
            #expect(result.summary.retries > 0 && result.summary.rateLimited > 0)
        }
    }

    @Test func tokenExpiryMidRunIsInvisible() async throws {
        let bench = try await Bench.start { $0.tokenTTL = 3 }
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                for i = 1, 5 do skills() cx.sleep(1.1) end
                print("ok")
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText) \(output)")
            #expect(output == "ok\n")
            let tokenRequests = try await bench.requests().filter { $0["path"] == "/oauth/token" }
            #expect(tokenRequests.count >= 2, "refreshed during the run")
        }
    }

    @Test func secretsNeverReachTheAuditLogOrOutput() async throws {
        let secret = "Client-Secret-Value-9876"
        let bench = try await Bench.start(clientSecret: secret)
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local q = fetch(queues()[1].id)
                deploy(q.id, build(q, {maxWaitTime = 99, note = "token: abc", password = "hunter2"}))
                webhook("wfm", {event = "x", authorization = "Bearer leaked-looking-value"}, {wait = true})
                print(pcall(fetch, "nope"))
                log.info("done with %s", q.id)
                error("boom")
                """#)
            #expect(result.outcome.status == .failed)
            var haystack = output + (result.outcome.message ?? "") + (result.outcome.traceback ?? "") + result.summary.text
            for suffix in ["", "-wal", "-shm"] {
                if let data = FileManager.default.contents(atPath: bench.auditPath + suffix) { haystack += String(decoding: data, as: UTF8.self) }
            }
            #expect(!haystack.contains(secret))
            #expect(!haystack.contains(bench.webhookSecret))
            #expect(!haystack.contains("hunter2"), "values under secret-like keys are masked")
            let calls = try bench.audit.calls(run: result.summary.runID)
            #expect(calls.contains { $0.binding == "webhook" && $0.status == .ok })
        }
    }

    @Test func dryRunChangesNothingAndPlansTheDiff() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local q = fetch(queues()[1].id)
                local r = deploy(q.id, build(q, {maxWaitTime = 241}))
                print(r.planned, r.changed[1])
                local a
                for _, u in ipairs(agents()) do if u.shiftSchedule.onShift and u.roles[1].name == "Agent" and not u.wrapUp.active then a = u break end end
                print(agent_status(a.id, {status = "Training"}).planned)
                print(webhook("wfm", {event = "x"}).planned)
                print(cx.run.dry_run)
                """#, dryRun: true)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == "true\tmaxWaitTime\ntrue\ntrue\ntrue\n", "\(output)")
            let writes = try await bench.requests().filter { $0["method"] != "GET" && $0["path"] != "/oauth/token" && $0["path"]?.stringValue?.hasPrefix("/_sim") == false }
            #expect(writes.isEmpty, "\(writes)")
            #expect(try await bench.send(.GET, "/_sim/webhooks")["deliveries"]?.arrayValue?.isEmpty == true)
            let text = result.plannedChanges.map(\.text).joined(separator: "\n")
            #expect(text.contains("~ maxWaitTime:") && text.contains("-> 241"))
            #expect(text.contains("~ status:") && text.contains("webhook wfm"))
            let calls = try bench.audit.calls(run: result.summary.runID)
            #expect(calls.filter { $0.status == .planned }.map(\.binding).sorted() == ["agent_status", "deploy", "webhook"])
            #expect(try bench.audit.run(result.summary.runID)?.dryRun == true)
        }
    }

    @Test func webhooksAreRetriedOn5xx() async throws {
        let bench = try await Bench.start { $0.seed = 2 }
        try await stopping(bench) {
            _ = try await bench.send(.PUT, "/_sim/faults", json: ["webhook500": 0.5])
            let (result, output) = try await bench.run(#"""
                local attempts = {}
                for i = 1, 6 do
                  local r = webhook("wfm", {event = "e" .. i}, {wait = true})
                  attempts[#attempts + 1] = r.status .. "/" .. r.attempts
                end
                print(table.concat(attempts, " "))
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let outcomes = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
            #expect(outcomes.allSatisfy { $0.hasPrefix("delivered/") }, "\(output)")
            #expect(outcomes.contains { !$0.hasSuffix("/1") }, "some needed a retry: \(output)")
            let deliveries = try await bench.send(.GET, "/_sim/webhooks")["deliveries"]?.arrayValue ?? []
            #expect(deliveries.count == 6 && deliveries.allSatisfy { $0["verified"] == true })
        }
    }

    @Test func aCloseHandlerRollsBackWhenTheScriptFailsAndItsCallIsAudited() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let id = try #require(try await bench.queues().first?["id"]?.stringValue)
            let before = try #require(try await bench.queues().first { $0["id"]?.stringValue == id })
            let (result, out) = try await bench.run(#"""
                local q = fetch(cx.args[1])
                deploy(q.id, build(q, {maxWaitTime = 555}))
                local guard <close> = setmetatable({}, { __close = function(_, err)
                  if err then rollback(q.id) print("rolled back") end
                end })
                error("validation of the next step failed")
                """#, args: [id])
            #expect(result.outcome.status == .failed)
            #expect(result.outcome.message?.contains("book.lua:6: validation of the next step failed") == true, "\(result.outcome.failureText)")
            #expect(out.contains("rolled back"), "\(out)")
            let runID = try #require(try bench.audit.runs().first?.id)
            let calls = try bench.audit.calls(run: runID)
            #expect(calls.map(\.binding) == ["fetch", "build", "deploy", "rollback"], "\(calls.map(\.binding))")
            #expect(calls.allSatisfy { $0.status == .ok }, "\(calls.map(\.status))")
            let after = try #require(try await bench.queues().first { $0["id"]?.stringValue == id })
            #expect(after["maxWaitTime"] == before["maxWaitTime"], "the rollback restored the pre-image")
        }
    }
}
