import JSONCore
import CLua
import CLuaBridge

/// A Swift function callable from Lua through the C trampoline.
public typealias LuaFunction = (LuaCall) throws(ScriptError) -> LuaReply

/// What a binding hands back to the trampoline.
public enum LuaReply {
    /// This many values were pushed as results.
    case values(Int32)
    /// The calling coroutine waits for host work; the scheduler resumes it with the outcome.
    case suspend(Suspension)
    /// Raise the value the binding pushed on top, as is (keeps a table error's identity).
    case raiseTop
}

/// Host work a coroutine waits for.
public enum Suspension {
    /// Swift async work whose values (or error) resume the coroutine.
    case async(@Sendable () async -> Result<[LuaValue], ScriptError>)
    /// Resume after this many seconds.
    case sleep(Double)
    /// Resume with the outcome of another task of the run.
    case task(Int)
}

/// One Lua state with its runtime and bindings. Confined to the thread that created it.
public final class LuaVM {
    let L: OpaquePointer
    /// Outlives the state: the watchdog and run handles hold it too, and it is freed by the last.
    let owner: RuntimeOwner
    var runtime: OpaquePointer { owner.pointer }
    // Read on every binding call: no dynamic exclusivity check (only this thread touches it).
    @exclusivity(unchecked) private var bindings: ContiguousArray<LuaFunction> = []
    /// Set by a binding that suspends; taken by the scheduler once the yield reaches it.
    var pendingSuspension: Suspension?
    /// Registry anchors and identities of the host's sentinels (set up by the sandbox).
    var nullRef: Int32 = 0, arrayMetatableRef: Int32 = 0, errorMetatableRef: Int32 = 0, taskMetatableRef: Int32 = 0
    var nullPointer: UnsafeRawPointer?, arrayMetatable: UnsafeRawPointer?, taskMetatable: UnsafeRawPointer?
    /// The scheduler driving this VM's coroutines, while a run is active.
    weak var scheduler: Scheduler?

    /// Creates a state held to `limits` (the deadline starts now).
    public init(limits: LuaLimits) throws(LuaHostError) {
        guard let rt = cxb_runtime_new(limits.memoryBytes, limits.reserveBytes) else {
            throw .stateCreationFailed
        }
        owner = RuntimeOwner(rt)
        guard let state = cxb_newstate(rt) else { throw .stateCreationFailed }
        L = state
        cxb_set_limits(rt, limits.instructions, limits.timeout)
        cxb_set_dispatch(rt, luaHostDispatch, Unmanaged.passUnretained(self).toOpaque())
        cxb_install_hook(L)
    }

    deinit {
        cxb_close(L)  // the runtime itself goes with its last owner
    }

    /// Registers a binding; returns its number for `pushBinding`.
    @discardableResult
    func register(_ function: @escaping LuaFunction) -> Int32 {
        bindings.append(function)
        return Int32(bindings.count - 1)
    }

    /// Pushes a Lua function that calls `function` through the trampoline.
    func pushFunction(_ function: @escaping LuaFunction, on state: OpaquePointer? = nil) {
        cxb_push_binding(state ?? L, register(function))
    }

    /// Compiles text-only source onto the stack (the function, or an error message).
    func loadText(_ source: String, chunkName: String) -> Int32 {
        if chunkName.hasPrefix("@"), source.utf8.starts(with: [0x1B, 0x4C, 0x75, 0x61]) {
            // luac's output: Lua's own word, "attempt to load a binary chunk (mode is 't')", names no file.
            lua_pushstring(L, "\(chunkName.dropFirst()): a compiled Lua chunk (luac's output); cxrun runs Lua source text only")
            return LUA_ERRSYNTAX
        }
        // A file's chunk (`@path`) may start with a `#!` line, as one `lua` runs may.
        var source = chunkName.hasPrefix("@") ? SourceText.compilable(source) : source
        return source.withUTF8 { cxb_load_text(L, $0.baseAddress, $0.count, chunkName) }
    }

    /// The function on top of the stack as a binary chunk, debug information kept; nil when
    /// it cannot be dumped (out of memory).
    func dumpTop() -> [UInt8]? {
        var data: UnsafeMutablePointer<UInt8>?
        var size = 0
        guard cxb_dump(L, &data, &size) == 0, let data else { return nil }
        defer { cxb_dump_free(data) }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// The limit that stopped the run, if any.
    var limitHit: LimitKind? {
        switch cxb_limit(runtime) {
        case CXB_LIMIT_MEMORY: return .memory
        case CXB_LIMIT_INSTRUCTIONS: return .instructions
        case CXB_LIMIT_DEADLINE: return .deadline
        case CXB_LIMIT_INTERRUPTED, CXB_LIMIT_BREAK: return .interrupted
        default: return nil
        }
    }

    /// Records a limit seen by the host (scheduler deadline, interrupt); sticky from now on.
    func trip(_ limit: CXBLimit) { cxb_trip(runtime, limit) }

    fileprivate func dispatch(_ state: OpaquePointer, _ index: Int32) -> Int32 {
        let call = LuaCall(L: state, vm: self)
        do throws(ScriptError) {
            switch try bindings[Int(index)](call) {
            case .values(let n):
                return n
            case .raiseTop:
                return Int32(CXB_RAISE)
            case .suspend(let suspension):
                guard lua_isyieldable(state) != 0 else {
                    throw .message(
                        "host I/O cannot run here (inside a metamethod, iterator or callback of a C function such as table.sort or string.gsub); call it from plain script code"
                    )
                }
                pendingSuspension = suspension
                lua_pushlightuserdata(state, cxb_yield_marker())
                lua_pushinteger(state, 0)
                return Int32(CXB_YIELD)
            }
        } catch {
            push(error: error, on: state)
            return Int32(error.form == .message ? CXB_RAISE_WHERE : CXB_RAISE)
        }
    }

    /// Pushes an error value the way `form` asks (structured errors get the error metatable).
    func push(error: ScriptError, on state: OpaquePointer) {
        do {
            try push(error.value, on: state)
        } catch {
            pushString("error value could not be converted: \(error.description)", on: state)
            return
        }
        if error.form == .structured, lua_type(state, -1) == LUA_TTABLE {
            cxb_getref(state, errorMetatableRef)
            lua_setmetatable(state, -2)
        }
    }
}

/// Owns a run's C runtime (allocator, limits, interrupt flags) and frees it when the last holder
/// (the VM, the watchdog thread, a run handle) lets go, so no thread ever reads freed memory.
final class RuntimeOwner: @unchecked Sendable {  // other threads touch only the runtime's atomic fields
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { cxb_runtime_free(pointer) }
}

/// The C entry point of every binding call; looks up the VM without retaining it.
private let luaHostDispatch: cxb_dispatch_fn = { state, host, index in
    Unmanaged<LuaVM>.fromOpaque(host!)._withUnsafeGuaranteedRef { $0.dispatch(state!, index) }
}
