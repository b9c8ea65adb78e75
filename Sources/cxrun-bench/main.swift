// cxrun-bench: prints the cost of crossing the Lua -> Swift boundary, compared in one run with a
// C function of the stock library. Figures only; nothing here asserts (machines are noisy).
import Foundation
import LuaHost

let calls = 5_000_000
let rounds = 5

/// Lua that times `calls` calls of a no-op binding, of math.max, and of an empty loop (the baseline).
let source = """
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

let bindings: @Sendable () -> BindingSet = { BindingSet(globals: [("noop", { _ throws(ScriptError) in .values(0) })]) }

var best: (empty: Double, binding: Double, cfunc: Double) = (.infinity, .infinity, .infinity)
for _ in 0..<rounds {
    let request = RunRequest(
        source: source, chunkName: "=bench", limits: LuaLimits(memoryBytes: 256 << 20, instructions: 0, timeout: 600),
        sandbox: SandboxOptions(modules: ModuleResolver(stdlib: nil, scriptDirectory: nil), output: { _ in }, log: { _, _ in }),
        bindings: bindings)
    let outcome = ScriptRunner.run(request)
    guard outcome.status == .succeeded, outcome.results.count == 3,
        let e = outcome.results[0].doubleValue, let b = outcome.results[1].doubleValue, let c = outcome.results[2].doubleValue
    else {
        print("bench failed: \(outcome.message ?? "no results")")
        exit(1)
    }
    best = (min(best.empty, e), min(best.binding, b), min(best.cfunc, c))
}

let bindingCost = max(0, best.binding - best.empty) / Double(calls) * 1e9
let cfuncCost = max(0, best.cfunc - best.empty) / Double(calls) * 1e9
print("boundary benchmark: \(calls) calls x best of \(rounds) rounds, loop overhead subtracted")
print(String(format: "  no-op binding (trampoline -> Swift): %7.1f ns/call", bindingCost))
print(String(format: "  math.max (stock C function):         %7.1f ns/call", cfuncCost))
print(String(format: "  ratio binding / C function:          %7.2f   (goal <= 1.5)", bindingCost / cfuncCost))
