import CXone
import Foundation
import JSONCore
import LuaHost

/// The reads: `queues`, `skills`, `agents`, `agent`, `analytics`. Paging happens in the client.
struct ReadBindings {
    let context: RunContext

    var all: [(String, LuaFunction)] {
        [("queues", queues), ("skills", skills), ("routing_profiles", routingProfiles), ("agents", agents), ("agent", agent), ("analytics", analytics)]
    }

    /// `queues({channel=, name=, ids={...}})`: every queue, filtered.
    private func queues(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        let filter = try BindingOptions(binding: "queues", name: "filter", known: ["channel": .string, "name": .string, "ids": .strings],
                                        values: context.filterValues.filter { $0.key == "channel" }).read(call, 1)
        let context = self.context
        return try context.audited("queues", target: nil, args: filter, effect: .read) { _ async throws(BindingError) in
            let sent = try await api { () async throws(APIError) in try await context.client.queues() }
            sent.value.forEach(context.remember)
            context.rememberListedAll()
            // Given, even empty, ids pick: a selection that came out empty picks no queue, not all.
            let ids = filter["ids"].map { Set($0.arrayValue?.compactMap(\.stringValue) ?? []) }
            // An id the tenant does not have is an error, not skipped: a list of queues from a
            // ticket with one id mistyped ran on the others and said nothing of that one.
            if let ids {
                let existing = Set(sent.value.compactMap { $0["id"]?.stringValue })
                let missing = ids.subtracting(existing).sorted()
                if !missing.isEmpty {
                    throw BindingError(.not_found, message: "queues: the tenant has no queue with id \(missing.joined(separator: ", "))",
                                       details: ["missing": .array(missing.map(JSONValue.string))])
                }
            }
            let matching = sent.value.filter { q in
                if let channel = filter["channel"]?.stringValue, q["channel"]?.stringValue?.lowercased() != channel.lowercased() { return false }
                if let name = filter["name"]?.stringValue, q["name"]?.stringValue?.lowercased().contains(name.lowercased()) != true { return false }
                if let ids, !ids.contains(q["id"]?.stringValue ?? "") { return false }
                return true
            }
            return .init(values: [.array(matching)], result: ["count": .int(Int64(matching.count))], httpStatus: sent.status, attempts: sent.attempts)
        }
    }

    private func skills(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        let context = self.context
        return try context.audited("skills", target: nil, args: [:], effect: .read) { _ async throws(BindingError) in
            let sent = try await api { () async throws(APIError) in try await context.client.skills() }
            context.remember(skills: sent.value)
            return .init(values: [.array(sent.value)], result: ["count": .int(Int64(sent.value.count))], httpStatus: sent.status, attempts: sent.attempts)
        }
    }

    /// `routing_profiles()`: the tenant's routing profiles (`{id, name}`), the ids `reassign` takes:
    /// a runbook checks its argument against them before it changes anything. `not_found` from a
    /// tenant that does not list them.
    private func routingProfiles(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        let context = self.context
        return try context.audited("routing_profiles", target: nil, args: [:], effect: .read) { _ async throws(BindingError) in
            let sent = try await api { () async throws(APIError) in try await context.client.routingProfiles() }
            context.routingProfiles.withLock { $0 = .some(sent.value) }
            return .init(values: [.array(sent.value)], result: ["count": .int(Int64(sent.value.count))], httpStatus: sent.status, attempts: sent.attempts)
        }
    }

    /// `agents({queue=, status=})`.
    private func agents(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        let filter = try BindingOptions(binding: "agents", name: "filter", known: ["queue": .string, "status": .string],
                                        values: context.filterValues.filter { $0.key == "status" }).read(call, 1)
        let context = self.context
        return try context.audited("agents", target: filter["queue"]?.stringValue, args: filter, effect: .read) { _ async throws(BindingError) in
            let queue = filter["queue"]?.stringValue
            let sent = try await api { () async throws(APIError) in try await context.client.users(queueID: queue, status: filter["status"]?.stringValue) }
            // No agent in a queue the tenant does not have is an error, not an empty team: the
            // API answers a mistyped queue id with no users, and a script acted on nobody, exit 0.
            if let queue, sent.value.isEmpty {
                do throws(BindingError) {
                    _ = try await api { () async throws(APIError) in try await context.client.queue(queue) }
                } catch {
                    guard error.code == .not_found else { throw error }
                    throw BindingError(.not_found, status: error.status, message: "agents: the tenant has no queue with id \(queue) (filter.queue)")
                }
            }
            return .init(values: [.array(sent.value)], result: ["count": .int(Int64(sent.value.count))], httpStatus: sent.status, attempts: sent.attempts)
        }
    }

