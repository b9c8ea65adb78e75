import Foundation
import Runbook
import TestSupport

/// The audit log's cost per binding call in both backends, as the recorder writes rows: a write's
/// row committed `pending` then completed (two transactions per call), and reads' rows in batches
/// of 256; and a run lock's round trip (take and free). PostgreSQL is a throwaway cluster on
/// loopback (fsync off, like the SQLite file's synchronous=NORMAL: neither waits for the disk).
enum AuditStoreBench {
    static let calls = 5_000

    struct Figures {
        var writesPerSecond: Double
        var readRowsPerSecond: Double
        var lockRoundTripMs: Double
    }

    static func run() async {
        say("\naudit store: \(calls)-call runs, SQLite file vs PostgreSQL on loopback")
        do {
            let dir = NSTemporaryDirectory() + "cxrun-bench-audit-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let server = try PostgresServer.startBlocking()
            defer { server.stopBlocking() }
            let sqlite = try measure(AuditStore(path: dir + "/audit.sqlite"))
            let postgres = try measure(AuditStore(path: try server.createDatabaseBlocking("bench")))
            for (name, f) in [("SQLite", sqlite), ("PostgreSQL", postgres)] {
                say(String(format: "  %-10@  writes: %7.0f calls/s (%.3f ms each)   reads: %8.0f rows/s   lock round trip: %.3f ms",
                           name as NSString, f.writesPerSecond, 1000 / f.writesPerSecond, f.readRowsPerSecond, f.lockRoundTripMs))
            }
            say(String(format: "  PostgreSQL / SQLite cost per write call: %.2f   (goal <= 8: two network round trips against a local file's commit)",
                       sqlite.writesPerSecond / postgres.writesPerSecond))
            // What a team store costs a whole writing run: the 500-queue rebalance (fetch, build,
            // validate, deploy each, sequential), audited in each backend, the tenant answering
            // after an API-like 10 ms.
            let local = try await RebalanceBench.measure(concurrency: 1, rateLimit: 0, latencyMs: 10, auditPath: dir + "/rebalance.sqlite")
            let team = try await RebalanceBench.measure(concurrency: 1, rateLimit: 0, latencyMs: 10, auditPath: try server.createDatabaseBlocking("rebalance"))
            if let failed = local.failed ?? team.failed { return say("  rebalance FAILED: \(failed)") }
            say(String(format: "  500-queue rebalance at 10 ms API latency: SQLite audit %.2f s, PostgreSQL audit + locks %.2f s = %.2fx   (goal <= 1.2)",
                       local.seconds, team.seconds, team.seconds / local.seconds))
        } catch {
            say("  FAILED: \(error)")
        }
    }

    static func measure(_ store: AuditStore) throws -> Figures {
        let runID = "bench-\(UUID().uuidString.prefix(8))"
        try store.insert(run: RunRecord(id: runID, script: "bench.lua", scriptSHA256: "", tenant: "bench", operatorName: "bench", args: [],
                                        dryRun: false, startedAt: Date().timeIntervalSince1970, finishedAt: nil, status: .running, error: nil,
                                        summary: nil))
        func row(_ seq: Int, _ status: CallStatus) -> CallRecord {
            CallRecord(runID: runID, seq: seq, binding: "deploy", target: "q-\(seq % 500)", args: ["queue_id": .string("q-\(seq % 500)"), "n": .int(Int64(seq))],
                       result: status == .pending ? nil : ["version": .int(Int64(seq))], status: status, errorCode: nil, httpStatus: 200, attempts: 1,
                       startedAt: Date().timeIntervalSince1970, latencyMs: 1.5)
        }
        var start = Date()
        for seq in 1...calls {
            try store.insert(calls: [row(seq, .pending)])
            try store.update(call: row(seq, .ok))
        }
        let writes = Double(calls) / Date().timeIntervalSince(start)
        start = Date()
        var batch: [CallRecord] = []
        for seq in (calls + 1)...(2 * calls) {
            batch.append(row(seq, .ok))
            if batch.count == 256 {
                try store.insert(calls: batch)
                batch.removeAll()
            }
        }
        try store.insert(calls: batch)
        let reads = Double(calls) / Date().timeIntervalSince(start)
        let rounds = 500
        start = Date()
        for i in 0..<rounds {
            let now = Date().timeIntervalSince1970
            _ = try store.acquire(LeaseRecord(tenant: "bench", target: "queue:q-\(i)", runID: runID, operatorName: "bench", owner: .current, since: now,
                                              expiresAt: now + 60), now: now)
            try store.releaseLeases(run: runID)
        }
        let lockMs = Date().timeIntervalSince(start) * 1000 / Double(rounds)
        return Figures(writesPerSecond: writes, readRowsPerSecond: reads, lockRoundTripMs: lockMs)
    }
}
