import CXone
import JSONCore

/// `cxrun apply`'s check before it writes: the planned queues against cxrun's rules with the
/// tenant as it is now, and the agents whose status it sets against the `agent_status` binding's
/// own checks (role, shift window) as they are now, so that a change the tenant would refuse, or
/// cxrun's binding would, stops the apply before its first write, not halfway through.
extension PlanCheck {
    /// One queue the apply is about to write: the plan's action, the queue as read now, and the
    /// planned changes laid over it.
    struct QueueWrite: Sendable {
        var action: PlannedChange
        var current: JSONValue
        var planned: JSONValue
    }

    /// One agent whose status the apply is about to set, as read now.
    struct StatusWrite: Sendable {
        var action: PlannedChange
        var user: JSONValue
    }

    /// The writes whose planned document has problems by cxrun's rules that the queue does not
    /// have now (advice aside), with the tenant as it is now: every queue listed (overflow chains,
    /// targets that do not exist) and its skills read, both audited as the apply run's reads; and
    /// the status changes of agents who may not have them now (a shift over since the plan).
    static func broken(_ writes: [QueueWrite], statuses: [StatusWrite] = [], run: HostRun, stdlib: String?) async
        -> Result<[(target: String, title: String, problems: [String])], CheckFailure>
    {
        guard !writes.isEmpty || !statuses.isEmpty else { return .success([]) }
        var known: [String: JSONValue] = [:]
        var skills: JSONValue = .null
        if !writes.isEmpty {
            do throws(BindingError) {
                known = try await listing("queues", run: run) { client throws(APIError) in try await client.queues() }
                skills = .object(try await listing("skills", run: run) { client throws(APIError) in try await client.skills() })
            } catch {
                return .failure(CheckFailure(description: "reading the tenant's queues and skills failed: \(error.description)"))
            }
        }
        var planned: [String: JSONValue] = [:], before: [String: JSONValue] = [:]
        for write in writes { (planned[write.action.target], before[write.action.target]) = (write.planned, write.current) }
        let world = Knowledge(before: before, known: known, limits: run.context.tenant.limits.json, skills: skills, complete: true)
        switch await problems(planned: planned, knowing: world, stdlib: stdlib) {
        case .failure(let why):
            return .failure(why)
        case .success(let checked):
            let queues = writes.compactMap { write -> (target: String, title: String, problems: [String])? in
                guard let introduced = checked.found[write.action.target]?.introduced, !introduced.isEmpty else { return nil }
                return (write.action.target, write.action.title, introduced)
            }
            let agents = statuses.compactMap { write -> (target: String, title: String, problems: [String])? in
                do throws(BindingError) {
                    try AgentStatusBinding.checkEligible(write.user, id: write.action.target, roles: checked.statusRoles)
                    return nil
                } catch {
                    return (write.action.target, write.action.title, [error.message.replacingOccurrences(of: "agent_status: ", with: "")])
                }
            }
            return .success(queues + agents)
        }
    }

    /// Every item of one of the tenant's listings (`read`), by id, read as one of the apply's
    /// audited calls (`binding`).
    private static func listing(
        _ binding: String, run: HostRun, _ read: @escaping @Sendable (CXoneClient) async throws(APIError) -> Sent<[JSONValue]>
    ) async throws(BindingError) -> [String: JSONValue] {
        let client = run.context.client
        let listed = try await run.call(binding, target: nil, args: [:], effect: .read) { _ async throws(BindingError) in
            let sent = try await api { () async throws(APIError) in try await read(client) }
            return .init(values: [.array(sent.value)], result: ["count": .int(Int64(sent.value.count))], httpStatus: sent.status, attempts: sent.attempts)
        }
        var byID: [String: JSONValue] = [:]
        for item in listed.values.first?.arrayValue ?? [] { if let id = item["id"]?.stringValue { byID[id] = item } }
        return byID
    }
}
