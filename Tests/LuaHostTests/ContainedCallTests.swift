import Foundation
import Synchronization
import TestSupport
import Testing

@testable import LuaHost

/// `contain(f, ...)`, the host's pcall whose limit errors end only the call (an interactive
/// session's chunk), and `RunControl.breakCall`, which stops that call, not the run.
@Suite("Contained calls")
struct ContainedCallTests {
    /// Runs `source` with `contain` exposed to it (an extension hands the private one over, as the
    /// REPL's does) and a `started()` binding that tells the test the script got that far.
    /// `whenStarted` runs then, with the run's control.
    static func run(_ source: String, limits: LuaLimits = LuaLimits(memoryBytes: 64 << 20, instructions: 2_000_000, timeout: 20),
                    whenStarted: @escaping @Sendable (RunControl) -> Void = { _ in }) async -> (outcome: RunOutcome, output: String) {
        let captured = Captured()
        let control = ControlBox()
        let gate = Gate()
        let options = SandboxOptions(args: [], runInfo: ["id": "test-run"], modules: ModuleResolver(stdlib: nil, scriptDirectory: nil),
                                     output: { captured.append($0) }, log: { _, _ in }, concurrency: 4)
        let request = RunRequest(
            source: source, chunkName: "@test.lua", limits: limits, sandbox: options,
            bindings: {
                let started: LuaFunction = { _ throws(ScriptError) in
                    if let run = control.value.withLock({ $0 }) { whenStarted(run) }
                    return .values(0)
                }
                // Waits for the host a minute, breaking the contained call once it waits.
                let waitForBreak: LuaFunction = { _ throws(ScriptError) in
                    .suspend(.async {
                        control.value.withLock({ $0 })?.breakCall()
                        try? await Task.sleep(for: .seconds(60))
                        return .success([.string("not broken")])
                    })
                }
                // Breaks the contained call, then finishes anyway once `gated` opens the gate: its
                // outcome arrives after its wait was abandoned, while the next wait is pending.
                let stale: LuaFunction = { _ throws(ScriptError) in
                    .suspend(.async {
                        control.value.withLock({ $0 })?.breakCall()
                        await gate.wait()
                        return .success([.string("stale")])
                    })
                }
                let gated: LuaFunction = { _ throws(ScriptError) in
                    .suspend(.async {
                        gate.open()
                        await Task.yield()  // the stale work finishes and posts first (one executor, in order)
                        return .success([.string("gated")])
                    })
                }
                return BindingSet(globals: [("started", started), ("wait_for_break", waitForBreak), ("stale", stale), ("gated", gated)],
                                  extensions: ["local private = ...\ncontain = private.contain\n"])
            },
            onStart: { run in control.value.withLock { $0 = run } })
        let outcome = await ScriptRunner.run(request)
        return (outcome, captured.value)
    }

    @Test func aRunawayCallEndsWithItsErrorAndTheRunGoesOn() async {
        let (outcome, output) = await Self.run("""
            local ok, err = contain(function() while true do end end)
            print(ok, err)
            local n = 0
            for i = 1, 100000 do n = n + i end
            print(n)
            """)
        #expect(outcome.status == .succeeded, "\(outcome.message ?? "")")
        #expect(output == "false\ttest.lua:1: instruction limit exceeded (2000000 instructions)\n5000050000\n", "\(output)")
    }

    @Test func eachCallHasTheWholeBudget() async {
        // Each call takes most of the 2,000,000 instructions; together they are well past them.
        let (outcome, output) = await Self.run("""
            local function work() local x = 0 for i = 1, 300000 do x = x + i end return x end
            print(contain(work))
            print(contain(work))
            print(contain(work))
            """)
        #expect(outcome.status == .succeeded, "\(outcome.message ?? "")")
        #expect(output == String(repeating: "true\t45000150000\n", count: 3), "\(output)")
    }

    @Test func aScriptsOwnPcallCannotSwallowTheLimit() async {
        let (outcome, output) = await Self.run("""
            print(contain(function()
              while true do pcall(function() while true do end end) end
            end))
            print("after")
            """)
        #expect(outcome.status == .succeeded, "\(outcome.message ?? "")")
        #expect(output.hasPrefix("false\t") && output.contains("instruction limit exceeded") && output.hasSuffix("after\n"), "\(output)")
    }

