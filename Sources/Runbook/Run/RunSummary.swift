import Foundation
import JSONCore

/// The end-of-run report: calls per binding with errors and latency percentiles, HTTP retries,
/// where the audit log is.
public struct RunSummary: Sendable {
    public struct Binding: Sendable {
        public var name: String
        public var calls: Int
        public var errors: Int
        public var p50: Double
        public var p95: Double
        public var max: Double
    }

    public var runID: String
    /// The tenant the run worked against, named on the summary's first line.
    public var tenant: String
    public var status: RunStatus
    public var bindings: [Binding]
    public var requests: Int
    public var retries: Int
    public var rateLimited: Int
    public var auditPath: String
    public var seconds: Double
    /// Writes that may have applied without cxrun learning whether (rows left pending: cut off
    /// by a stop, or no answer and no re-read).
    public var unknownWrites: Int
    /// For a run that did not succeed: the queues it wrote and the agents it reassigned, which
    /// `cxrun rollback --run` would undo (what landed before it failed is said, not left to find).
    public var undoable = (queues: 0, agents: 0)
    /// For a run that did not succeed: the agents whose status it set, which no rollback undoes.
    public var statusesSet = 0

    init(runID: String, tenant: String, status: RunStatus, stats: [CallStat], unknownWrites: Int, requests: Int, retries: Int, rateLimited: Int,
         auditPath: String, seconds: Double) {
        self.runID = runID
        self.tenant = tenant
        self.status = status
        self.requests = requests
        self.retries = retries
        self.rateLimited = rateLimited
        self.auditPath = auditPath
        self.seconds = seconds
        self.unknownWrites = unknownWrites
        bindings = Dictionary(grouping: stats, by: \.binding).map { name, calls in
            let latencies = calls.map(\.latencyMs).sorted()
            // A write whose outcome is unknown (left pending) did not report success: it counts.
            return Binding(name: name, calls: calls.count, errors: calls.filter { $0.status == .error || $0.status == .pending }.count,
                           p50: Self.percentile(latencies, 0.50), p95: Self.percentile(latencies, 0.95), max: latencies.last ?? 0)
        }.sorted { $0.name < $1.name }
    }

    /// Nearest-rank percentile of sorted values.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[Swift.max(0, Swift.min(sorted.count - 1, rank - 1))]
    }

    public var json: JSONValue {
        [
            "run_id": .string(runID), "tenant": .string(tenant), "status": .string(status.rawValue), "seconds": .double((seconds * 1000).rounded() / 1000),
            "requests": .int(Int64(requests)), "retries": .int(Int64(retries)), "rate_limited": .int(Int64(rateLimited)),
            "audit": .string(auditPath), "unknown_writes": .int(Int64(unknownWrites)),
            "undoable": ["queues": .int(Int64(undoable.queues)), "agents": .int(Int64(undoable.agents))],
            "statuses_set": .int(Int64(statusesSet)),
            "bindings": .object(Dictionary(uniqueKeysWithValues: bindings.map { b in
                (b.name, ["calls": .int(Int64(b.calls)), "errors": .int(Int64(b.errors)), "p50_ms": .double(Self.round(b.p50)),
                          "p95_ms": .double(Self.round(b.p95)), "max_ms": .double(Self.round(b.max))] as JSONValue)
            })),
        ]
    }

    public var text: String {
        var lines = ["run \(runID) \(status.rawValue) in \(Self.hundredths(seconds)) s against tenant \(tenant)"]
        if !bindings.isEmpty {
            func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s : s + String(repeating: " ", count: width - s.count) }
            lines.append("  " + pad("binding", 14) + "  calls errors    p50 ms    p95 ms    max ms")
            for b in bindings {
                lines.append("  " + pad(b.name, 14) + String(format: " %6d %6d %9.1f %9.1f %9.1f", b.calls, b.errors, b.p50, b.p95, b.max))
            }
        }
        lines.append("  HTTP requests \(requests), retries \(retries), 429s received \(rateLimited)")
        if unknownWrites > 0 {
            lines.append("  \(unknownWrites) write\(unknownWrites == 1 ? " was" : "s were") cut off and may have applied (left pending); "
                         + "cxrun rollback --run \(runID) restores the queues (refusing a late arrival) and routing profiles written so")
        }
        if status != .succeeded { lines += Self.leftChanged(runID: runID, undoable: undoable, statusesSet: statusesSet).map { "  " + $0 } }
        lines.append("  audit: \(auditPath) (cxrun audit show \(runID))")
        return lines.joined(separator: "\n")
    }

    /// What a run that did not succeed left changed, a line each (none when nothing): the queues
    /// and routing profiles `cxrun rollback --run` undoes, and the agent statuses nothing undoes.
    static func leftChanged(runID: String, undoable: (queues: Int, agents: Int), statusesSet: Int) -> [String] {
        var lines: [String] = []
        if undoable.queues + undoable.agents > 0 {
            var what: [String] = []
            if undoable.queues > 0 { what.append(undoable.queues == 1 ? "1 queue" : "\(undoable.queues) queues") }
            if undoable.agents > 0 { what.append(undoable.agents == 1 ? "1 agent's routing profile" : "\(undoable.agents) agents' routing profiles") }
            lines.append("before it ended it changed \(what.joined(separator: " and ")), which stay changed: cxrun rollback --run \(runID) undoes them")
        }
        if statusesSet > 0 {
            lines.append("before it ended it set \(statusesSet == 1 ? "1 agent's status" : "\(statusesSet) agents' statuses"), which stay set (no rollback undoes a status)")
        }
        return lines
    }

    /// The same, read from a run's rows and, when it needs them, its snapshots (`cxrun audit show`
    /// of a run that failed or was stopped).
    public static func leftChanged(run: RunRecord, calls: [CallRecord], snapshots: () throws -> [SnapshotRecord]) -> [String] {
        guard run.status != .succeeded && run.status != .running && !run.dryRun else { return [] }
        return leftChanged(runID: run.id, undoable: Rollback.undoable(calls, snapshots: snapshots), statusesSet: Rollback.statusesSet(calls))
    }

    private static func round(_ x: Double) -> Double { (x * 100).rounded() / 100 }

    /// `1.50` for 1.4971 (non-negative, finite). Not String(format:): its first use in a process
    /// (protocol-conformance lookups for its arguments) was a quarter of a millisecond of a short run.
    static func hundredths(_ x: Double) -> String {
        guard x.isFinite, x >= 0, x < 1e15 else { return String(x) }
        let n = Int((x * 100).rounded())
        let cents = n % 100
        return "\(n / 100).\(cents < 10 ? "0" : "")\(cents)"
    }
}
