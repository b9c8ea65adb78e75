import Foundation
import JSONCore

/// `cxrun locks release RUN`: frees the leases of a run that will not free them itself (its
/// process died on another machine, or before its leases expired), as an audited run of its own.
public enum LockRelease {
    public struct Released: Sendable {
        /// The run that recorded the release.
        public var runID: String
        public var leases: [LeaseRecord]
    }

    /// Frees `run`'s leases; refused while the run's process is alive on this host.
    public static func release(run: String, store: AuditStore) throws(RunbookError) -> Released {
        let held: [LeaseRecord]
        do { held = try store.leases(now: 0).filter { $0.runID == run } } catch { throw RunbookError(description: "cannot read the locks: \(error)") }
        guard let first = held.first else { throw RunbookError(description: "run \(run) holds no locks") }
        if first.owner.host == RunOwner.current.host, !first.owner.isGone(runStartedAt: first.since) {
            throw RunbookError(description: "run \(run) is still running (pid \(first.owner.pid) on this host); its locks are freed when it ends")
        }
        let operatorName = RunOwner.operatorName
        let now = Date().timeIntervalSince1970
        let record = RunRecord(id: RunbookSession.newRunID(), script: "cxrun locks release \(run)", scriptSHA256: "", tenant: first.tenant,
                               operatorName: operatorName, args: ["run": .string(run)], dryRun: false, startedAt: now, finishedAt: nil,
                               status: .running, error: nil, summary: nil)
        do {
            try store.insert(run: record)
            let freed = try store.releaseLeases(run: run)
            let calls = freed.enumerated().map { i, lease in
                CallRecord(runID: record.id, seq: i + 1, binding: "release_lock", target: lease.target,
                           args: ["run": .string(run), "tenant": .string(lease.tenant), "holder": .string(lease.holderDescription)],
                           result: ["released": true], status: .ok, errorCode: nil, httpStatus: nil, attempts: 1, startedAt: now, latencyMs: 0)
            }
            try store.insert(calls: calls)
            try store.finish(run: record.id, status: .succeeded, error: nil, summary: nil, at: Date().timeIntervalSince1970)
            return Released(runID: record.id, leases: freed)
        } catch {
            throw RunbookError(description: "releasing the locks of run \(run) failed: \(error)")
        }
    }
}
