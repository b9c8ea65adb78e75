import CXone
import Foundation
import JSONCore
import LuaHost

/// `fetch`, `deploy`, `rollback`: reading and writing queues without losing anyone's update
/// (DESIGN.md §6).
struct QueueBindings {
    let context: RunContext
    var all: [(String, LuaFunction)] {
        [("fetch", fetch), ("deploy", deploy), ("rollback", rollback)]
    }

    private func fetch(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        guard let id = call.string(1), !id.isEmpty else { throw call.argumentError(1, "fetch", expected: "queue id") }
        let context = self.context
        return try context.audited("fetch", target: id, args: ["queue_id": .string(id)], effect: .read) { _ async throws(BindingError) in
            let sent = try await api { () async throws(APIError) in try await context.client.queue(id) }
            context.remember(sent.value)
            return .init(values: [sent.value], result: ["version": sent.value["version"] ?? .null], httpStatus: sent.status, attempts: sent.attempts)
        }
    }

    // MARK: deploy

    private func deploy(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        guard let id = call.string(1), !id.isEmpty else { throw call.argumentError(1, "deploy", expected: "queue id") }
        guard lua_isTable(call, 2) else { throw call.argumentError(2, "deploy", expected: "table (the queue document)") }
        let payload = try context.document(call, 2, binding: "deploy", target: id, args: ["queue_id": .string(id)], name: "payload")
        let refused = { (message: String) in self.context.refuse("deploy", target: id, args: ["queue_id": .string(id)], BindingError(.invalid, message: message)) }
        guard let baseVersion = payload["version"]?.intValue else {
            throw refused("deploy: the payload has no version; build it from fetch(\"\(id)\")")
        }
        guard let base = context.fetchedDocument(id, version: baseVersion) else {
            throw refused("deploy: version \(baseVersion) of queue \(id) was not fetched in this run; build the payload from fetch(\"\(id)\")")
        }
        if let payloadID = payload["id"]?.stringValue, payloadID != id {
            throw refused("deploy: the payload is queue \(payloadID), not \(id)")
        }
        let changed = base.changes(to: payload, ignoring: ThreeWayMerge.serverFields)
        let paths = JSONValue.array(changed.map { .string($0.dotted) })
        let args: JSONValue = ["queue_id": .string(id), "base_version": .int(baseVersion), "changed": paths]
        if context.dryRun {
            context.plan(PlannedChange(queue: id, base: base, changes: changed))
            let values = try context.pure("deploy", target: id, args: args) { () throws(BindingError) in
                ([["planned": true, "changed": paths, "previous_version": .int(baseVersion)]], ["planned": true, "changed": paths], .planned)
            }
            return try call.returning(values)
        }
        if changed.isEmpty {
            // Nothing to change: no write, no new version.
            let values = try context.pure("deploy", target: id, args: args) { () throws(BindingError) in
                let result: JSONValue = ["version": .int(baseVersion), "previous_version": .int(baseVersion), "changed": .array([]), "skipped": true]
                return ([result], result, .ok)
            }
            return try call.returning(values)
        }
        let context = self.context
        return try context.audited("deploy", target: id, args: args, effect: .write(snapshots: { seq in
            [SnapshotRecord(runID: context.runID, seq: seq, queueID: id, kind: .pre, version: baseVersion, document: base),
             SnapshotRecord(runID: context.runID, seq: seq, queueID: id, kind: .post, version: nil, document: payload)]
        })) { seq async throws(BindingError) in
            try await Self.write(id, payload: payload, base: base, baseVersion: baseVersion, seq: seq, context: context, changed: paths)
        }
    }

    /// Through the one queue writer; after someone else's write, a three-way merge.
    private static func write(
        _ id: String, payload: JSONValue, base: JSONValue, baseVersion: Int64, seq: Int, context: RunContext, changed: JSONValue
    ) async throws(BindingError) -> RunContext.Outcome {
        try await context.requireScope(anyOf: RunContext.WriteScope.queue, for: "deploy")
        let writer = QueueWriter(context: context, queueID: id, seq: seq, operation: "this run")
        let w = try await writer.write(payload, over: base, ifMatch: baseVersion) { theirs throws(BindingError) in
            try ThreeWayMerge.merge(base: base, mine: payload, theirs: theirs, queueID: id)
        }
        return success(id, written: w.document, pre: w.pre, ifMatch: w.ifMatch ?? baseVersion, seq: seq, context: context, changed: changed,
                       merged: w.replanned, attempts: w.attempts, status: w.httpStatus ?? 200)
    }

    static func success(
        _ id: String, written: JSONValue, pre: JSONValue, ifMatch: Int64, seq: Int, context: RunContext, changed: JSONValue,
        merged: Bool, attempts: Int, status: Int
    ) -> RunContext.Outcome {
        let version = written["version"]?.intValue
        context.remember(written)
        context.record(deploy: .init(seq: seq, pre: pre, post: written, producedVersion: version), queue: id)
        let result: JSONValue = ["version": version.map(JSONValue.int) ?? .null, "previous_version": .int(ifMatch), "changed": changed,
                                 "merged": .bool(merged)]
        return .init(values: [result], result: result, httpStatus: status, attempts: attempts,
                     snapshots: [SnapshotRecord(runID: context.runID, seq: seq, queueID: id, kind: .post, version: version, document: written)])
    }

    // MARK: rollback

    private func rollback(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        guard let id = call.string(1), !id.isEmpty else { throw call.argumentError(1, "rollback", expected: "queue id") }
        let opts = try call.value(2, name: "opts")
        let force = opts["force"]?.boolValue ?? false
        let args: JSONValue = ["queue_id": .string(id), "force": .bool(force), "run": opts["run"] ?? .null]
        let source: RunContext.DeployRecord
        if let runID = opts["run"]?.stringValue {
            guard let found = try? Rollback.lastDeploy(of: id, run: runID, store: context.recorder.store) else {
                throw context.refuse("rollback", target: id, args: args, BindingError(.not_found, message: "rollback: run \(runID) did not deploy queue \(id)"))
            }
            source = found
        } else {
            guard let found = context.deploy(of: id) else {
                throw context.refuse("rollback", target: id, args: args, BindingError(.not_found, message: "rollback: this run has not deployed queue \(id)"))
            }
            source = found
        }
        return try Rollback.audited(id, source: source, force: force, context: context, args: args)
    }
}

/// True when argument `index` is a table.
func lua_isTable(_ call: LuaCall, _ index: Int32) -> Bool { call.typeName(index) == "table" }
