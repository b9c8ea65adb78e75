import Dispatch
import Foundation
import JSONCore
import Synchronization

/// Per-binding figures for the run summary.
public struct CallStat: Sendable {
    public var binding: String
    public var status: CallStatus
    public var latencyMs: Double
}

/// One run's audit trail. Calls are numbered 1..n. A write's row is committed `pending` before
/// its request is sent and updated when the call completes. Pure calls and reads write nothing
/// on the hot path: their finished rows are buffered and written in one transaction with the
/// next pending row, every 256 rows, and at the end of the run (calls still in flight then are
/// written `pending`, so every call keeps its one row).
public final class AuditRecorder: Sendable {
    public let store: AuditStore
    public let runID: String
    let redactor: Redactor
    private let sequence = Atomic<Int>(0)
    private let rows = Mutex<Unwritten>(Unwritten())
    private let stats = Mutex<[CallStat]>([])
    private let outstanding = Atomic<Int>(0)
    private let unsettled = Atomic<Int>(0)
    private let problems = Mutex<[String]>([])

    init(store: AuditStore, runID: String, redactor: Redactor) {
        self.store = store
        self.runID = runID
        self.redactor = redactor
    }

    /// Rows not in the database yet: finished ones, and calls in flight without a pending row.
    private struct Unwritten {
        var finished: [CallRecord] = []
        var inFlight: [Int: CallRecord] = [:]
    }

    func next() -> Int { sequence.add(1, ordering: .relaxed).newValue }

    /// A new row for a call starting now.
    func start(_ binding: String, target: String?, args: JSONValue) -> CallRecord {
        CallRecord(runID: runID, seq: next(), binding: binding, target: target, args: redactor.redact(args), result: nil, status: .pending,
                   errorCode: nil, httpStatus: nil, attempts: 0, startedAt: Date().timeIntervalSince1970, latencyMs: nil)
    }

    /// A finished pure call: buffered.
    func finished(_ record: CallRecord) {
        let r = counted(record)
        let count = rows.withLock { $0.finished.append(r); return $0.finished.count }
        if count >= 256 { flush() }
    }

    /// A call starting: nothing is written now. A read's row is buffered when it completes; a
    /// write's is committed `pending` by `commitPending` before its request is sent.
    func began(_ record: CallRecord) {
        outstanding.add(1, ordering: .relaxed)
        rows.withLock { $0.inFlight[record.seq] = record }
    }

    /// Commits buffered rows, then the `began` call's `pending` row (with its snapshots), in one
    /// transaction. On failure nothing is lost: the rows stay unwritten and the call in flight.
    func commitPending(_ record: CallRecord, snapshots: [SnapshotRecord] = []) throws {
        let buffered = rows.withLock { r in
            r.inFlight.removeValue(forKey: record.seq)
            defer { r.finished.removeAll() }
            return r.finished
        }
        do {
            try store.insert(calls: buffered + [record], snapshots: snapshots.map(redacted))
            unsettled.add(1, ordering: .relaxed)
        } catch {
            rows.withLock {
                $0.finished.insert(contentsOf: buffered, at: 0)
                $0.inFlight[record.seq] = record
            }
            throw error
        }
    }

    /// Records a call's outcome: a row not yet written is buffered, a pending row is updated.
    func completed(_ record: CallRecord, snapshots: [SnapshotRecord] = []) {
        let r = counted(record)
        let (wasInFlight, count) = rows.withLock { rows in
            guard rows.inFlight.removeValue(forKey: r.seq) != nil else { return (false, 0) }
            rows.finished.append(r)
            return (true, rows.finished.count)
        }
        if !wasInFlight {
            do { try store.update(call: r, snapshots: snapshots.map(redacted)) } catch { note("audit update of call \(r.seq) failed: \(error)") }
            if r.status != .pending { unsettled.subtract(1, ordering: .relaxed) }
        }
        outstanding.subtract(1, ordering: .relaxed)
        if count >= 256 { flush() }
    }

    /// Commits snapshots of a call in flight, in one transaction, replacing any of the same kind
    /// (a write planned again after a conflict, a pre-image read just before its write is sent).
    func snapshots(_ snapshots: [SnapshotRecord]) throws {
        try store.insert(calls: [], snapshots: snapshots.map(redacted))
    }

    func flush() {
        let buffered = rows.withLock { r in defer { r.finished.removeAll() }; return r.finished }
        write(buffered)
    }

    /// Writes every row not yet written, calls still in flight as `pending` (a later outcome then
    /// updates that row). The lock is held through the insert so no outcome can overtake it.
    func flushAll() {
        rows.withLock { r in
            let calls = r.finished + r.inFlight.values.sorted { $0.seq < $1.seq }
            r.finished.removeAll()
            r.inFlight.removeAll()
            write(calls)
        }
    }

    /// Inserts rows in one transaction; if that fails, one by one, so one bad row loses no other.
    private func write(_ calls: [CallRecord]) {
        guard !calls.isEmpty else { return }
        do { try store.insert(calls: calls) } catch {
            for call in calls {
                do { try store.insert(calls: [call]) } catch { note("audit row \(call.seq) (\(call.binding)) could not be written: \(error)") }
            }
        }
    }

    /// Waits (bounded) for calls still in flight to record their outcome, then writes every row.
    func settle(timeout: Double, stop: @Sendable () -> Bool = { false }) async {
        _ = await Runbook.settle(timeout: timeout, stop: stop) { outstanding.load(ordering: .relaxed) == 0 }
        flushAll()
    }

    var callStats: [CallStat] { stats.withLock { $0 } }
    /// Writes committed pending whose outcome is not known (yet): cut off by a stop, or with no
    /// answer and no re-read; their rows stay pending.
    var unsettledWrites: Int { unsettled.load(ordering: .relaxed) }
    var auditProblems: [String] { problems.withLock { $0 } }

    /// The record with its result redacted, counted in the run's figures.
    private func counted(_ record: CallRecord) -> CallRecord {
        var r = record
        r.result = r.result.map(redactor.redact)
        stats.withLock { $0.append(CallStat(binding: r.binding, status: r.status, latencyMs: r.latencyMs ?? 0)) }
        return r
    }

    private func note(_ problem: String) { problems.withLock { $0.append(problem) } }

    private func redacted(_ s: SnapshotRecord) -> SnapshotRecord {
        var copy = s
        copy.document = store.seal.seal(s.document, redactor: redactor)
        return copy
    }
}
