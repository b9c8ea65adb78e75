import JSONCore
import CLua
import CLuaBridge
import Foundation
import NIOCore

/// What a run adds to the sandbox: global bindings (also fields of `cx`), hidden host functions,
/// and Lua extensions that run in the sandbox before the script, receiving
/// `{cx = <the real cx table>, contain = <pcall whose limits end only the call>, <hidden functions>...}` as `...`.
public struct BindingSet {
    public var globals: [(String, LuaFunction)]
    public var hidden: [(String, LuaFunction)]
    public var extensions: [String]

    public init(globals: [(String, LuaFunction)] = [], hidden: [(String, LuaFunction)] = [], extensions: [String] = []) {
        self.globals = globals
        self.hidden = hidden
        self.extensions = extensions
    }
}

/// One script run: the source, its limits, and what its sandbox offers.
public struct RunRequest: Sendable {
    public var source: String
    /// Lua chunk name: `@path` makes errors read `path:LINE: message`.
    public var chunkName: String
    public var limits: LuaLimits
    public var sandbox: SandboxOptions
    /// The main chunk's `...`.
    public var varargs: [LuaValue]
    /// Makes the run's bindings; called on the run's thread.
    public var bindings: @Sendable () -> BindingSet
    public var watchdog: WatchdogPolicy
    /// Called on the run's thread once the state exists, with a handle other threads may use.
    public var onStart: (@Sendable (RunControl) -> Void)?

    public init(
        source: String, chunkName: String, limits: LuaLimits = LuaLimits(), sandbox: SandboxOptions,
        varargs: [LuaValue] = [], bindings: @escaping @Sendable () -> BindingSet = { BindingSet() },
        watchdog: WatchdogPolicy = .disabled, onStart: (@Sendable (RunControl) -> Void)? = nil
    ) {
        self.source = source
        self.chunkName = chunkName
        self.limits = limits
        self.sandbox = sandbox
        self.varargs = varargs
        self.bindings = bindings
        self.watchdog = watchdog
        self.onStart = onStart
    }
}

/// Runs scripts: one fresh, sandboxed Lua state per run, on a dedicated thread that is the run's event loop.
public enum ScriptRunner {
    /// Runs the request, blocking the caller until the run ends.
    public static func run(_ request: RunRequest) -> RunOutcome {
        HostThread.run { loop, finish in execute(request, on: loop, finish: finish) }
    }

    /// Runs the request; the calling task suspends until the run ends.
    public static func run(_ request: RunRequest) async -> RunOutcome {
        await HostThread.run { loop, finish in execute(request, on: loop, finish: finish) }
    }

    /// Runs the request on `loop` (the run's thread); `finish` gets the outcome.
    static func execute(_ request: RunRequest, on loop: EventLoop, finish: @escaping (RunOutcome) -> Void) {
        let started = cxb_monotonic_now()
        var outcome = RunOutcome(status: .failed, message: nil, traceback: nil, results: [], instructions: 0, memoryPeak: 0, seconds: 0)
        let vm: LuaVM
        do {
            vm = try LuaVM(limits: request.limits)
        } catch {
            outcome.message = error.description
            return finish(outcome)
        }
        let control = RunControl(owner: vm.owner)
        request.onStart?(control)
        let watchdog = Watchdog(policy: request.watchdog, timeout: request.limits.timeout, control: control)
        func done(_ outcome: consuming RunOutcome) {
            watchdog.stop()
            outcome.instructions = cxb_instructions_used(vm.runtime)
            outcome.memoryPeak = cxb_memory_peak(vm.runtime)
            outcome.seconds = cxb_monotonic_now() - started
            finish(outcome)
        }
        guard prepare(request, on: vm, into: &outcome) else { return done(outcome) }
        let scheduler = Scheduler(vm: vm, timeout: request.limits.timeout, loop: loop)
        vm.scheduler = scheduler
        scheduler.start { [outcome] result in
            var outcome = outcome
            vm.scheduler = nil
            switch result {
            case .success(let results):
                outcome.status = .succeeded
                outcome.results = results
            case .failure(let failure):
                outcome.status = classify(failure.message, vm: vm)
                // The script ran to its end; only the task's error would not say why it failed.
                outcome.message = failure.unwaited ? failure.message + " (in a task that nothing waited for: cx.wait it to handle its error)" : failure.message
                outcome.unwaitedTask = failure.unwaited
                outcome.traceback = hidingHostFrames(failure.traceback)
            }
            done(outcome)
        }
    }

    /// Sets up the sandbox and loads the script with its arguments; false (and the reason in
    /// `outcome`) when the run cannot start.
    private static func prepare(_ request: RunRequest, on vm: LuaVM, into outcome: inout RunOutcome) -> Bool {
        let L = vm.L
        let envRef: Int32
        do {
            envRef = try vm.installSandbox(request.sandbox, bindings: request.bindings())
        } catch {
            outcome.message = error.description
            return false
        }
        guard vm.loadText(request.source, chunkName: request.chunkName) == LUA_OK else {
            outcome.message = vm.popMessage()
            return false
        }
        cxb_getref(L, envRef)
        lua_setupvalue(L, -2, 1)  // the chunk's _ENV is the sandbox
        for value in request.varargs {
            do { try vm.push(value, on: L) } catch {
                outcome.message = "script arguments: \(error.description)"
                return false
            }
        }
        return true
    }

    /// Drops the sandbox prelude's frames: they are the host's, not the script's.
    static func hidingHostFrames(_ traceback: String) -> String {
        traceback.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("[cx]:") }
            .joined(separator: "\n")
    }

    /// A failure is a limit when a limit was recorded, or when Lua itself ran out of room.
    static func classify(_ message: String, vm: LuaVM) -> RunOutcome.Status {
        if let limit = vm.limitHit { return .limit(limit) }
        if message.contains("memory limit exceeded") && cxb_memory_refused(vm.runtime) > 0 { return .limit(.memory) }
        // Lua's own refusals of strings and buffers too large to ever fit: a runaway as a memory
        // bomb is, but not one a larger --memory would let through.
        if message.hasSuffix("resulting string too large") || message.hasSuffix("buffer too large")
            || message.hasSuffix("string length overflow")
        {
            return .limit(.size)
        }
        if message.hasSuffix("stack overflow") { return .limit(.stack) }
        return .failed
    }
}
