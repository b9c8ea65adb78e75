import Foundation
import LuaHost

/// The cost of crossing the Lua -> Swift boundary, compared in one run with a C function of
/// the stock library (goal: a no-op binding costs at most 1.5x `math.max`).
enum BoundaryBench {
    static let calls = 5_000_000
    static let rounds = 5

    /// Times `calls` calls of a no-op binding, of math.max, and of an empty loop (the baseline).
    static let source = """
        local N = \(calls)
        local noop, max, clock = noop, math.max, os.clock
        local function time(f)
          local t0 = clock()
          f()
          return clock() - t0
        end
        local empty = time(function() for i = 1, N do end end)
        local binding = time(function() for i = 1, N do noop(i, 2) end end)
        local cfunc = time(function() for i = 1, N do max(i, 2) end end)
        return empty, binding, cfunc
        """

    static func run() {
        let bindings: @Sendable () -> BindingSet = { BindingSet(globals: [("noop", { _ throws(ScriptError) in .values(0) })]) }
        var best: (empty: Double, binding: Double, cfunc: Double) = (.infinity, .infinity, .infinity)
        for _ in 0..<rounds {
            let request = RunRequest(
                source: source, chunkName: "=bench", limits: LuaLimits(memoryBytes: 256 << 20, instructions: 0, timeout: 600),
                sandbox: SandboxOptions(modules: ModuleResolver(stdlib: nil, scriptDirectory: nil), output: { _ in }, log: { _, _ in }),
                bindings: bindings)
            let outcome = ScriptRunner.run(request)
            guard outcome.status == .succeeded, outcome.results.count == 3, let e = outcome.results[0].doubleValue,
                let b = outcome.results[1].doubleValue, let c = outcome.results[2].doubleValue
            else {
                say("boundary benchmark failed: \(outcome.message ?? "no results")")
                return
            }
            best = (min(best.empty, e), min(best.binding, b), min(best.cfunc, c))
        }
        let bindingCost = max(0, best.binding - best.empty) / Double(calls) * 1e9
        let cfuncCost = max(0, best.cfunc - best.empty) / Double(calls) * 1e9
        say("boundary benchmark: \(calls) calls x best of \(rounds) rounds, loop overhead subtracted")
        say(String(format: "  no-op binding (trampoline -> Swift): %7.1f ns/call", bindingCost))
        say(String(format: "  math.max (stock C function):         %7.1f ns/call", cfuncCost))
        say(String(format: "  ratio binding / C function:          %7.2f   (goal <= 1.5)", bindingCost / cfuncCost))
    }
}
