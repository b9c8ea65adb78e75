import CXone
import JSONCore

/// The one queue writer: `deploy`, `rollback` (the binding and `cxrun rollback --run`) write
/// through it (DESIGN.md §6). It writes with `If-Match` on the version the change was planned
/// against; on a 409 it re-reads and asks the caller to plan again over what is there now (a
/// three-way merge for deploy, a field-level revert for rollback); a write whose outcome is
/// unknown is re-read before anything is sent again, so a write is never sent twice. Attempts
/// are bounded; every plan leaves its snapshots (pre, and the document it will write) in the
/// audit log under the call's seq.
struct QueueWriter {
    let context: RunContext
    let queueID: String
    /// The audited call this write belongs to.
    let seq: Int
    /// Names the operation in the error when the queue never holds still ("this run", "the rollback").
    let operation: String
    /// PUT the whole document, or PATCH only the fields that differ from what it is written over.
    var sendsPatch = false

    /// Writes given up after this many concurrent modifications.
    static let maxAttempts = 8

    struct Written {
        /// The document as the server holds it now.
        var document: JSONValue
        /// What it was before this write (the version the final write was planned against).
        var pre: JSONValue
        var ifMatch: Int64?
        /// False when, after a re-read, there was nothing left to write.
        var wrote: Bool
        /// Whether the change had to be planned again over someone else's.
        var replanned: Bool
        var attempts: Int
        var httpStatus: Int?
        /// Changes of the final plan that the server's answer does not hold: it took the write
        /// (a new version) yet kept another value (a field it ignores or rewrites).
        var notApplied: [JSONChange] = []
    }

    /// Writes `document` over `pre` (at version `ifMatch`); `replan(current)` gives the document
    /// to write over `current` after a conflict, or throws `conflict` when it cannot. `changes`,
    /// when the caller has them, are `pre`'s changes to `document` (not computed a second time).
    func write(
        _ document: JSONValue, over pre: JSONValue, ifMatch: Int64?, changes: [JSONChange]? = nil,
        replan: (JSONValue) throws(BindingError) -> JSONValue
    ) async throws(BindingError) -> Written {
        var plan = (document: document, pre: pre, ifMatch: ifMatch, changes: changes)
        var attempts = 0
        var replanned = false
        for _ in 0..<Self.maxAttempts {
            let current: JSONValue
            let put: Result<Sent<JSONValue>, APIError>
            do {
                if sendsPatch {
                    let patch = plan.pre.mergePatch(to: plan.document, ignoring: ThreeWayMerge.serverFields)
                    put = .success(try await context.client.patchQueue(queueID, patch, ifMatch: plan.ifMatch))
                } else {
                    put = .success(try await context.client.putQueue(queueID, plan.document, ifMatch: plan.ifMatch))
                }
            } catch { put = .failure(error) }
            switch put {
            case .success(var sent):
                attempts += sent.attempts
                if sent.value.objectValue == nil || sent.value["id"].map({ $0 != .string(queueID) }) == true {
                    // An answer without the document (204 No Content, an empty 200), or with
                    // another queue's: what the write left is read back, not taken for it.
                    do { sent.value = try await context.client.queue(queueID).value } catch {
                        // It was taken, but what it left is unknown: pending, as a write cut off is
                        // (a rollback fences it), not an error a rollback would pass over.
                        var unknown = BindingError(error)
                        unknown.message = "the server answered the write of queue \(queueID) (HTTP \(sent.status)) without the queue, "
                            + "and reading it back failed: \(error.message)"
                        unknown.details = ["outcome": "unknown", "body": .null]
                        unknown.attempts = attempts
                        throw unknown
                    }
                }
                return Written(document: sent.value, pre: plan.pre, ifMatch: plan.ifMatch, wrote: true, replanned: replanned,
                               attempts: attempts, httpStatus: sent.status,
                               notApplied: NotApplied.changes(
                                   plan.changes ?? plan.pre.changes(to: plan.document, ignoring: ThreeWayMerge.serverFields), heldBy: sent.value))
            case .failure(let error) where error.kind == .conflict:
                attempts += 1
                current = try await api { () async throws(APIError) in try await context.client.queue(queueID) }.value
            case .failure(let error) where error.outcomeUnknown:
                attempts += error.attempts
                var unknown = BindingError(error)
                unknown.attempts = attempts
                // The run is stopping (a limit, Ctrl-C): no re-read; the outcome stays unknown.
                if Task.isCancelled { throw unknown }
                do {
                    current = try await context.client.queue(queueID).value
                } catch {
                    unknown.message += "; re-reading the queue to learn whether it did failed: \(error.message)"
                    throw unknown
                }
                let version = current["version"]?.intValue
                if let expected = plan.ifMatch, version == expected + 1,
                    current.changes(to: plan.document, ignoring: ThreeWayMerge.serverFields).isEmpty
                {
                    // It had applied: the same write is never sent twice.
                    return Written(document: current, pre: plan.pre, ifMatch: plan.ifMatch, wrote: true, replanned: replanned,
                                   attempts: attempts, httpStatus: 200)
                }
                if version == plan.ifMatch { continue }  // it had not: send the same write again
            case .failure(let error):
                var failure = BindingError(error)
                failure.attempts += attempts
                throw failure
            }
            // Someone else wrote since: plan again over what is there now.
            let next = try replan(current)
            replanned = true
            let changes = current.changes(to: next, ignoring: ThreeWayMerge.serverFields)
            plan = (document: next, pre: current, ifMatch: current["version"]?.intValue, changes: changes)
            // The new plan's images are durable before it is sent, as the first plan's were.
            try context.commitSnapshots([SnapshotRecord(runID: context.runID, seq: seq, queueID: queueID, kind: .pre, version: plan.ifMatch, document: current),
                                         SnapshotRecord(runID: context.runID, seq: seq, queueID: queueID, kind: .post, version: nil, document: next)],
                                        before: "the write of queue \(queueID)")
            if changes.isEmpty {
                return Written(document: current, pre: current, ifMatch: plan.ifMatch, wrote: false, replanned: true, attempts: attempts, httpStatus: nil)
            }
        }
        var failure = BindingError(.conflict, status: 409,
                                   message: "queue \(queueID) kept changing during \(operation) (\(Self.maxAttempts) attempts); nothing was overwritten")
        failure.attempts = attempts
        throw failure
    }
}

extension QueueWriter.Written {
    /// Why the write did not do all it was asked, as the script's error; nil when the server holds
    /// every change.
    func notAppliedError(queue id: String, operation: String) -> BindingError? {
        let version = document["version"]?.intValue
        let lead = version != nil && version == ifMatch
            ? "the server answered the write of queue \(id) by \(operation) as done, but it is still version \(version ?? 0): it did not apply"
            : "queue \(id) was written by \(operation) (now version \(version.map(String.init) ?? "?")), but the server did not apply"
        return NotApplied.error(notApplied, answer: document, lead: lead)
    }
}
