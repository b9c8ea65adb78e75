import CXone
import Foundation
import JSONCore
import LuaHost

/// `fetch`, `deploy`, `rollback`: reading and writing queues without losing anyone's update
/// (DESIGN.md §6).
struct QueueBindings {
    let context: RunContext
    var all: [(String, LuaFunction)] {
        [("fetch", fetch), ("deploy", deploy), ("patch", patch), ("rollback", rollback)]
    }

    private func fetch(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        guard let id = call.string(1), !id.isEmpty else { throw call.argumentError(1, "fetch", expected: "queue id") }
        let context = self.context
        return try context.audited("fetch", target: id, args: ["queue_id": .string(id)], effect: .read) { _ async throws(BindingError) in
            let sent: Sent<JSONValue>
            do throws(BindingError) { sent = try await api { () async throws(APIError) in try await context.client.queue(id) } } catch {
                // A queue's name where its id belongs, the newcomer's slip: said what to do.
                var named = error
                if named.code == .not_found, id.contains(" ") { named.message += "; fetch takes a queue's id (queues({name = \"...\"}) finds one by name)" }
                throw named
            }
            // A dry run reads its own planned writes, as a real run reads what it wrote.
            if context.dryRun, let planned = context.plannedDocument(of: id, tenantVersion: sent.value["version"]?.intValue) {
                context.remember(planned)
                return .init(values: [planned], result: ["version": planned["version"] ?? .null, "planned": true], httpStatus: sent.status,
                             attempts: sent.attempts)
            }
            context.remember(sent.value)
            return .init(values: [sent.value], result: ["version": sent.value["version"] ?? .null], httpStatus: sent.status, attempts: sent.attempts)
        }
    }

    // MARK: deploy

    private func deploy(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        try write("deploy", call, what: "table (the queue document)") { payload, _ in payload }
    }

    /// `patch(queue_id, changes)`: only the fields in `changes` (with the `version` they were
    /// built from), sent as an HTTP PATCH; otherwise as `deploy` (same writer, merge, audit, rollback).
    private func patch(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        try write("patch", call, what: "table (the changes, with the version they were built from)") { changes, base in
            var fields = changes.objectValue ?? [:]
            fields["version"] = nil
            return base.mergePatched(with: .object(fields)).setting(changes["version"] ?? .null, at: ["version"])
        }
    }

    /// `deploy` and `patch`: the document to write is `target(argument, base)`, over the version
    /// of the queue the argument names (which this run must have fetched).
    private func write(
        _ binding: String, _ call: LuaCall, what: String, target: (JSONValue, JSONValue) -> JSONValue
    ) throws(ScriptError) -> LuaReply {
        guard let id = call.string(1), !id.isEmpty else { throw call.argumentError(1, binding, expected: "queue id") }
        guard lua_isTable(call, 2) else { throw call.argumentError(2, binding, expected: what) }
        // It takes none: `{dry_run = true}` or `{validate = true}` would otherwise be a wish nobody reads.
        _ = try BindingOptions(binding: binding, name: "opts", known: [:]).read(call, 3)
        let argument = try context.document(call, 2, binding: binding, target: id, args: ["queue_id": .string(id)], name: "payload")
        let refused = { (message: String) in self.context.refuse(binding, target: id, args: ["queue_id": .string(id)], BindingError(.invalid, message: message)) }
        guard let baseVersion = argument["version"]?.intValue else {
            throw refused("\(binding): the \(binding == "patch" ? "changes have" : "payload has") no version; build it from fetch(\"\(id)\")")
        }
        guard let base = context.fetchedDocument(id, version: baseVersion) else {
            throw refused("\(binding): version \(baseVersion) of queue \(id) was not fetched in this run; build it from fetch(\"\(id)\")")
        }
        if let payloadID = argument["id"]?.stringValue, payloadID != id {
            throw refused("\(binding): the payload is queue \(payloadID), not \(id)")
        }
        // A deploy replaces the whole queue: a payload with no id was not built from this
        // queue's document (another queue's with its id dropped went through, and replaced it).
        if binding == "deploy" && argument["id"] == nil {
            throw refused("deploy: the payload has no id; a deploy replaces the whole queue, so build it from fetch(\"\(id)\")")
        }
        let payload = target(argument, base)
        let changed = base.changes(to: payload, ignoring: ThreeWayMerge.serverFields)
        if let slip = MisspeltField.first(in: changed, over: base) {
            throw refused("\(binding): the \(binding == "patch" ? "changes add" : "payload adds") \(slip.added), a field the queue does not have, "
                          + "beside its \(slip.existing): a misspelling? (the tenant would keep both, and \(slip.existing) would not change)")
        }
        let paths = JSONValue.array(changed.map { .string($0.dotted) })
        let args: JSONValue = ["queue_id": .string(id), "base_version": .int(baseVersion), "changed": paths]
        if context.dryRun {
            var planned = (base: base, changes: changed)
            // Built from a version older than what the run planned since: merged over the planned
            // queue as a real run's write is merged after its 409, a conflict raised as it would be.
            if let since = context.plannedDocument(of: id), since["version"]?.intValue != baseVersion {
                do {
                    let merged = try ThreeWayMerge.merge(base: base, mine: payload, theirs: since, queueID: id, ownWrite: true)
                    planned = (since, since.changes(to: merged, ignoring: ThreeWayMerge.serverFields))
                } catch {
                    throw context.refuse(binding, target: id, args: args, error)
                }
            }
            // Nothing to change is skipped as a run skips it (`unchanged`), not planned as a write of nothing.
            if planned.changes.isEmpty { return try skipped(call, binding, queue: id, version: planned.base["version"]?.intValue ?? baseVersion, args: args) }
            context.beganWrite(of: id)
            return try plannedWrite(call, binding, queue: id, over: planned.base, changes: planned.changes, args: args)
        }
        if changed.isEmpty { return try skipped(call, binding, queue: id, version: baseVersion, args: args) }
        let context = self.context
        context.beganWrite(of: id)
        let sendsPatch = binding == "patch"
        return try context.audited(binding, target: id, args: args, effect: .write(snapshots: { seq in
            [SnapshotRecord(runID: context.runID, seq: seq, queueID: id, kind: .pre, version: baseVersion, document: base),
             SnapshotRecord(runID: context.runID, seq: seq, queueID: id, kind: .post, version: nil, document: payload)]
        })) { seq async throws(BindingError) in
            try await Self.write(id, payload: payload, base: base, baseVersion: baseVersion, seq: seq, context: context, changed: paths,
                                 changes: changed, binding: binding, sendsPatch: sendsPatch)
        }
    }

