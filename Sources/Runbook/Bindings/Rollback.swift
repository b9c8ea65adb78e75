import CXone
import Foundation
import JSONCore
import LuaHost

/// Restoring a queue's pre-image (DESIGN.md §6), for the `rollback` binding and
/// `cxrun rollback --run`. If the queue changed since the deploy, only this run's fields are
/// reverted, and only when nobody touched them since (`force` overrides).
enum Rollback {
    /// Whether `call` wrote a queue, so that a rollback undoes it: a deploy or patch that was not
    /// skipped, or a queue's rollback that rewrote it (a rollback run is undone as any run is:
    /// rolling back the wrong run is itself undone). An error wrote nothing; a pending write may have.
    static func wroteQueue(_ call: CallRecord) -> Bool {
        guard call.status != .error && call.status != .planned else { return false }
        switch call.binding {
        case "deploy", "patch": return call.result?["skipped"]?.boolValue != true
        case "rollback":
            return call.args["user_id"] == nil
                && (call.status == .pending || call.result?["restored"]?.boolValue == true || call.result?["fenced"]?.boolValue == true)
        default: return false
        }
    }

    /// What `cxrun rollback --run` would undo of a run with these rows: the queues it wrote and
    /// the agents whose routing profile it changed (a pending write counts: it may have landed;
    /// a pending reassign only once its pre-image was taken, as the rollback selects them).
    static func undoable(_ calls: [CallRecord], snapshots: () throws -> [SnapshotRecord]) -> (queues: Int, agents: Int) {
        // A queue whose last word in the run was the run's own rollback of it, done, is as it was
        // before the run: it was counted as "changed, and stays changed".
        var last: [String: CallRecord] = [:]
        for call in calls where wroteQueue(call) || putBackByItsOwnRun(call) {
            if let target = call.target, (last[target]?.seq ?? .min) < call.seq { last[target] = call }
        }
        let queues = last.values.filter { !putBackByItsOwnRun($0) }
        // The agents `cxrun rollback --run` restores, by its own selection: a pending reassign
        // counts only when its pre-image was taken (else it never got as far as sending), which
        // its snapshot says, read only then (a run seldom ends with one in flight).
        let pending = calls.contains { $0.binding == "reassign" && $0.status == .pending }
        let images = pending ? ((try? snapshots()) ?? []) : []
        return (queues.count, ReassignBinding.reassigned(calls: calls, snapshots: images).count)
    }

    /// Whether `call` is a run's rollback of its own writes of a queue that ended well: the queue
    /// back as before the run (a field someone else changed since left as they made it).
    static func putBackByItsOwnRun(_ call: CallRecord) -> Bool {
        guard call.binding == "rollback", call.status == .ok, call.args["user_id"] == nil else { return false }
        let run = call.args["run"]?.stringValue
        return run == nil || run == call.runID
    }

    /// The agents whose status the run set (or may have: pending): no rollback undoes a status.
    static func statusesSet(_ calls: [CallRecord]) -> Int {
        Set(calls.filter { $0.binding == "agent_status" && ($0.status == .ok || $0.status == .pending) }.compactMap(\.target)).count
    }

    /// Why `run`'s writes cannot be undone from here now, nil when they can. It wrote another
    /// tenant (`invalid`): its pre-images belong there, and written here would overwrite queues
    /// that share an id (`--force` too). It is still running (`locked`): its rows show only part
    /// of what it will have done (a rollback missed its later writes, and read outcomes it had not
    /// written yet as writes in flight). Alive: its process on this host (one that is gone reads
    /// as `abandoned`), or, elsewhere, locks it still renews (every write takes one first, held
    /// to the run's end; a crashed run's expire).
    static func refusal(of run: RunRecord, tenant: String, store: AuditStore, now: Double = Date().timeIntervalSince1970) throws -> BindingError? {
        if run.tenant != tenant {
            return BindingError(.invalid, message: "run \(run.id) wrote tenant \(run.tenant), not \(tenant): roll it back with --tenant \(run.tenant)")
        }
        guard run.status == .running else { return nil }
        let stop = "stop it first (Ctrl-C where it runs), then roll it back: a rollback now would miss what it writes next"
        if let owner = run.owner, owner.host == RunOwner.current.host {
            return BindingError(.locked, message: "run \(run.id) is still running (pid \(owner.pid) on \(owner.host), since \(LeaseRecord.time(run.startedAt))): \(stop)")
        }
        let held = try store.leases(now: now).filter { $0.runID == run.id }
        guard let renewed = held.map(\.expiresAt).max() else { return nil }
        return BindingError(.locked, message: "run \(run.id) is still running on \(run.owner?.host ?? "another host") (it holds \(held.count) "
            + "lock\(held.count == 1 ? "" : "s"), renewed until \(LeaseRecord.time(renewed))): \(stop) (if that machine is gone, cxrun locks release \(run.id) first)")
    }

