import Foundation
import JSONCore
import Runbook
import TestSupport

/// The audit log's cost per binding call in both backends, as the recorder writes rows: a write's
/// row committed `pending` with its images and run lock (one transaction per call, carrying the
/// outcome of the call before), and reads' rows in batches of 256; and a run lock's round trip
/// (take and free). PostgreSQL is a throwaway cluster on
/// loopback (fsync off, like the SQLite file's synchronous=NORMAL: neither waits for the disk).
/// Each figure is a side's best of five blocks, the two sides' blocks taken in turn: one block's
/// time here varies by half from the next (wake-ups of three processes on two cores), and that
/// noise only adds.
enum AuditStoreBench {
    static let calls = 1_000, blocks = 5

    struct Figures {
        var writesPerSecond = 0.0
        var readRowsPerSecond = 0.0
        var lockRoundTripMs = Double.infinity
    }

    static func run() async {
        say("\naudit store: \(blocks) blocks of \(calls) calls, SQLite file vs PostgreSQL on loopback, best block of each")
        do {
            let dir = NSTemporaryDirectory() + "cxrun-bench-audit-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let server = try PostgresServer.startBlocking()
            defer { server.stopBlocking() }
            let stores = [try AuditStore(path: dir + "/audit.sqlite"), try AuditStore(path: try server.createDatabaseBlocking("bench"))]
            let runs = try stores.map(startRun)
            var figures = [Figures(), Figures()]
            for block in 0..<blocks {
                for side in 0..<2 {
                    figures[side].best(of: try measure(stores[side], run: runs[side], block: block))
                }
            }
            let (sqlite, postgres) = (figures[0], figures[1])
            for (name, f) in [("SQLite", sqlite), ("PostgreSQL", postgres)] {
                say(String(format: "  %-10@  writes: %7.0f calls/s (%.3f ms each)   reads: %8.0f rows/s   lock round trip: %.3f ms",
                           name as NSString, f.writesPerSecond, 1000 / f.writesPerSecond, f.readRowsPerSecond, f.lockRoundTripMs))
            }
            say(String(format: "  PostgreSQL / SQLite cost per write call: %.2f   (goal <= 8: a write's commit over the network against a local file's)",
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

    static func startRun(_ store: AuditStore) throws -> String {
        let runID = "bench-\(UUID().uuidString.prefix(8))"
        try store.insert(run: RunRecord(id: runID, script: "bench.lua", scriptSHA256: "", tenant: "bench", operatorName: "bench", args: [],
                                        dryRun: false, startedAt: Date().timeIntervalSince1970, finishedAt: nil, status: .running, error: nil,
                                        summary: nil))
        return runID
    }

    /// One block: `calls` write calls, `calls` read rows, and lock round trips, numbered after the
    /// blocks before it.
    /// A write call's row as the recorder writes it: `pending`, then with its outcome.
    static func row(run runID: String, _ seq: Int, _ status: CallStatus) -> CallRecord {
        CallRecord(runID: runID, seq: seq, binding: "deploy", target: "q-\(seq % 500)", args: ["queue_id": .string("q-\(seq % 500)"), "n": .int(Int64(seq))],
                   result: status == .pending ? nil : ["version": .int(Int64(seq))], status: status, errorCode: nil, httpStatus: 200, attempts: 1,
                   startedAt: Date().timeIntervalSince1970, latencyMs: 1.5)
    }

    /// A sandbox queue document as fetch returns it: what each write's two images hold.
    static let document: JSONValue = {
        let text = #"""
            {"callback":{"enabled":true,"positionThreshold":7},"channel":"voice","concurrency":1,"id":"4d4673ef-77ba-4574-a1af-8cfd4c4cbee5",
             "maxHoldTime":90,"maxWaitTime":300,"maxWaiters":72,"name":"Voice - Billing 1","overflow":{"action":"drop","enabled":false,"waitTime":120},
             "routing":{"longestIdleSeconds":300,"priority":{"enabled":false,"levels":[]},"strategy":"weighted"},
             "serviceLevelTarget":{"threshold":70,"time":20},"skillRequirements":[{"proficiency":"advanced","required":true,"skill":"language:en"}],
             "skills":[{"id":"3c821fbf-5910-4163-a7ff-0d388687ffb2","level":5},{"id":"7476cf8a-4baa-4dc0-a7b3-41d690d7a28a","level":2}],
             "version":1,"waitStrategy":{"abandonmentThreshold":120,"positionThreshold":10},"wrapUpTime":30}
            """#
        return (try? JSONValue.parse(text)) ?? .null
    }()

    /// The audit rows of write calls `seqs` as the recorder commits them (AuditRecorder): each
    /// write's pending row, its pre- and post-image and its target's run lock (each call writes a
    /// queue of its own, as a rebalance does) in one transaction, which also carries the outcome
    /// of the write before it (an outcome waits for the next commit); the last outcome alone.
    /// `postImage` false leaves out the one part DESIGN §6–7 does not ask for: what any audited
    /// client pays at least.
    static func writeCalls(_ store: AuditStore, run runID: String, _ seqs: Range<Int>, postImage: Bool = true) throws {
        var outcome: CallRecord?
        for seq in seqs {
            let queue = "q-\(seq)"
            let pre = SnapshotRecord(runID: runID, seq: seq, queueID: queue, kind: .pre, version: 1, document: document)
            let post = SnapshotRecord(runID: runID, seq: seq, queueID: queue, kind: .post, version: nil,
                                      document: document.setting(.int(301), at: ["maxWaitTime"]))
            let images = postImage ? [pre, post] : [pre]
            let now = Date().timeIntervalSince1970
            let lease = LeaseRecord(tenant: "bench", target: "queue:" + queue, runID: runID, operatorName: "bench", owner: .current, since: now,
                                    expiresAt: now + 600)
            guard try store.commit(inserting: [row(run: runID, seq, .pending)], updating: outcome.map { [$0] } ?? [], snapshots: images,
                                   taking: lease, now: now)
            else { throw BenchError("the run lock of \(queue) was held") }
            outcome = row(run: runID, seq, .ok)
        }
        if let outcome { try store.update(call: outcome) }
    }

    static func measure(_ store: AuditStore, run runID: String, block: Int) throws -> Figures {
        func row(_ seq: Int, _ status: CallStatus) -> CallRecord { Self.row(run: runID, seq, status) }
        let first = block * 2 * calls + 1
        var start = Date()
        try writeCalls(store, run: runID, first..<(first + calls))
        let writes = Double(calls) / Date().timeIntervalSince(start)
        start = Date()
        var batch: [CallRecord] = []
        for seq in (first + calls)..<(first + 2 * calls) {
            batch.append(row(seq, .ok))
            if batch.count == 256 {
                try store.insert(calls: batch)
                batch.removeAll()
            }
        }
        try store.insert(calls: batch)
        let reads = Double(calls) / Date().timeIntervalSince(start)
        let rounds = 200
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

extension AuditStoreBench.Figures {
    /// Keeps the better of each figure.
    mutating func best(of other: Self) {
        writesPerSecond = max(writesPerSecond, other.writesPerSecond)
        readRowsPerSecond = max(readRowsPerSecond, other.readRowsPerSecond)
        lockRoundTripMs = min(lockRoundTripMs, other.lockRoundTripMs)
    }
}