    /// Through the one queue writer; after someone else's write, a three-way merge.
    private static func write(
        _ id: String, payload: JSONValue, base: JSONValue, baseVersion: Int64, seq: Int, context: RunContext, changed: JSONValue,
        changes: [JSONChange], binding: String, sendsPatch: Bool
    ) async throws(BindingError) -> RunContext.Outcome {
        try await context.requireScope(anyOf: RunContext.WriteScope.queue, for: binding)
        var writer = QueueWriter(context: context, queueID: id, seq: seq, operation: "this run")
        writer.sendsPatch = sendsPatch
        let w = try await writer.write(payload, over: base, ifMatch: baseVersion, changes: changes) { theirs throws(BindingError) in
            let own = theirs["version"]?.intValue.map { context.deploy(of: id)?.producedVersion == $0 } ?? false
            return try ThreeWayMerge.merge(base: base, mine: payload, theirs: theirs, queueID: id, ownWrite: own)
        }
        return success(id, written: w.document, pre: w.pre, ifMatch: w.ifMatch ?? baseVersion, seq: seq, context: context, changed: changed,
                       merged: w.replanned, attempts: w.attempts, status: w.httpStatus ?? 200,
                       failure: w.notAppliedError(queue: id, operation: writer.operation))
    }

    /// A deploy's outcome (this run's, or an apply's): `failure` when the server took the write
    /// but not all of it, the row still a write that happened, which a rollback undoes.
    static func success(
        _ id: String, written: JSONValue, pre: JSONValue, ifMatch: Int64, seq: Int, context: RunContext, changed: JSONValue,
        merged: Bool, attempts: Int, status: Int, failure: BindingError? = nil
    ) -> RunContext.Outcome {
        let version = written["version"]?.intValue
        context.remember(written)
        context.record(deploy: .init(seq: seq, pre: pre, post: written, producedVersion: version), queue: id)
        let result: JSONValue = ["version": version.map(JSONValue.int) ?? .null, "previous_version": .int(ifMatch), "changed": changed,
                                 "merged": .bool(merged)]
        var outcome = RunContext.Outcome(values: [result], result: result, httpStatus: status, attempts: attempts,
                                         snapshots: [SnapshotRecord(runID: context.runID, seq: seq, queueID: id, kind: .post, version: version, document: written)])
        outcome.failure = failure
        return outcome
    }

    // MARK: rollback

