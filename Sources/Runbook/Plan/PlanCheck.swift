import Foundation
import JSONCore
import LuaHost

/// What cxrun's own rules (cx.validate's default rule sets) say of a dry run's planned queue
/// documents: a dry run cannot ask the tenant, and a script need not have called `validate`, so
/// the plan shows it, for each queue, before anyone applies it. Run in a Lua state of its own
/// (Lua/plancheck.lua) once the script has ended: the script's state and audit are untouched.
enum PlanCheck {
    /// What the rules say of one planned queue: its planned document's problems, and those of the
    /// queue as it was before the plan (in the world before it), as `path: message` lines.
    struct Found: Sendable, Equatable {
        var after: [String]
        var before: [String]
        /// Those of `after` that are advice: the tenant would take them all the same.
        var advice: [String] = []
        /// The problems the plan brings that the tenant would refuse: the planned document's that
        /// the queue did not have before, advice aside.
        var introduced: [String] { after.filter { !before.contains($0) && !advice.contains($0) } }
    }

    /// What the rules know besides the planned documents: each planned queue as it was before
    /// the change, the tenant's other queues, its limits and skills (null: not loaded), and
    /// whether `known` holds every queue of the tenant (then an unknown overflow target is one
    /// the tenant does not have).
    struct Knowledge: Sendable {
        var before: [String: JSONValue]
        var known: [String: JSONValue]
        var limits: JSONValue
        var skills: JSONValue
        var complete: Bool
    }

    /// The rules' findings: by planned queue id, and the roles that may change an agent's status
    /// (cx.rules.STATUS_ROLES, the one table the `agent_status` binding checks too).
    struct Checked: Sendable {
        var found: [String: Found]
        var statusRoles: Set<String>
    }

    /// The rules' findings, or why the check itself could not run.
    static func problems(planned: [String: JSONValue], knowing world: Knowledge, stdlib: String?) async -> Result<Checked, CheckFailure> {
        let options = SandboxOptions(args: [], runInfo: ["id": "plan-check"], modules: ModuleResolver(stdlib: stdlib, scriptDirectory: nil),
                                     output: { _ in }, log: { _, _ in }, concurrency: 1)
        let request = RunRequest(source: planCheckSource, chunkName: "=[cx plan check]", limits: LuaLimits(memoryBytes: 512 << 20, instructions: 0, timeout: 60),
                                 sandbox: options, varargs: [.object(planned), .object(world.before), .object(world.known), world.limits,
                                                             world.skills, .bool(world.complete)])
        let outcome = await ScriptRunner.run(request)
        guard outcome.status == .succeeded, let roles = outcome.results.dropFirst().first?.arrayValue,
              let result = outcome.results.first?.objectValue
        else {
            return .failure(CheckFailure(description: outcome.message ?? "the check returned nothing"))
        }
        let found = result.mapValues { found in
            let lines = { (key: String) in found[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            return Found(after: lines("after"), before: lines("before"), advice: lines("advice"))
        }
        return .success(Checked(found: found, statusRoles: Set(roles.compactMap(\.stringValue))))
    }

    /// Why the rules could not be run (no stdlib found, a broken rule set).
    struct CheckFailure: Error, CustomStringConvertible {
        var description: String
    }
}

extension PlanCheck {
    /// `actions` with what cxrun's rules say of each queue's planned document: the queue as the
    /// run planned it, compared with the queue as fetched before; every other queue as the run
    /// last fetched it (all of the tenant's when the run listed them).
    static func annotate(_ actions: [PlannedChange], context: RunContext, stdlib: String?) async -> [PlannedChange] {
        var planned: [String: JSONValue] = [:], before: [String: JSONValue] = [:]
        for action in actions where action.kind == .queue {
            guard let (document, was) = context.plannedRestore(of: action.target) else { continue }
            (planned[action.target], before[action.target]) = (document, was)
        }
        guard !planned.isEmpty else { return actions }
        let world = Knowledge(before: before, known: context.knownQueues, limits: context.tenant.limits.json, skills: context.skillsByID,
                              complete: context.listedAllQueues)
        let checked = await problems(planned: planned, knowing: world, stdlib: stdlib)
        return actions.map { action in
            var annotated = action
            guard action.kind == .queue, planned[action.target] != nil else { return annotated }
            switch checked {
            case .success(let checked):
                let found = checked.found
                let advice = found[action.target]?.advice ?? []
                let before = found[action.target]?.before ?? []
                // A problem the queue had before the change is the reviewer's to know, but not the
                // change's doing: an apply does not refuse for it.
                annotated.warnings = (found[action.target]?.after ?? []).filter { !advice.contains($0) }
                    .map { before.contains($0) ? $0 + " (so already before this change)" : $0 }
                annotated.advice = advice
            // Unchecked must not read as checked and clean.
            case .failure(let why): annotated.warnings = ["not checked against cxrun's rules: \(why)"]
            }
            return annotated
        }
    }
}

/// `Lua/plancheck.lua`, embedded at build time.
let planCheckSource = String(decoding: PackageResources.plancheck_lua, as: UTF8.self)