    /// What `run` did to each queue it wrote, as the audit log recorded it (a write left pending
    /// too): its writes of the queue folded as the run itself folds them (`DeployRecord.spanning`),
    /// the chosen images opened (sealed secrets) only then. One read of the run's rows for every
    /// queue: read again per queue, a 2,000-queue rollback took 217 s.
    static func deployRecords(run: String, store: AuditStore) throws -> [String: RunContext.DeployRecord] {
        deployRecords(calls: try store.calls(run: run), snapshots: try store.snapshots(run: run), seal: store.seal)
    }

    /// The same from a run's rows already read.
    static func deployRecords(calls: [CallRecord], snapshots: [SnapshotRecord], seal: SecretSeal) -> [String: RunContext.DeployRecord] {
        var images: [Int: (pre: SnapshotRecord?, post: SnapshotRecord?)] = [:]
        for snapshot in snapshots {
            switch snapshot.kind {
            case .pre: images[snapshot.seq, default: (nil, nil)].pre = snapshot
            case .post: images[snapshot.seq, default: (nil, nil)].post = snapshot
            }
        }
        // Writes only, in call order: a deploy with nothing to change was skipped, and left no snapshot.
        var records: [String: RunContext.DeployRecord] = [:]
        for c in calls where wroteQueue(c) {
            guard let queue = c.target, let pre = images[c.seq]?.pre, let post = images[c.seq]?.post else { continue }
            let write = RunContext.DeployRecord(seq: c.seq, pre: pre.document, post: post.document, producedVersion: post.version, inFlight: c.status == .pending)
            records[queue] = records[queue].map { $0.spanning(write) } ?? write
        }
        let reason = records.isEmpty ? "" : seal.unopenedReason
        return records.mapValues { folded in
            var record = folded
            let (preImage, unknownPre) = seal.open(record.pre)
            let (postImage, unknownPost) = seal.open(record.post)
            (record.pre, record.post, record.unknown, record.unopenedReason) = (preImage, postImage, unknownPre + unknownPost, reason)
            return record
        }
    }

    /// Queues a run deployed, newest deploy first (not one whose deploys all had nothing to
    /// change: skipped, they wrote nothing, and a rollback reported them failed, with no snapshot).
    static func deployedQueues(calls: [CallRecord]) -> [String] {
        var seen = Set<String>()
        return calls
            .filter(wroteQueue)
            .reversed().compactMap(\.target).filter { seen.insert($0).inserted }
    }

    /// The rollback as an audited call of `context`'s run.
    static func audited(_ id: String, source: RunContext.DeployRecord, force: Bool, context: RunContext, args: JSONValue) throws(ScriptError) -> LuaReply {
        try context.audited("rollback", target: id, args: args, effect: .write()) { seq async throws(BindingError) in
            try await restore(id, source: source, force: force, seq: seq, context: context)
        }
    }

