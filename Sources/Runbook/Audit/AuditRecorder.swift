import Dispatch
import Foundation
import JSONCore
import Synchronization

/// Per-binding figures for the run summary.
public struct CallStat: Sendable {
    public var binding: String
    public var status: String
    public var latencyMs: Double
}

/// One run's audit trail. Calls are numbered 1..n; a row is committed `pending` before its
/// request is sent and updated when the call completes; pure calls are buffered and written in
/// one transaction at the next yield and at the end of the run.
public final class AuditRecorder: Sendable {
    public let store: AuditStore
    public let runID: String
    let redactor: Redactor
    private let sequence = Atomic<Int>(0)
    private let buffer = Mutex<[CallRecord]>([])
    private let stats = Mutex<[CallStat]>([])
    private let outstanding = Atomic<Int>(0)
    private let problems = Mutex<[String]>([])

    init(store: AuditStore, runID: String, redactor: Redactor) {
        self.store = store
        self.runID = runID
        self.redactor = redactor
    }

    func next() -> Int { sequence.add(1, ordering: .relaxed).newValue }

    /// A new row for a call starting now.
    func start(_ binding: String, target: String?, args: JSONValue) -> CallRecord {
        CallRecord(runID: runID, seq: next(), binding: binding, target: target, args: redactor.redact(args), result: nil, status: "pending",
                   errorCode: nil, httpStatus: nil, attempts: 0, startedAt: Date().timeIntervalSince1970, latencyMs: nil)
    }

    /// A finished pure call: buffered.
    func finished(_ record: CallRecord) {
        var r = record
        r.result = r.result.map(redactor.redact)
        stats.withLock { $0.append(CallStat(binding: r.binding, status: r.status, latencyMs: r.latencyMs ?? 0)) }
        let count = buffer.withLock { $0.append(r); return $0.count }
        if count >= 256 { flush() }
    }

    /// Commits buffered rows, then `pending` (with its snapshots), in one transaction, before
    /// the call's request can be sent.
    func commitPending(_ record: CallRecord, snapshots: [SnapshotRecord] = []) throws {
        let rows = buffer.withLock { b in defer { b.removeAll() }; return b }
        outstanding.add(1, ordering: .relaxed)
        do {
            try store.insert(calls: rows + [record], snapshots: snapshots.map(redacted))
        } catch {
            outstanding.subtract(1, ordering: .relaxed)
            throw error
        }
    }

    /// Records a pending call's outcome.
    func completed(_ record: CallRecord, snapshots: [SnapshotRecord] = []) {
        var r = record
        r.result = r.result.map(redactor.redact)
        stats.withLock { $0.append(CallStat(binding: r.binding, status: r.status, latencyMs: r.latencyMs ?? 0)) }
        do { try store.update(call: r, snapshots: snapshots.map(redacted)) } catch { note("audit update of call \(r.seq) failed: \(error)") }
        outstanding.subtract(1, ordering: .relaxed)
    }

    /// Replaces a call's snapshot (a deploy that re-read after a conflict overwrites a new pre-image).
    func snapshot(_ snapshot: SnapshotRecord) {
        do { try store.insert(calls: [], snapshots: [redacted(snapshot)]) } catch { note("audit snapshot failed: \(error)") }
    }

    func flush() {
        let rows = buffer.withLock { b in defer { b.removeAll() }; return b }
        guard !rows.isEmpty else { return }
        do { try store.insert(calls: rows) } catch { note("audit write failed: \(error)") }
    }

    /// Waits (bounded) for calls still in flight to record their outcome.
    func settle(timeout: Double) {
        let deadline = Date().addingTimeInterval(timeout)
        while outstanding.load(ordering: .relaxed) > 0 && Date() < deadline { usleep(5_000) }
        flush()
    }

    var callStats: [CallStat] { stats.withLock { $0 } }
    var auditProblems: [String] { problems.withLock { $0 } }

    private func note(_ problem: String) { problems.withLock { $0.append(problem) } }

    private func redacted(_ s: SnapshotRecord) -> SnapshotRecord {
        var copy = s
        copy.document = redactor.redact(s.document)
        return copy
    }
}
