import Foundation
import JSONCore
import Synchronization
import Testing
import TestSupport

@testable import Runbook

/// An interactive session writes what each chunk did to the audit log before it waits for the
/// next line: an operator's deploy shows `ok` (with its snapshot) while the prompt waits, not at
/// the session's next write or end.
@Suite("cxrun repl: the audit log while the prompt waits")
struct ReplSessionAuditTests {
    @Test func aChunksWritesAreInTheLogWhileTheNextLineIsAwaited() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let lines = Mutex<[String]>([
                "q = fetch(queues()[1].id)",
                "deploy(q.id, build(q, {maxWaitTime = q.maxWaitTime + 1}))",
            ])
            let seen = Mutex<[String]>([])
            let runID = RunbookSession.newRunID()
            let path = bench.auditPath
            let request = RunbookRequest(
                runID: runID, scriptPath: "stdin", source: RunbookSession.replSource, args: [], tenant: bench.tenant(), dryRun: false,
                limits: RunLimits(timeout: 60), auditPath: path, stdlib: stdlibPath, output: { _ in }, log: { _, _ in },
                readLine: { _ in
                    // What the log holds of this session as each prompt shows.
                    let rows = (try? AuditStore(path: path).calls(run: runID)) ?? []
                    seen.withLock { $0.append(rows.map { "\($0.binding):\($0.status.rawValue)" }.joined(separator: ",")) }
                    return lines.withLock { $0.isEmpty ? nil : .text($0.removeFirst()) }
                })
            let result = try await RunbookSession.run(request)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(seen.withLock { $0 } == ["", "queues:ok,fetch:ok", "queues:ok,fetch:ok,build:ok,deploy:ok"], "\(seen.withLock { $0 })")
            let images = try bench.audit.snapshots(run: runID).map(\.kind)
            #expect(images == [.post, .pre], "\(images)")
        }
    }
}