    static func restore(_ id: String, source: RunContext.DeployRecord, force: Bool, seq: Int, context: RunContext) async throws(BindingError)
        -> RunContext.Outcome
    {
        let current = try await api { () async throws(APIError) in try await context.client.queue(id) }.value
        let currentVersion = current["version"]?.intValue
        let target = try plan(current: current, source: source, force: force, queueID: id)
        let changes = current.changes(to: target, ignoring: ThreeWayMerge.serverFields)
        let untouched = JSONValue.array(Set(source.unknown.map { $0.joined(separator: ".") }).sorted().map(JSONValue.string))
        // A deploy whose outcome is unknown (its run ended with the PUT in flight) may still land:
        // rewriting the document bumps the version, so a late arrival's If-Match fails (409).
        let fence = source.inFlight && !context.dryRun
        if changes.isEmpty && !fence {
            let result: JSONValue = ["version": currentVersion.map(JSONValue.int) ?? .null, "restored": false, "changed": .array([]),
                                     "untouched": untouched]
            return .init(values: [result], result: result, attempts: 1)
        }
        let paths = JSONValue.array(changes.map { .string($0.dotted) })
        if context.dryRun {
            context.planWrite(of: id, base: current, changes: changes, note: "rollback to the pre-image of call \(source.seq)")
            let result: JSONValue = ["planned": true, "changed": paths]
            return .init(values: [result], result: result, status: .planned, attempts: 1)
        }
        try await context.requireScope(anyOf: RunContext.WriteScope.queue, for: "rollback")
        try context.commitSnapshots([SnapshotRecord(runID: context.runID, seq: seq, queueID: id, kind: .pre, version: currentVersion, document: current)],
                                    before: "the rollback of queue \(id)")
        let writer = QueueWriter(context: context, queueID: id, seq: seq, operation: "the rollback")
        let w = try await writer.write(target, over: current, ifMatch: currentVersion) { latest throws(BindingError) in
            try plan(current: latest, source: source, force: force, queueID: id)
        }
        context.remember(w.document)
        let version = w.document["version"]?.intValue
        let result: JSONValue = ["version": version.map(JSONValue.int) ?? .null, "previous_version": w.ifMatch.map(JSONValue.int) ?? .null,
                                 "restored": .bool(w.wrote && !changes.isEmpty), "changed": w.wrote ? paths : .array([]), "untouched": untouched,
                                 "fenced": .bool(fence && w.wrote)]
        var outcome = RunContext.Outcome(values: [result], result: result, httpStatus: w.httpStatus, attempts: max(1, w.attempts),
                                         snapshots: w.wrote ? [SnapshotRecord(runID: context.runID, seq: seq, queueID: id, kind: .post, version: version, document: w.document)] : [])
        outcome.failure = w.notAppliedError(queue: id, operation: writer.operation)
        return outcome
    }

    /// The document to write: the pre-image when the queue is as the deploy left it (or with
    /// `force`); otherwise the current document with only the deploy's fields reverted.
    static func plan(current: JSONValue, source recorded: RunContext.DeployRecord, force: Bool, queueID: String) throws(BindingError) -> JSONValue {
        // A secret whose recorded value cannot be opened is never restored from a placeholder:
        // as far as this rollback knows, the deploy did not touch it.
        var source = recorded
        for path in recorded.unknown {
            let now = current.value(at: path)
            source.pre = now.map { source.pre.setting($0, at: path) } ?? source.pre.removing(at: path)
            source.post = now.map { source.post.setting($0, at: path) } ?? source.post.removing(at: path)
        }
        if force { return source.pre }
        // Already as before the deploy (it was rolled back, or a killed deploy never applied).
        if current.changes(to: source.pre, ignoring: ThreeWayMerge.serverFields).isEmpty { return source.pre }
        let ours = source.pre.changes(to: source.post, ignoring: ThreeWayMerge.serverFields)
        let sinceDeploy = source.post.changes(to: current, ignoring: ThreeWayMerge.serverFields)
        if sinceDeploy.isEmpty { return source.pre }
        // A field changed since to the value it had before the deploy agrees with the rollback (an
        // earlier, partial rollback put it back): no conflict.
        let disputed = sinceDeploy.filter { current.value(at: $0.path) != source.pre.value(at: $0.path) }
        let touched = ours.filter { mine in disputed.contains { $0.path.overlaps(mine.path) } }.map(\.dotted)
        if !touched.isEmpty {
            let paths = Array(Set(touched)).sorted()
            throw BindingError(.conflict, status: 409,
                             message: "queue \(queueID) was changed since the deploy in the fields it would restore: \(paths.joined(separator: ", ")) (use force to restore anyway)",
                             details: ["paths": .array(paths.map(JSONValue.string)), "current_version": current["version"] ?? .null])
        }
        var target = current
        for change in ours { target = target.applying(JSONChange(path: change.path, old: change.new, new: change.old)) }
        return target
    }
}