    private func rollback(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        guard let id = call.string(1), !id.isEmpty else { throw call.argumentError(1, "rollback", expected: "queue id") }
        let opts = try BindingOptions(binding: "rollback", name: "opts", known: ["force": .boolean, "run": .string]).read(call, 2)
        let force = opts["force"]?.boolValue ?? false
        let args: JSONValue = ["queue_id": .string(id), "force": .bool(force), "run": opts["run"] ?? .null]
        let source: RunContext.DeployRecord
        if let runID = opts["run"]?.stringValue, runID != context.runID {
            let store = context.recorder.store
            let found: RunContext.DeployRecord?
            do {
                // Refused before the run's rows are read: one read of its row serves both.
                // A mistyped run id: "did not deploy queue Q" sent the script looking at the queue.
                guard let record = try store.run(runID) else {
                    throw context.refuse("rollback", target: id, args: args,
                                         BindingError(.not_found, message: "rollback: the audit log has no run \(runID) (cxrun audit runs lists them)"))
                }
                if let refusal = try Rollback.refusal(of: record, tenant: context.tenant.name, store: store) {
                    throw context.refuse("rollback", target: id, args: args, BindingError(refusal.code, message: "rollback: " + refusal.message))
                }
                found = try context.deploy(of: id, inRun: record)
            } catch let refused as ScriptError {
                throw refused
            } catch {
                throw context.refuse("rollback", target: id, args: args,
                                     BindingError(.sandbox, message: "rollback: the audit log could not be read for run \(runID): \(error)"))
            }
            guard let found else {
                throw context.refuse("rollback", target: id, args: args, BindingError(.not_found, message: "rollback: run \(runID) did not deploy queue \(id)"))
            }
            source = found
        } else {
            if context.dryRun, context.deploy(of: id) == nil, let restore = context.plannedRestore(of: id) {
                return try planRestore(call, id, restore, args: args)
            }
            guard let found = context.deploy(of: id) else {
                if let change = context.reassignment(of: id) { return try revertReassign(id, change, force: force) }
                throw context.refuse("rollback", target: id, args: args,
                                     BindingError(.not_found, message: "rollback: this run has not deployed queue \(id) nor reassigned user \(id)"))
            }
            source = found
        }
        return try Rollback.audited(id, source: source, force: force, context: context, args: args)
    }
}

extension QueueBindings {
    /// A write with nothing to change: no request, no new version; `skipped`, in a dry run too.
    fileprivate func skipped(_ call: LuaCall, _ binding: String, queue id: String, version: Int64, args: JSONValue) throws(ScriptError) -> LuaReply {
        let values = try context.pure(binding, target: id, args: args) { () throws(BindingError) in
            let result: JSONValue = ["version": .int(version), "previous_version": .int(version), "changed": .array([]), "skipped": true]
            return ([result], result, .ok)
        }
        return try call.returning(values)
    }

    /// Dry run: a write of queue `id` planned — `changes` over `base` (the fetched or planned
    /// queue) recorded for the plan and laid over the run's planned queue, the call audited as
    /// planned — and `{planned = true, changed = ...}` handed back.
    fileprivate func plannedWrite(
        _ call: LuaCall, _ binding: String, queue id: String, over base: JSONValue, changes: [JSONChange], args: JSONValue, note: String? = nil
    ) throws(ScriptError) -> LuaReply {
        context.planWrite(of: id, base: base, changes: changes, note: note)
        let result: JSONValue = ["planned": true, "changed": .array(changes.map { .string($0.dotted) })]
        let values = try context.pure(binding, target: id, args: args) { () throws(BindingError) in
            ([result.setting(.int(base["version"]?.intValue ?? 0), at: ["previous_version"])], result, .planned)
        }
        return try call.returning(values)
    }

    /// Dry run: `rollback(queue_id)` of a queue the run planned to write plans the queue back as
    /// it was fetched before, as a real run's rollback of its deploys restores it.
    fileprivate func planRestore(_ call: LuaCall, _ id: String, _ restore: (planned: JSONValue, before: JSONValue), args: JSONValue)
        throws(ScriptError) -> LuaReply
    {
        let changes = restore.planned.changes(to: restore.before, ignoring: ThreeWayMerge.serverFields)
        return try plannedWrite(call, "rollback", queue: id, over: restore.planned, changes: changes, args: args, note: "rollback")
    }

    /// `rollback(user_id)` of this run's `reassign`: the routing profile back as it was, unless
    /// someone changed it since (`force` restores anyway).
    fileprivate func revertReassign(_ id: String, _ change: (previous: JSONValue, set: String), force: Bool) throws(ScriptError) -> LuaReply {
        let args: JSONValue = ["user_id": .string(id), "routing_profile_id": change.previous, "force": .bool(force)]
        guard let previous = change.previous.stringValue else {
            throw context.refuse("rollback", target: id, args: args,
                                 BindingError(.invalid, message: "rollback: user \(id) had no routing profile before this run; there is nothing to restore"))
        }
        let context = self.context
        return try context.audited("rollback", target: id, args: args, effect: .write()) { seq async throws(BindingError) in
            try await ReassignBinding.set(id, to: previous, seq: seq, context: context, unless: force ? nil : change.set, note: "rollback of reassign")
        }
    }
}

/// True when argument `index` is a table.
func lua_isTable(_ call: LuaCall, _ index: Int32) -> Bool { call.typeName(index) == "table" }
