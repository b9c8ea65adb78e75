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
/// its request is sent. Everything else waits for the next such commit: finished pure calls and
/// reads, and writes' outcomes (with their snapshots), are buffered and written in one
/// transaction with the next pending row, every 256 rows, and at the end of the run (calls still
/// in flight then are written `pending`, so every call keeps its one row). A process that dies
/// before then leaves its last writes `pending` — outcome unknown, which is what a rollback
/// fences — never a row that claims more than happened.
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
    /// The run's rows were all written (`flushAll`): an outcome arriving later is written at once.
    private let ended = Atomic<Bool>(false)

    init(store: AuditStore, runID: String, redactor: Redactor) {
        self.store = store
        self.runID = runID
        self.redactor = redactor
    }

    /// What is not in the database yet: finished rows, calls in flight without a pending row,
    /// and outcomes (with their snapshots, sealed) of rows committed pending.
    private struct Unwritten {
        var finished: [CallRecord] = []
        var inFlight: [Int: CallRecord] = [:]
        var outcomes: [CallRecord] = []
        var snapshots: [SnapshotRecord] = []
        var count: Int { finished.count + outcomes.count }

        /// Takes what can be written now, leaving calls in flight.
        mutating func take() -> (calls: [CallRecord], outcomes: [CallRecord], snapshots: [SnapshotRecord]) {
            defer { finished.removeAll(); outcomes.removeAll(); snapshots.removeAll() }
            return (finished, outcomes, snapshots)
        }

        /// Puts back what a failed commit took, ahead of anything buffered since.
        mutating func restore(_ taken: (calls: [CallRecord], outcomes: [CallRecord], snapshots: [SnapshotRecord])) {
            finished.insert(contentsOf: taken.calls, at: 0)
            outcomes.insert(contentsOf: taken.outcomes, at: 0)
            snapshots.insert(contentsOf: taken.snapshots, at: 0)
        }
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
        let count = rows.withLock { $0.finished.append(r); return $0.count }
        if count >= 256 { flush() }
    }

    /// A call starting: nothing is written now. A read's row is buffered when it completes; a
    /// write's is committed `pending` by `commitPending` before its request is sent.
    func began(_ record: CallRecord) {
        outstanding.add(1, ordering: .relaxed)
        rows.withLock { $0.inFlight[record.seq] = record }
    }

    /// Commits what is buffered, then the `began` call's `pending` row (with its snapshots), in
    /// one transaction. On failure nothing is lost: all of it stays unwritten, the call in flight.
    /// With `lease`, takes it in the same transaction; false, with nothing written, when another
    /// run holds it.
    @discardableResult
    func commitPending(_ record: CallRecord, snapshots: [SnapshotRecord] = [], taking lease: LeaseRecord? = nil) throws -> Bool {
        let taken = rows.withLock { r in
            r.inFlight.removeValue(forKey: record.seq)
            return r.take()
        }
        let putBack = {
            self.rows.withLock {
                $0.restore(taken)
                $0.inFlight[record.seq] = record
            }
        }
        do {
            let (calls, sealed) = (taken.calls + [record], taken.snapshots + snapshots.map(redacted))
            if let lease {
                guard try store.commit(inserting: calls, updating: taken.outcomes, snapshots: sealed, taking: lease) else {
                    putBack()
                    return false
                }
            } else {
                try store.commit(inserting: calls, updating: taken.outcomes, snapshots: sealed)
            }
            unsettled.add(1, ordering: .relaxed)
            return true
        } catch {
            putBack()
            throw error
        }
    }

    /// Records a call's outcome, buffered: a row not yet written as a new row, a pending row's
    /// as its update (a transaction of its own cost a write as much again as its pending row).
    func completed(_ record: CallRecord, snapshots: [SnapshotRecord] = []) {
        let r = counted(record)
        let sealed = snapshots.map(redacted)
        let (wasInFlight, count) = rows.withLock { rows in
            let wasInFlight = rows.inFlight.removeValue(forKey: r.seq) != nil
            if wasInFlight { rows.finished.append(r) } else { rows.outcomes.append(r) }
            rows.snapshots += sealed
            return (wasInFlight, rows.count)
        }
        if !wasInFlight && r.status != .pending { unsettled.subtract(1, ordering: .relaxed) }
        outstanding.subtract(1, ordering: .relaxed)
        // No later commit will carry it once the run's rows are written: a late outcome goes now.
        if count >= 256 || ended.load(ordering: .acquiring) { flush() }
    }

    /// Commits snapshots of a call in flight, in one transaction, replacing any of the same kind
    /// (a write planned again after a conflict, a pre-image read just before its write is sent).
    func snapshots(_ snapshots: [SnapshotRecord]) throws {
        try store.insert(calls: [], snapshots: snapshots.map(redacted))
    }

    func flush() {
        write(rows.withLock { $0.take() })
    }

    /// Writes everything not yet written, calls still in flight as `pending` (a later outcome then
    /// updates that row). The lock is held through the write so no outcome can overtake it.
    func flushAll() {
        rows.withLock { r in
            var taken = r.take()
            taken.calls += r.inFlight.values.sorted { $0.seq < $1.seq }
            r.inFlight.removeAll()
            write(taken)
            ended.store(true, ordering: .releasing)
        }
    }

    /// Writes in one transaction; if that fails, row by row, so one bad row loses no other.
    private func write(_ taken: (calls: [CallRecord], outcomes: [CallRecord], snapshots: [SnapshotRecord])) {
        guard !taken.calls.isEmpty || !taken.outcomes.isEmpty || !taken.snapshots.isEmpty else { return }
        do { try store.commit(inserting: taken.calls, updating: taken.outcomes, snapshots: taken.snapshots) } catch {
            for call in taken.calls {
                do { try store.insert(calls: [call], snapshots: taken.snapshots.filter { $0.seq == call.seq }) } catch {
                    note("audit row \(call.seq) (\(call.binding)) could not be written: \(error)")
                }
            }
            for outcome in taken.outcomes {
                do { try store.update(call: outcome, snapshots: taken.snapshots.filter { $0.seq == outcome.seq }) } catch {
                    note("audit update of call \(outcome.seq) failed: \(error)")
                }
            }
        }
    }

    /// Waits (bounded) for calls still in flight to record their outcome, then writes every row.
    /// A stop still waits a moment: a write it cut off records that its outcome is unknown.
    func settle(timeout: Double, stop: @Sendable () -> Bool = { false }) async {
        _ = await Runbook.settle(timeout: timeout, stop: stop, grace: 1) { outstanding.load(ordering: .relaxed) == 0 }
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
        // A call that happened but failed at part of its work (an error code on an ok row) counts with the errors.
        let status = r.status == .ok && r.errorCode != nil ? CallStatus.error : r.status
        stats.withLock { $0.append(CallStat(binding: r.binding, status: status, latencyMs: r.latencyMs ?? 0)) }
        return r
    }

    private func note(_ problem: String) { problems.withLock { $0.append(problem) } }

    private func redacted(_ s: SnapshotRecord) -> SnapshotRecord {
        var copy = s
        copy.document = store.seal.seal(s.document, redactor: redactor)
        return copy
    }
}
