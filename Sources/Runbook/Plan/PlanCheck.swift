import Foundation
import JSONCore
import LuaHost

/// What cxrun's own rules (cx.validate's default rule sets) say of a dry run's planned queue
/// documents: a dry run cannot ask the tenant, and a script need not have called `validate`, so
/// the plan shows it, for each queue, before anyone applies it. Run in a Lua state of its own
/// (Lua/plancheck.lua) once the script has ended: the script's state and audit are untouched.
enum PlanCheck {
    /// Problems by queue id (`path: message`), or why the check itself could not run.
    static func problems(planned: [String: JSONValue], fetched: [String: JSONValue], limits: JSONValue, skills: JSONValue,
                         stdlib: String?) async -> Result<[String: [String]], CheckFailure> {
        guard !planned.isEmpty else { return .success([:]) }
        let options = SandboxOptions(args: [], runInfo: ["id": "plan-check"], modules: ModuleResolver(stdlib: stdlib, scriptDirectory: nil),
                                     output: { _ in }, log: { _, _ in }, concurrency: 1)
        let request = RunRequest(source: planCheckSource, chunkName: "=[cx plan check]", limits: LuaLimits(memoryBytes: 512 << 20, instructions: 0, timeout: 60),
                                 sandbox: options, varargs: [.object(planned), .object(fetched), limits, skills])
        let outcome = await ScriptRunner.run(request)
        guard outcome.status == .succeeded, let result = outcome.results.first?.objectValue else {
            return .failure(CheckFailure(description: outcome.message ?? "the check returned nothing"))
        }
        return .success(result.mapValues { $0.arrayValue?.compactMap(\.stringValue) ?? [] })
    }

    /// Why the rules could not be run (no stdlib found, a broken rule set).
    struct CheckFailure: Error, CustomStringConvertible {
        var description: String
    }
}

extension PlanCheck {
    /// `actions` with what cxrun's rules say of each queue's planned document: the queue as the
    /// run planned it, compared with the queue as fetched before; overflow targets as planned,
    /// else as the run last fetched them.
    static func annotate(_ actions: [PlannedChange], context: RunContext, stdlib: String?) async -> [PlannedChange] {
        var planned: [String: JSONValue] = [:], fetched: [String: JSONValue] = [:]
        for action in actions where action.kind == .queue {
            guard let (document, before) = context.plannedRestore(of: action.target) else { continue }
            (planned[action.target], fetched[action.target]) = (document, before)
        }
        // The overflow chains they lead into, as far as the rule looks (queues not planned: as fetched).
        for document in Array(planned.values) {
            var next = document.value(at: ["overflow", "targetQueueId"])?.stringValue
            for _ in 0..<4 {
                guard let id = next, let doc = planned[id] ?? fetched[id] ?? context.latestFetched(id) else { break }
                if planned[id] == nil { fetched[id] = doc }
                next = doc.value(at: ["overflow", "targetQueueId"])?.stringValue
            }
        }
        let checked = await problems(planned: planned, fetched: fetched, limits: context.tenant.limits.json, skills: context.skillsByID,
                                     stdlib: stdlib)
        return actions.map { action in
            var annotated = action
            guard action.kind == .queue, planned[action.target] != nil else { return annotated }
            switch checked {
            case .success(let problems): annotated.warnings = problems[action.target] ?? []
            // Unchecked must not read as checked and clean.
            case .failure(let why): annotated.warnings = ["not checked against cxrun's rules: \(why)"]
            }
            return annotated
        }
    }
}

/// `Lua/plancheck.lua`, embedded at build time.
let planCheckSource = String(decoding: PackageResources.plancheck_lua, as: UTF8.self)
