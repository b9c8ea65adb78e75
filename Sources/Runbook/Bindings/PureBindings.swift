import CXone
import Foundation
import JSONCore
import LuaHost

/// `build`, and the hidden helpers the Lua side of `validate` uses.
struct PureBindings {
    let context: RunContext

    var globals: [(String, LuaFunction)] { [("build", build)] }

    var hidden: [(String, LuaFunction)] {
        [("audit_pure", auditPure), ("now", now), ("known", known), ("known_generation", knownGeneration), ("queue", queue), ("queues_listed", queuesListed), ("overflow_upstream", overflowUpstream),
         ("queue_writes", queueWrites), ("filter_values", filterValues)]
    }

    /// `build(base, changes)`: `changes` deep-merged over a copy of `base`; arrays replace,
    /// `cx.null` deletes. `base` is not modified.
    private func build(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        guard lua_isTable(call, 1) else { throw call.argumentError(1, "build", expected: "table") }
        guard lua_isTable(call, 2) else { throw call.argumentError(2, "build", expected: "table") }
        let base = try call.value(1, name: "base")
        let target = base["id"]?.stringValue
        let changes = try context.document(call, 2, binding: "build", target: target ?? "", args: [:], name: "changes")
        let values = try context.pure("build", target: target, args: ["changes": changes]) { () throws(BindingError) in
            let built = base.mergePatched(with: changes)
            let paths = base.changes(to: built).map { JSONValue.string($0.dotted) }
            return ([built], ["changed": .array(paths)], .ok)
        }
        return try call.returning(values)
    }

    /// `audit_pure(binding, target, result, seconds)`: one row for a call made in Lua.
    private func auditPure(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        var record = context.recorder.start(call.string(1) ?? "lua", target: call.string(2), args: (try? call.value(5)) ?? .null)
        record.result = try? call.value(3)
        record.status = call.string(6).flatMap(CallStatus.init(rawValue:)) ?? .ok
        record.latencyMs = (call.number(4) ?? 0) * 1000
        context.recorder.finished(record)
        return .values(0)
    }

    private func now(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        try call.returning(.double(ProcessInfo.processInfo.systemUptime))
    }

    /// What the run knows of the tenant, for the validators: its name, limits and skills, and the
    /// names (only) of its configured webhooks.
    private func known(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        try call.returning(["name": .string(context.tenant.name), "limits": context.tenant.limits.json, "skills": context.skillsByID,
                            "webhooks": .array(context.tenant.webhooks.keys.sorted().map(JSONValue.string))])
    }

    /// `known_generation()`: changes whenever what `known` returns may have (the skills were
    /// loaded), so the Lua side converts the tenant's skills once, not at every validate.
    private func knownGeneration(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        try call.returning(.int(Int64(context.skillsGeneration)))
    }

    /// `queues_listed()`: whether the run has listed all of the tenant's queues (so its overflow
    /// graph is whole).
    private func queuesListed(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        try call.returning(.bool(context.listedAllQueues))
    }

    /// `overflow_upstream(id) -> depth, head`: the longest chain of overflow links already leading
    /// into queue `id` (the validators' fast path over the run's overflow graph).
    private func overflowUpstream(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        guard let id = call.string(1) else { return try call.returning(.int(0)) }
        let (depth, head) = context.overflowUpstream(of: id)
        return try call.returning(.int(Int64(depth)), head.map(JSONValue.string) ?? .null)
    }

    /// `queue_writes(id)`: how many writes of queue `id` `deploy` and `patch` began in this run
    /// (`cx.change` compares it around its changes function).
    private func queueWrites(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        try call.returning(.int(Int64(call.string(1).map(context.writesBegun(of:)) ?? 0)))
    }

    /// `filter_values({channel = {...}, status = {...}})`: what the read filters accept, from the
    /// one rule table (cx.rules), given once as the run starts.
    private func filterValues(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        let lists = (try? call.value(1))?.objectValue ?? [:]
        context.filterValues = lists.mapValues { $0.arrayValue?.compactMap(\.stringValue) ?? [] }
        return .values(0)
    }

    /// The latest document this run fetched for a queue, or nil (the validators walk overflow chains with it).
    private func queue(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        guard let id = call.string(1), let doc = context.latestFetched(id) else { return .values(0) }
        return try call.returning(doc)
    }
}
