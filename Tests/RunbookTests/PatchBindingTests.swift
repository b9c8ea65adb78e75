import CXone
import Foundation
import JSONCore
import Testing
import TestSupport

@testable import Runbook

/// `patch`: only some fields, as an HTTP PATCH, through the one queue writer.
@Suite("patch binding")
struct PatchBindingTests {
    @Test func patchSendsOnlyTheFieldsMergesAConcurrentEditAndRollsBack() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let queues = try await bench.queues()
            let id = try #require(queues.first?["id"]?.stringValue), other = try #require(queues.dropFirst().first?["id"]?.stringValue)
            let before = try #require(queues.first)
            let (result, output) = try await bench.run("""
                local q = fetch("\(id)")
                local r = patch(q.id, {version = q.version, maxWaitTime = 222})
                print(r.version, table.concat(r.changed, ","), r.merged)
                local o = fetch("\(other)")
                local ok, e = pcall(patch, o.id, {maxWaitTime = 1})
                print(ok, e.code)
                """)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let lines = output.split(separator: "\n").map(String.init)
            #expect(lines.first == "2\tmaxWaitTime\tfalse", "\(output)")
            #expect(lines.dropFirst().first == "false\tinvalid", "changes without a version are refused: \(output)")
            let writes = try await bench.requests().filter { $0["method"]?.stringValue != "GET" && $0["path"]?.stringValue?.hasPrefix("/api/") == true }
            #expect(writes.map { $0["method"]?.stringValue ?? "" } == ["PATCH"], "one PATCH, no PUT: \(writes)")
            let after = try await CXoneClient(endpoint: bench.tenant().endpoint!).queue(id).value
            #expect(before.changes(to: after, ignoring: ["version"]).map(\.dotted) == ["maxWaitTime"])

            // Others edit other fields between fetch and patch (the seed fixes which): merged, both kept.
            _ = try await bench.send(.PUT, "/_sim/faults", json: ["concurrentEdit": 0.5])
            let (merged, out2) = try await bench.run("""
                local n = 0
                for i, s in ipairs(queues()) do
                  if i > 1 and i <= 7 then
                    local q = fetch(s.id)
                    if patch(q.id, {version = q.version, maxWaitTime = 233}).merged then n = n + 1 end
                  end
                end
                print(n)
                """)
            _ = try await bench.send(.PUT, "/_sim/faults", json: [:])
            #expect(merged.outcome.status == .succeeded, "\(merged.outcome.failureText)")
            #expect((Int(out2.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0, "some patches merged: \(out2)")
            let now = try await bench.queues()
            #expect(now[1...6].allSatisfy { $0["maxWaitTime"] == 233 }, "every patch landed")

            // Rolled back like a deploy, from the audit log.
            let undo = try await RollbackSession.run(of: result.summary.runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath,
                                                     force: false, dryRun: false)
            #expect(undo.lines.map(\.ok) == [true], "\(undo.lines.map(\.message))")
            let restored = try await CXoneClient(endpoint: bench.tenant().endpoint!).queue(id).value
            #expect(restored["maxWaitTime"] == before["maxWaitTime"])
        }
    }
}