    private func agent(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        guard let id = call.string(1), !id.isEmpty else { throw call.argumentError(1, "agent", expected: "user id") }
        let context = self.context
        return try context.audited("agent", target: id, args: ["user_id": .string(id)], effect: .read) { _ async throws(BindingError) in
            let sent = try await api { () async throws(APIError) in try await context.client.user(id) }
            return .init(values: [sent.value], result: ["status": sent.value["status"] ?? .null], httpStatus: sent.status, attempts: sent.attempts)
        }
    }

    /// `analytics(queue_id, {interval=, metrics={...}})`: one queue's metrics by short name
    /// (`answerRate`, ...); with a nil queue id, a list of rows for every queue.
    private func analytics(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        let queueID = call.string(1)
        let opts = try BindingOptions(binding: "analytics", name: "opts", known: ["interval": .string, "metrics": .strings]).read(call, 2)
        let interval = opts["interval"]?.stringValue ?? "PT15M"
        let metrics = opts["metrics"]?.arrayValue?.compactMap(\.stringValue).map { $0.hasPrefix("queue.") ? $0 : "queue.\($0)" }
        var query: [String: JSONValue] = ["interval": .string(interval), "groupBy": ["queue.id"], "size": 100]
        if let metrics { query["select"] = .array((["queue.id"] + metrics).map(JSONValue.string)) }
        if let queueID { query["where"] = .string("queue.id eq '\(queueID.replacingOccurrences(of: "'", with: ""))'") }
        let body = JSONValue.object(query)
        let context = self.context
        return try context.audited("analytics", target: queueID, args: ["queue_id": queueID.map(JSONValue.string) ?? .null, "opts": opts], effect: .read) {
            _ async throws(BindingError) in
            let sent = try await api { () async throws(APIError) in try await context.client.analytics(body) }
            let rows = sent.value.map(Self.shortNames)
            if let queueID {
                // No data for the interval is zeros (as seed 001 reports it), flagged `no_data`.
                let row = rows.first ?? Self.noData(queueID, metrics: metrics)
                return .init(values: [row], result: ["rows": .int(Int64(rows.count))], httpStatus: sent.status, attempts: sent.attempts)
            }
            return .init(values: [.array(rows)], result: ["rows": .int(Int64(rows.count))], httpStatus: sent.status, attempts: sent.attempts)
        }
    }

    /// The API's queue metrics (what `analytics` returns when no `metrics` are asked for).
    static let metricNames = ["abandonRate", "abandoned", "answerRate", "answered", "averageHandleTime", "averageWaitTime",
                              "callbackConversionRate", "occupancy", "offered", "offeredLoad", "servers", "serviceLevel", "staffedAgents"]

    /// A queue's row when the tenant has no data for it: every metric asked for is 0.
    static func noData(_ queueID: String, metrics: [String]?) -> JSONValue {
        var row: [String: JSONValue] = ["queue_id": .string(queueID), "no_data": true]
        for name in metrics?.map({ String($0.dropFirst("queue.".count)) }) ?? metricNames { row[name] = .int(0) }
        return .object(row)
    }

    /// `queue.answerRate` → `answerRate`; `queue.id` → `queue_id`.
    static func shortNames(_ row: JSONValue) -> JSONValue {
        var out: [String: JSONValue] = [:]
        for (key, value) in row.objectValue ?? [:] {
            let short = key.hasPrefix("queue.") ? String(key.dropFirst(6)) : key
            out[short == "id" ? "queue_id" : short == "name" ? "queue_name" : short] = value
        }
        return .object(out)
    }
}
