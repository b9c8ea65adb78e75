import Foundation
import LuaHost

/// A handle on a running runbook that other threads may use (a signal watcher, a UI).
public struct RunHandle: Sendable {
    let control: RunControl

    /// Asks the script to stop at its next check; the run ends audited as aborted.
    public func interrupt() { control.interrupt() }

    /// In `cxrun repl`: stops the chunk running now (the session goes on), or the session when
    /// it is waiting for input.
    public func interruptChunk() { control.breakCall() }

    /// Whether the run was asked to stop.
    public var stopRequested: Bool { control.stopRequested }
}

/// Compiling without running (`cxrun check`).
public enum RunbookChecker {
    /// What `cxrun check` says of one script, from one compile: its syntax error (`chunk:LINE:
    /// message`), or its problems with globals (see `globalProblems`), none when it is fine.
    public static func check(source: String, path: String, stdlib: String?) -> (syntaxError: String?, problems: [String]) {
        switch ScriptChecker.compile(source: source, chunkName: "@\(path)") {
        case .failure(let error): return (error.message, [])
        case .success(let accesses): return (nil, accesses.map { globalProblems($0, source: source, path: path, stdlib: stdlib) } ?? [])
        }
    }

    /// Lua's names the sandbox keeps (DESIGN.md §3).
    public static let luaGlobals: Set<String> = [
        "assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall", "select", "tonumber", "tostring", "type", "rawequal",
        "rawlen", "rawget", "rawset", "setmetatable", "getmetatable", "print", "unpack", "require", "load", "collectgarbage",
        "string", "table", "math", "utf8", "coroutine", "os", "_G", "_VERSION",
    ]

    /// Every global a runbook's sandbox defines: Lua's and the host's (bindings, `cx`, `log`). A
    /// test compares it with a live run's `_G`.
    public static let sandboxGlobals = luaGlobals.union([
        "cx", "log", "fetch", "build", "validate", "deploy", "patch", "rollback", "reassign", "agent_status", "webhook",
        "queues", "skills", "routing_profiles", "agents", "agent", "analytics",
    ])

    /// The globals of a runbook test file (`*_test.lua`): Lua's, `cx`, `log` and `test`. The
    /// bindings are not among them: a test runs a script (`t.run`) and reads the tenant (`t.sim`).
    public static let testGlobals = luaGlobals.union(["cx", "log", "test"])

    /// The fields of `cx` (its bindings and helpers, and `args`, `run`, `tenant`, `null`): a test
    /// compares it with a live run's `cx`.
    public static let cxFields: Set<String> = bindings.union([
        "args", "array", "change", "each", "null", "require_success", "run", "sleep", "spawn", "tenant", "wait",
    ])

    /// The bindings: in a runbook's sandbox, not in a test file's.
    public static let bindings = sandboxGlobals.subtracting(testGlobals)

    /// What to add to an error or a problem naming global `name` in a test file, when it is a binding.
    public static func testFileHint(for name: String) -> String? {
        bindings.contains(name) ? "\(name) is a binding of runbooks, not of test files: run the script with t.run, read the tenant with t.sim" : nil
    }

    /// Reads of globals that nothing defines — not the sandbox, not the script itself — and
    /// assignments to the sandbox's own names, as
    /// `path:LINE: NAME is not defined…`, with the closest defined name when one is near: a
    /// misspelt binding (`fecth`) found before a run stops at it, halfway through its changes.
    /// A runbook test (`*_test.lua`) has its own (`testGlobals`).
    /// The modules it requires are found as a run finds them (`stdlib`, then the script's folder):
    /// a module runs in the script's environment, so the globals it sets are defined for it too.
    private static func globalProblems(_ accesses: [GlobalAccess], source: String, path: String, stdlib: String?) -> [String] {
        let isTest = path.hasSuffix("_test.lua")
        var defined = (isTest ? testGlobals : sandboxGlobals).union(accesses.filter(\.isWrite).map(\.name))
        let folder = (path as NSString).deletingLastPathComponent
        let modules = ModuleResolver(stdlib: stdlib, scriptDirectory: folder.isEmpty ? "." : folder)
        defined.formUnion(globalsSet(byModulesOf: source, modules))
        let setsCx = accesses.contains { $0.isWrite && $0.name == "cx" }
        var seen: Set<String> = []
        return accesses.compactMap { access in
            // Once per name and kind (per field of cx, per module required).
            let key = access.isWrite ? "=" + access.name
                : access.name == "cx" ? "cx." + (access.field ?? "") : access.name == "require" ? "require:" + (access.literalArgument ?? "") : access.name
            guard seen.insert(key).inserted else { return nil }
            if access.isWrite {
                // The sandbox's names are read-only to luacheck too: a runbook that assigns one
                // loses the binding (or `string`, `print`) for the rest of its run.
                guard sandboxGlobals.contains(access.name) else { return nil }
                return "\(path):\(access.line): \(access.name) is the sandbox's own; assigning it replaces it for the rest of the run (use a local)"
            }
            if access.name == "cx", !setsCx { return cxFieldProblem(access, path: path) }
            if access.name == "require", let name = access.literalArgument { return moduleProblem(name, line: access.line, path: path, modules) }
            guard !defined.contains(access.name) else { return nil }
            if isTest, let hint = testFileHint(for: access.name) { return "\(path):\(access.line): \(hint)" }
            let near = NearestName.nearest(to: access.name, in: defined).map { " (did you mean \($0)?)" } ?? ""
            return "\(path):\(access.line): \(access.name) is not defined\(near): neither a binding nor a global the script sets"
        }
    }

