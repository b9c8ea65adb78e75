import CXone
import JSONCore
import LuaHost

/// `reassign(user_id, routing_profile_id)`: the routing-profile change of seed 003. Validated
/// (an id that can be one, a user that exists), audited (under the agent's run lock),
/// dry-run aware (a planned `profile` action a plan file can apply), and undone by
/// `rollback(user_id)` in the run or `cxrun rollback --run` later.
struct ReassignBinding {
    let context: RunContext

    var all: [(String, LuaFunction)] { [("reassign", reassign)] }

    private func reassign(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        guard let id = call.string(1), !id.isEmpty else { throw call.argumentError(1, "reassign", expected: "user id") }
        guard let profile = call.string(2) else { throw call.argumentError(2, "reassign", expected: "routing profile id") }
        let args: JSONValue = ["user_id": .string(id), "routing_profile_id": .string(profile)]
        if let problem = Self.problem(profile) {
            throw context.refuse("reassign", target: id, args: args, BindingError(.invalid, message: "reassign: \(problem)"))
        }
        let context = self.context
        return try context.audited("reassign", target: id, args: args, effect: .write()) { seq async throws(BindingError) in
            try await Self.requireProfile(profile, context: context)
            return try await Self.set(id, to: profile, seq: seq, context: context)
        }
    }

    /// Refuses a profile the tenant does not have, before anything is sent, in a dry run too: a
    /// mistyped id was planned as a change, and left for the tenant to refuse at the apply. A
    /// tenant that does not list its profiles (404) leaves the check to the write.
    static func requireProfile(_ profile: String, context: RunContext) async throws(BindingError) {
        var known = context.routingProfiles.withLock { $0 }
        if known == nil {
            do {
                known = .some(try await context.client.routingProfiles().value)
            } catch where error.kind == .notFound {
                known = .some(nil)
            } catch {
                throw BindingError(error)
            }
            context.routingProfiles.withLock { $0 = known }
        }
        guard let profiles = known ?? nil else { return }
        let ids = profiles.compactMap { $0["id"]?.stringValue }
        guard !ids.contains(where: { $0.utf8.elementsEqual(profile.utf8) }) else { return }
        let near = NearestName.nearest(to: profile, in: ids).map { "did you mean \($0)? " } ?? ""
        let listed = profiles.prefix(20).map { p in
            (p["id"]?.stringValue ?? "?") + (p["name"]?.stringValue.map { " (\($0))" } ?? "")
        }.joined(separator: ", ")
        throw BindingError(.not_found, message: "reassign: the tenant has no routing profile \(JSONValue.string(profile).jsonString()); \(near)"
                           + "its profiles: \(listed)\(profiles.count > 20 ? ", …" : "")",
                           details: ["routing_profile_id": .string(profile)])
    }

