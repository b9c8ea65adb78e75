import CXone
import Foundation
import JSONCore
import Testing
import TestSupport

@testable import Runbook

/// Whole runs against the sandbox tenant with the audit log in PostgreSQL: the same guarantees
/// as SQLite, and what happens when the database goes away mid-run.
@Suite("Runs audited in PostgreSQL")
struct SharedAuditRunTests {
    @Test func everyCallHasOneRowSnapshotsPrecedeWritesAndSecretsAreNotStored() async throws {
        let bench = try await Bench.start(sharedAudit: true)
        try await stopping(bench) {
            let (result, output) = try await bench.run("""
                local ids = {}
                for _, q in ipairs(queues()) do ids[#ids + 1] = q.id end
                for i = 1, 3 do
                  local q = fetch(ids[i])
                  deploy(q.id, build(q, {maxWaiters = 40 + i, integration = {apiToken = "tok-SECRET-" .. i}}))
                end
                local ok = pcall(deploy, "no-such-queue", {})
                print(#ids, ok)
                """)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let store = try bench.audit
            let runID = result.summary.runID
            let calls = try store.calls(run: runID)
            #expect(calls.map(\.seq) == Array(1...calls.count), "one row per call, numbered without gaps")
            #expect(calls.count == result.summary.bindings.reduce(0) { $0 + $1.calls }, "\(calls.count) rows, \(result.summary.bindings.reduce(0) { $0 + $1.calls }) calls (\(output))")
            let deploys = calls.filter { $0.binding == "deploy" }
            #expect(deploys.filter { $0.status == .ok }.count == 3 && deploys.filter { $0.status == .error }.count == 1)
            let snapshots = try store.snapshots(run: runID)
            for d in deploys where d.status == .ok {
                #expect(snapshots.contains { $0.seq == d.seq && $0.kind == .pre }, "a pre-image for deploy \(d.seq)")
            }
            #expect(try store.run(runID)?.status == .succeeded)
            let dump = try await PostgresServer.shared().sql(
                "SELECT coalesce(string_agg(document, ''), '') FROM snapshots; SELECT coalesce(string_agg(args || coalesce(result, ''), ''), '') FROM calls",
                database: String(bench.auditPath.split(separator: "/").last!.split(separator: "?").first!))
            #expect(dump.contains("maxWaiters") && !dump.contains("tok-SECRET"), "no secret stored in clear")
            // A second store (another operator) sees the run and rolls it back.
            let lines = try await RollbackSession.run(of: runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath, force: false,
                                                      dryRun: false).lines
            #expect(lines.count == 3 && lines.allSatisfy(\.ok) == false, "secrets were masked, not sealed (no CXRUN_AUDIT_KEY): \(lines.map(\.message))")
            #expect(lines.allSatisfy { $0.message.contains("integration.apiToken") }, "\(lines.map(\.message))")
        }
    }

    @Test func losingTheDatabaseMidRunSendsNoWriteWithoutItsRowAndTheRunSaysSo() async throws {
        let server = try await PostgresServer.start()
        let bench = try await Bench.start(auditPath: try await server.createDatabase("lost"))
        try await stopping(bench) {
            let before = try await bench.queues()
            let (second, third) = (before[1]["id"]!.stringValue!, before[2]["id"]!.stringValue!)
            let secondVersion = try #require(before[1]["version"]?.intValue)
            // The database stops while the script prints "stop" and starts again at "start":
            // the print blocks the script until it has.
            let (result, output) = try await bench.run("""
                local ids = {}
                for _, q in ipairs(queues()) do ids[#ids + 1] = q.id end
                local q = fetch(ids[1])
                deploy(q.id, build(q, {maxWaiters = 61}))
                local q2 = fetch(ids[2])
                print("stop")
                local ok, err = pcall(deploy, q2.id, build(q2, {maxWaiters = 62}))
                print("deploy", ok, type(err) == "table" and err.code, type(err) == "table" and err.message)
                print("start")
                local q3 = fetch(ids[3])
                deploy(q3.id, build(q3, {maxWaiters = 63}))
                """, onPrint: { text in
                    // The script's print runs on its own thread, which may block.
                    if text.hasPrefix("stop") { server.stopBlocking() }
                    if text.hasPrefix("start") { try? server.startAgainBlocking() }
                })
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText) \(output)")
            #expect(output.contains("deploy\tfalse\tsandbox\tthe audit log could not be written, so deploy was not attempted"), "\(output)")
            #expect(output.contains("cannot connect to postgresql://cxrun@127.0.0.1"), "\(output)")
            let after = try await bench.queues()
            #expect(after.first { $0["id"]?.stringValue == second }?["version"]?.intValue == secondVersion, "the write without its row was never sent")
            #expect(after.first { $0["id"]?.stringValue == third }?["maxWaiters"] == 63, "the run went on once the database was back")
            let calls = try bench.audit.calls(run: result.summary.runID)
            #expect(calls.filter { $0.binding == "deploy" }.map(\.status) == [.ok, .error, .ok], "every call has its row: \(calls.map(\.binding))")
        }
        await server.stop()
    }
}
