import Foundation
import TestSupport
import Testing

@testable import LuaHost

/// Small limits so runaway tests end quickly.
let testLimits = LuaLimits(memoryBytes: 64 << 20, instructions: 20_000_000, timeout: 20)

/// Bindings that exercise the boundary: sync and async echoes, structured errors, big values.
func testBindings() -> [(String, LuaFunction)] {
    [
        ("echo", { call throws(ScriptError) in
            try call.returning((1...max(1, call.count)).map { i throws(ScriptError) in try call.value(i) })
        }),
        ("echo_async", { call throws(ScriptError) in
            let value = try call.value(1)
            return .suspend(.async { .success([value]) })
        }),
        ("fail_async", { call throws(ScriptError) in
            let code = call.string(1) ?? "unavailable", message = call.string(2) ?? "simulated"
            return .suspend(.async {
                .failure(ScriptError(value: ["code": .string(code), "message": .string(message), "status": 503], form: .structured))
            })
        }),
        ("fail_sync", { _ throws(ScriptError) in throw .message("sync failure") }),
        ("big_string", { call throws(ScriptError) in
            let mib = Int(call.number(1) ?? 1)
            return try call.returning(.string(String(repeating: "x", count: mib << 20)))
        }),
        ("noop", { _ throws(ScriptError) in .values(0) }),
        // Whether the async work ran on the run's own thread (the one Lua runs on), before and
        // after it waited for something else.
        ("on_run_thread_async", { _ throws(ScriptError) in
            let runThread = UInt(bitPattern: Int(pthread_self()))
            return .suspend(.async {
                let before = UInt(bitPattern: Int(pthread_self())) == runThread
                try? await Task.sleep(for: .milliseconds(1))
                let after = UInt(bitPattern: Int(pthread_self())) == runThread
                return .success([.bool(before), .bool(after)])
            })
        }),
    ]
}

/// Runs `source` in a fresh sandbox; returns the outcome and what it printed.
func runLua(
    _ source: String, limits: LuaLimits = testLimits, args: [String] = [],
    stdlib: String? = nil, scriptDir: String? = nil, concurrency: Int = 4
) async -> (outcome: RunOutcome, output: String) {
    let captured = Captured()
    let options = SandboxOptions(
        args: args, runInfo: ["id": "test-run"], modules: ModuleResolver(stdlib: stdlib, scriptDirectory: scriptDir),
        output: { captured.append($0) }, log: { level, msg in captured.append("[\(level)] \(msg)\n") },
        concurrency: concurrency)
    let request = RunRequest(
        source: source, chunkName: "@test.lua", limits: limits, sandbox: options,
        varargs: args.map(LuaValue.string), bindings: { BindingSet(globals: testBindings()) })
    // The async form: a test must not block a cooperative-pool thread that host work needs.
    let outcome = await ScriptRunner.run(request)
    return (outcome, captured.value)
}

/// Runs `source` and expects success; reports the error otherwise.
@discardableResult
func expectSuccess(_ source: String, limits: LuaLimits = testLimits, sourceLocation: SourceLocation = #_sourceLocation) async -> String {
    let (outcome, output) = await runLua(source, limits: limits)
    #expect(outcome.status == .succeeded, "\(outcome.message ?? "") \(outcome.traceback ?? "")", sourceLocation: sourceLocation)
    return output
}

/// A scratch folder removed when the test ends.
final class TempDir {
    let path: String
    init() throws {
        path = try temporaryFolder("test")
    }
    func write(_ relative: String, _ contents: String) {
        let url = URL(fileURLWithPath: path).appendingPathComponent(relative)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? contents.write(to: url, atomically: true, encoding: .utf8)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