    @Test func aCallOutOfMemoryEndsAloneWhenItsMemoryIsGarbage() async {
        // 64 MiB: the call holds 40 and asks for 30 more; once it has ended the 40 are garbage, and
        // the next call's 40 (a 20 MiB buffer and its string) fit.
        let (outcome, output) = await Self.run("""
            local ok, err = contain(function()
              local held = {}
              for i = 1, 40 do held[i] = ("x"):rep(1 << 20) .. i end
              return ("y"):rep(30 << 20)
            end)
            print(ok, err)
            print(contain(function() return #("z"):rep(20 << 20) end))
            """)
        #expect(outcome.status == .succeeded, "\(outcome.message ?? "")")
        #expect(output == "false\ttest.lua:4: memory limit exceeded (64 MiB)\ntrue\t20971520\n", "\(output)")
    }

    @Test func memoryTheRunStillHoldsEndsIt() async {
        let (outcome, output) = await Self.run("""
            print(contain(function()
              kept = {}
              for i = 1, 100 do kept[i] = ("x"):rep(1 << 20) end
            end))
            print("not reached")
            """)
        #expect(outcome.status == .limit(.memory), "\(outcome.message ?? "")")
        #expect(outcome.message?.contains("test.lua:3: memory limit exceeded") == true, "\(outcome.message ?? "")")
        #expect(output.isEmpty, "\(output)")
    }

    @Test func theDeadlineStillEndsTheRun() async {
        let (outcome, output) = await Self.run("""
            contain(function() while true do end end)
            print("not reached")
            """, limits: LuaLimits(memoryBytes: 64 << 20, instructions: 0, timeout: 0.3))
        #expect(outcome.status == .limit(.deadline), "\(outcome.message ?? "")")
        #expect(output.isEmpty, "\(output)")
    }

    @Test func aBreakStopsTheRunningCallOnly() async {
        let (outcome, output) = await Self.run("""
            print(contain(function() started() while true do end end))
            print("after")
            """, limits: LuaLimits(memoryBytes: 64 << 20, instructions: 0, timeout: 20), whenStarted: { $0.breakCall() })
        #expect(outcome.status == .succeeded, "\(outcome.message ?? "")")
        #expect(output == "false\ttest.lua:1: interrupted\nafter\n", "\(output)")
    }

    @Test func aBreakStopsACallWaitingForTheHost() async {
        // Without the break the wait outlives the run's 20 s deadline.
        let (outcome, output) = await Self.run("""
            local ok, err = contain(function() return wait_for_break() end)
            print(ok, err)
            print(contain(function() return "a later call", 2 end))
            """)
        #expect(outcome.status == .succeeded, "\(outcome.message ?? "")")
        #expect(output.hasPrefix("false\t") && !output.contains("not broken") && output.hasSuffix("\ntrue\ta later call\t2\n"), "\(output)")
    }

    @Test func anAbandonedWaitsLateOutcomeDoesNotEndTheNextWait() async {
        let (outcome, output) = await Self.run("""
            print(contain(function() return stale() end))
            print(gated())
            """)
        #expect(outcome.status == .succeeded, "\(outcome.message ?? "")")
        #expect(output.hasPrefix("false\t") && output.contains("\ngated\n"), "\(output)")
    }

    @Test func aBreakWithNoCallRunningStopsTheRun() async {
        let (outcome, _) = await Self.run("""
            print(contain(function() return 1 end))
            started()
            while true do end
            """, limits: LuaLimits(memoryBytes: 64 << 20, instructions: 0, timeout: 20), whenStarted: { $0.breakCall() })
        #expect(outcome.status == .limit(.interrupted), "\(outcome.message ?? "")")
    }

    @Test func scriptsDoNotSeeIt() async {
        let (outcome, output) = await runLua("print(type(contain), type(cx.contain), type(contained_call))")
        #expect(outcome.status == .succeeded, "\(outcome.message ?? "")")
        #expect(output == "nil\tnil\tnil\n", "\(output)")
    }
}

/// The run's control, once it starts, for the `started` binding.
private final class ControlBox: Sendable {
    let value = Mutex<RunControl?>(nil)
}

/// Opened once; a waiter before or after that goes on.
private final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let go = state.withLock { s -> Bool in
                if s.open { return true }
                s.waiters.append(continuation)
                return false
            }
            if go { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }
}