    /// `cx.NAME` where `cx` has no such field: it would fail at that line, after what ran before it.
    private static func cxFieldProblem(_ access: GlobalAccess, path: String) -> String? {
        guard let field = access.field, !cxFields.contains(field) else { return nil }
        let near = NearestName.nearest(to: field, in: cxFields).map { " (did you mean cx.\($0)?)" } ?? ""
        return "\(path):\(access.line): cx.\(field) is not defined\(near): cx holds the bindings and cx.each, cx.change, …"
    }

    /// `require("NAME")` of a module neither the stdlib nor the script's folder holds.
    private static func moduleProblem(_ name: String, line: Int, path: String, _ modules: ModuleResolver) -> String? {
        guard case .failure(let why) = modules.resolve(name) else { return nil }
        guard case .notFound(_, let searched) = why, let near = NearestName.nearest(to: name, in: moduleNames(modules)) else { return "\(path):\(line): \(why)" }
        return "\(path):\(line): module '\(name)' not found (did you mean \(near)?); looked for: \(searched.joined(separator: ", "))"
    }

    /// The modules the roots hold, as `require` names them (two folders deep: `cx.validate`).
    private static func moduleNames(_ modules: ModuleResolver) -> Set<String> {
        var names: Set<String> = []
        for root in modules.roots {
            for top in (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [] {
                if top.hasSuffix(".lua") { names.insert(String(top.dropLast(4))); continue }
                let folder = (root.path as NSString).appendingPathComponent(top)
                for file in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where file.hasSuffix(".lua") {
                    names.insert("\(top).\(file.dropLast(4))")
                }
            }
        }
        return names
    }

    /// The globals set by the modules `source` requires (`require("name")` with a literal name),
    /// and by theirs in turn.
    static func globalsSet(byModulesOf source: String, _ modules: ModuleResolver) -> Set<String> {
        var set: Set<String> = [], seen: Set<String> = [], pending = requiredNames(source)
        while let name = pending.popLast(), seen.count < 200 {
            guard seen.insert(name).inserted, case .success(let module) = modules.resolve(name) else { continue }
            set.formUnion((GlobalAccesses.of(source: module.source, chunkName: module.chunkName) ?? []).filter(\.isWrite).map(\.name))
            pending += requiredNames(module.source)
        }
        return set
    }

    /// The literal module names in `require "x"`, `require("x")`, `require('x')`.
    private static func requiredNames(_ source: String) -> [String] {
        guard let pattern = try? NSRegularExpression(pattern: #"\brequire\s*\(?\s*["']([A-Za-z0-9_.]+)["']"#) else { return [] }
        return pattern.matches(in: source, range: NSRange(source.startIndex..., in: source)).compactMap { m in
            Range(m.range(at: 1), in: source).map { String(source[$0]) }
        }
    }

    /// Why `args` cannot start a run, nil when they can: a `KEY=VALUE` key given twice (one
    /// value would win unseen in `cx.args.KEY`).
    public static func check(arguments args: [String]) -> String? {
        ScriptArguments.repeatedKey(in: args).map { "script argument \($0.key) is given twice (\($0.first) and \($0.second)): give it once" }
    }
}