    /// Why `profile` cannot be a routing profile id, if it cannot.
    static func problem(_ profile: String) -> String? {
        if profile.trimmingCharacters(in: .whitespaces).isEmpty { return "the routing profile id is empty" }
        if profile.count > 200 { return "the routing profile id is \(profile.count) characters long (at most 200)" }
        if profile.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) { return "the routing profile id holds control characters" }
        return nil
    }

    /// Sets user `id`'s routing profile as audited call `seq`; `unless`: a revert's guard (the
    /// profile it must still have, else someone changed it since and it is a conflict).
    static func set(_ id: String, to profile: String, seq: Int, context: RunContext, unless expected: String? = nil, note: String? = nil)
        async throws(BindingError) -> RunContext.Outcome
    {
        let user = try await api { () async throws(APIError) in try await context.client.user(id) }.value
        var previous = user["routingProfileId"] ?? .null
        // A dry run reads its own planned reassignment, as a real run reads its write: a second
        // reassign, or the rollback of the first, is planned from it.
        if context.dryRun, let planned = context.reassignment(of: id) { previous = .string(planned.set) }
        if previous == .string(profile) {
            let result: JSONValue = ["routing_profile_id": .string(profile), "previous_routing_profile_id": previous, "changed": false]
            return .init(values: [result], result: result)
        }
        if let expected, previous != .string(expected) {
            throw BindingError(.conflict, status: 409, message: "user \(id)'s routing profile was changed since (now \(previous.jsonString()), "
                               + "not \(expected)); left as it is (use force to restore anyway)")
        }
        if context.dryRun {
            // The profiles' names beside their ids, where the run read them: what a reviewer knows them by.
            let read: [JSONValue] = context.routingProfiles.withLock { $0 ?? nil } ?? []
            let names = Dictionary(read.compactMap { p in
                p["id"]?.stringValue.flatMap { id in p["name"]?.stringValue.map { (id, $0) } }
            }, uniquingKeysWith: { first, _ in first })
            let named = names[profile].map { "routing profile \(previous.stringValue.flatMap { names[$0] } ?? previous.jsonString()) -> \($0)" }
            let shown = [note, named].compactMap { $0 }.joined(separator: "; ")
            context.plan(PlannedChange(profile: id, title: AgentStatusBinding.name(user), against: previous, to: profile,
                                       note: shown.isEmpty ? nil : shown))
            context.record(reassign: id, previous: previous, to: profile)
            let result: JSONValue = ["planned": true, "routing_profile_id": .string(profile), "previous_routing_profile_id": previous]
            return .init(values: [result], result: result, status: .planned)
        }
        try await context.requireScope(anyOf: RunContext.WriteScope.profile, for: "reassign")
        // The profile before, durable before the PUT is sent: a run cut off with the PUT in flight
        // leaves its row pending, and `cxrun rollback --run` restores from this.
        try context.commitSnapshots([SnapshotRecord(runID: context.runID, seq: seq, queueID: id, kind: .pre, version: nil,
                                                    document: ["routingProfileId": previous])], before: "the reassignment of user \(id)")
        let sent = try await api { () async throws(APIError) in
            try await context.client.setRoutingProfile(id, ["routingProfileId": .string(profile)])
        }
        context.record(reassign: id, previous: previous, to: profile)
        let result: JSONValue = ["routing_profile_id": sent.value["routingProfileId"] ?? .string(profile), "previous_routing_profile_id": previous,
                                 "changed": true]
        var outcome = RunContext.Outcome(values: [result], result: result, httpStatus: sent.status, attempts: sent.attempts)
        outcome.failure = NotApplied.error(field: "routingProfileId", sent: .string(profile), previous: previous, answer: sent.value,
                                           lead: "user \(id) was reassigned, but the server did not apply")
        return outcome
    }

    /// One user's reassignments in a run: the profile before the first, the one the last set.
    struct Reassignment: Sendable {
        var user: String
        var previous: String
        var set: String
        /// The last one's row is still `pending`: its PUT was in flight when the run ended and may yet land.
        var inFlight: Bool
    }

    /// A run's reassignments to undo, newest first. A pending one (its run cut off with the PUT in
    /// flight) counts, with the profile before it from the snapshot taken before it was sent.
    static func reassigned(calls: [CallRecord], snapshots: [SnapshotRecord]) -> [Reassignment] {
        let before = Dictionary(snapshots.filter { $0.kind == .pre }.map { ($0.seq, $0.document) }) { _, last in last }
        var first: [String: String] = [:], last: [String: (set: String, inFlight: Bool)] = [:], order: [String] = []
        for c in calls where c.binding == "reassign" {
            let previous: String?, set: String?
            switch c.status {
            case .ok where c.result?["changed"]?.boolValue == true:
                (previous, set) = (c.result?["previous_routing_profile_id"]?.stringValue, c.result?["routing_profile_id"]?.stringValue)
            case .pending:
                // No snapshot: it never got as far as sending.
                guard let image = before[c.seq] else { continue }
                (previous, set) = (image["routingProfileId"]?.stringValue, c.args["routing_profile_id"]?.stringValue)
            default: continue
            }
            guard let user = c.target, let set else { continue }
            if first[user] == nil, let previous { first[user] = previous }
            last[user] = (set, c.status == .pending)
            order.removeAll { $0 == user }
            order.append(user)
        }
        return order.reversed().compactMap { user in
            first[user].flatMap { p in last[user].map { Reassignment(user: user, previous: p, set: $0.set, inFlight: $0.inFlight) } }
        }
    }
}
