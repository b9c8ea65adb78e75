import CXone
import Foundation
import JSONCore
import LuaHost

/// `agent_status(user_id, {status=, pause_reason=, wrap_up_code=, auto_available=, respect_wrap_up=})`:
/// the script-facing function is Lua (Lua/runbook.lua), which checks the request against
/// `cx.rules` and calls this hidden host half as `(user_id, request, problem|null, roles)`. Here:
/// refuse a request with a problem, fetch the agent, check its role and shift window, set the
/// status. A blocked transition (wrap-up active) is a `conflict`.
struct AgentStatusBinding {
    let context: RunContext

    /// What a status request sets besides the status, as a plan's reviewer reads it (defaults
    /// left out): the apply sends all of it, so all of it is shown.
    static func requestNote(_ body: [String: JSONValue]) -> String? {
        var parts: [String] = []
        if let pause = body["pauseReason"]?.stringValue { parts.append("pause reason: \(pause)") }
        if let code = body["wrapUpCode"]?.stringValue { parts.append("wrap-up code: \(code)") }
        if body["directiveFlags"]?["autoAvailable"]?.boolValue == true { parts.append("auto_available: made Available after its wrap-up") }
        if body["directiveFlags"]?["respectWrapUp"]?.boolValue == false { parts.append("respect_wrap_up = false: set during a wrap-up too") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    var hidden: [(String, LuaFunction)] { [("agent_status", agentStatus)] }

    private func agentStatus(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        guard let id = call.string(1), !id.isEmpty else { throw call.argumentError(1, "agent_status", expected: "user id") }
        guard lua_isTable(call, 2) else { throw call.argumentError(2, "agent_status", expected: "table {status=...}") }
        let request = try call.value(2, name: "request")
        let args: JSONValue = ["user_id": .string(id), "request": request]
        let status = request["status"]?.stringValue ?? ""
        let pause = request["pause_reason"]?.stringValue
        let roles = Set((try call.value(4, name: "roles")).arrayValue?.compactMap(\.stringValue) ?? [])
        if let problem = call.string(3) {
            throw context.refuse("agent_status", target: id, args: args, BindingError(.invalid, message: "agent_status: \(problem)"))
        }
        var body: [String: JSONValue] = [
            "status": .string(status),
            "directiveFlags": ["autoAvailable": .bool(request["auto_available"]?.boolValue ?? false),
                               "respectWrapUp": .bool(request["respect_wrap_up"]?.boolValue ?? true)],
        ]
        if let pause { body["pauseReason"] = .string(pause) }
        if let code = request["wrap_up_code"]?.stringValue { body["wrapUpCode"] = .string(code) }
        let payload = JSONValue.object(body)
        let note = Self.requestNote(body)
        let context = self.context
        return try context.audited("agent_status", target: id, args: args, effect: .write()) { _ async throws(BindingError) in
            let user = try await api { () async throws(APIError) in try await context.client.user(id) }.value
            try Self.checkEligible(user, id: id, roles: roles)
            // A dry run reads the status it planned for the agent, as a real run reads the one it set.
            let previous = (context.dryRun ? context.plannedStatus(of: id) : nil) ?? user["status"] ?? .null
            if context.dryRun {
                context.plan(PlannedChange(agent: id, title: Self.name(user), against: previous, request: payload,
                                           changes: [JSONChange(path: ["status"], old: previous, new: .string(status))],
                                           note: note))
                context.planStatus(of: id, .string(status))
                let result: JSONValue = ["planned": true, "status": .string(status), "previous_status": previous]
                return .init(values: [result], result: result, status: .planned)
            }
            try await context.requireScope(anyOf: RunContext.WriteScope.status, for: "agent_status")
            let sent = try await api { () async throws(APIError) in try await context.client.setStatus(id, payload) }
            let result: JSONValue = ["status": sent.value["status"] ?? .string(status), "previous_status": previous,
                                     "updated_at": sent.value["updatedAt"] ?? .null]
            var outcome = RunContext.Outcome(values: [result], result: result, httpStatus: sent.status, attempts: sent.attempts)
            outcome.failure = NotApplied.error(field: "status", sent: .string(status), previous: previous, answer: sent.value,
                                               lead: "user \(id)'s status was set, but the server did not apply")
            return outcome
        }
    }

    static func checkEligible(_ user: JSONValue, id: String, roles allowed: Set<String>) throws(BindingError) {
        let roles = user["roles"]?.arrayValue?.compactMap { $0["name"]?.stringValue ?? $0.stringValue } ?? []
        guard roles.contains(where: allowed.contains) else {
            throw BindingError(.invalid, message: "agent_status: user \(id) has role \(roles.joined(separator: ", ")); only \(allowed.sorted().joined(separator: " or ")) can change status")
        }
        if let start = user["shiftSchedule"]?["start"]?.doubleValue, let end = user["shiftSchedule"]?["end"]?.doubleValue {
            // The server's own verdict when it gives one: its clock decides, not this machine's.
            let now = Date().timeIntervalSince1970
            guard user["shiftSchedule"]?["onShift"]?.boolValue ?? (start <= now && now < end) else {
                let f = ISO8601DateFormatter()
                throw BindingError(.invalid, message: "agent_status: user \(id) is outside the shift window (\(f.string(from: Date(timeIntervalSince1970: start))) – \(f.string(from: Date(timeIntervalSince1970: end))))")
            }
        }
    }

    static func name(_ user: JSONValue) -> String {
        [user["firstName"]?.stringValue, user["lastName"]?.stringValue].compactMap { $0 }.joined(separator: " ")
    }
}
