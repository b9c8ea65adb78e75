import Testing

@testable import LuaHost

/// A runaway script and the limit that must stop it.
struct Runaway: CustomTestStringConvertible, Sendable {
    let name: String
    let code: String
    let limit: LimitKind
    var testDescription: String { name }
}

private let runaways: [Runaway] = [
    Runaway(name: "busy loop", code: "while true do end", limit: .instructions),
    Runaway(name: "pcall cannot swallow the budget",
            code: "while true do pcall(function() while true do end end) end", limit: .instructions),
    Runaway(name: "xpcall handler cannot swallow it",
            code: "while true do xpcall(function() while true do end end, function(e) return e end) end", limit: .instructions),
    Runaway(name: "coroutine busy loop",
            code: "local co = coroutine.wrap(function() while true do end end) co()", limit: .instructions),
    Runaway(name: "coroutines share one budget",
            code: "for i = 1, 1e9 do local co = coroutine.create(function() for j = 1, 1000 do end end) coroutine.resume(co) end",
            limit: .instructions),
    Runaway(name: "spawned task busy loop",
            code: "local t = cx.spawn(function() while true do end end) cx.wait(t)", limit: .instructions),
    Runaway(name: "string.rep 2^40", code: #"local s = string.rep("x", 2^40)"#, limit: .size),
    Runaway(name: "string.rep 2^30", code: #"local s = string.rep("x", 2^30)"#, limit: .memory),
    Runaway(name: "table.concat growth",
            code: #"local t = {} for i = 1, 2^22 do t[i] = string.rep("y", 64) end local s = table.concat(t)"#, limit: .memory),
    Runaway(name: "table growth bomb", code: "local t = {} local i = 0 while true do i = i + 1 t[i] = {i} end", limit: .memory),
    Runaway(name: "memory bomb inside pcall loop",
            code: "local keep = {} while true do pcall(function() keep[#keep + 1] = string.rep('z', 1 << 20) .. #keep end) end",
            limit: .memory),
    Runaway(name: "deep recursion", code: "local function r(n) return 1 + r(n + 1) end r(1)", limit: .stack),
    Runaway(name: "host value past the cap", code: "local s = big_string(100)", limit: .memory),
]

@Suite("Limits")
struct LimitTests {
    @Test(arguments: runaways)
    func runawayIsStopped(_ runaway: Runaway) async {
        let limits = LuaLimits(memoryBytes: 64 << 20, instructions: 5_000_000, timeout: 30)
        let (outcome, _) = await runLua(runaway.code, limits: limits)
        #expect(outcome.status == .limit(runaway.limit), "\(outcome.message ?? "")")
        #expect(outcome.message?.hasPrefix("test.lua:") == true, "names the line: \(outcome.message ?? "")")
        if runaway.limit == .instructions {
            // Within the budget, give or take the hook's step per thread.
            #expect(outcome.instructions <= limits.instructions + 10_000)
        }
        if runaway.limit == .memory {
            #expect(outcome.memoryPeak <= limits.memoryBytes + limits.reserveBytes + (8 << 20))
        }
        // The host survives and the next run in the same process is clean.
        await expectSuccess("assert(string.rep('a', 3) == 'aaa') local t = {} for i = 1, 1000 do t[i] = i end")
    }

    /// The memory limit, once hit, ends the run there even when the script catches the error:
    /// nothing after it runs and no binding starts. It once ran on to the hook's next step — a
    /// `deploy` right after the pcall was sent, and the run then reported the limit at its line.
    /// (`gsub` holds its buffer while the result is refused again after a collection: the limit.
    /// A single refusal of a string too large, held by nothing, stays an error a script may catch.)
    @Test(arguments: [
        "local ok = pcall(bloat) print('after', ok)",
        "coroutine.wrap(function() local ok = pcall(bloat) print('after', ok) end)()",
        "cx.wait(cx.spawn(function() local ok = pcall(bloat) print('after', ok) end))",
    ])
    func aCaughtMemoryErrorEndsTheRunBeforeAnythingElse(_ code: String) async {
        let bloat = #"local function bloat() return string.rep("ab", 1000):gsub(".", string.rep("x", 100000)) end"# + "\n"
        let (outcome, output) = await runLua(bloat + code, limits: LuaLimits(memoryBytes: 256 << 20, instructions: 0, timeout: 30))
        #expect(outcome.status == .limit(.memory), "\(outcome.message ?? "")")
        #expect(!output.contains("after"), "ran on after the limit: \(output)")
    }

    @Test func deadlineStopsALuaLoop() async {
        let (outcome, _) = await runLua("while true do end", limits: LuaLimits(memoryBytes: 64 << 20, instructions: 0, timeout: 0.3))
        #expect(outcome.status == .limit(.deadline))
        #expect(outcome.message?.contains("test.lua:1: deadline exceeded") == true, "\(outcome.message ?? "")")
    }

    @Test func deadlineStopsAWaitForHostWork() async {
        let (outcome, _) = await runLua(
            "local ok = pcall(cx.sleep, 3600) print('never') while true do end",
            limits: LuaLimits(memoryBytes: 64 << 20, instructions: 0, timeout: 0.3))
        #expect(outcome.status == .limit(.deadline))
        #expect(outcome.seconds < 60)
    }

    @Test func closeHandlersRunUnderTheLimits() async {
        let (outcome, _) = await runLua(#"""
            local guard <close> = setmetatable({}, { __close = function() while true do end end })
            error("boom")
            """#, limits: LuaLimits(memoryBytes: 64 << 20, instructions: 2_000_000, timeout: 30))
        #expect(outcome.status != .succeeded)
        #expect(outcome.instructions <= 2_000_000 + 10_000)
    }

    @Test func errorTostringRunsUnderTheLimits() async {
        let (outcome, _) = await runLua(#"""
            error(setmetatable({}, { __tostring = function() while true do end end }))
            """#, limits: LuaLimits(memoryBytes: 64 << 20, instructions: 2_000_000, timeout: 30))
        #expect(outcome.status == .limit(.instructions))
        #expect(outcome.message?.contains("error object is a table value") == true, "\(outcome.message ?? "")")
    }

    @Test func scriptErrorsAreNotLimits() async {
        let (outcome, _) = await runLua("local t = nil\nprint(t.x)")
        #expect(outcome.status == .failed)
        #expect(outcome.message == "test.lua:2: attempt to index a nil value (local 't')")
        #expect(outcome.traceback?.contains("test.lua:2: in main chunk") == true)
    }

    @Test func syntaxErrorsNameTheLine() async {
        let (outcome, _) = await runLua("local x = 1\nlocal = 2")
        #expect(outcome.status == .failed)
        #expect(outcome.message == "test.lua:2: <name> expected near '='")
    }

    @Test func errorsWithoutPositionGetTheScriptLine() async {
        let (outcome, _) = await runLua("local x = 1\ntable.insert(string, 1)")
        #expect(outcome.message == "test.lua:2: attempt to modify read-only table 'string' (field '1')")
    }
}
