import Foundation
import JSONCore
import CLua
import CLuaBridge

/// What a run's sandbox offers the script besides the fixed environment of DESIGN.md §3.
public struct SandboxOptions: Sendable {
    /// Script arguments: `cx.args[i]`, and `cx.args.key` for each `key=value` one.
    public var args: [String]
    /// `cx.run`.
    public var runInfo: LuaValue
    public var modules: ModuleResolver
    /// Where `print` writes (stdout in the CLI).
    public var output: @Sendable (String) -> Void
    /// Where `log.info/warn/error` write: (level, message).
    public var log: @Sendable (String, String) -> Void
    /// `cx.each` progress (done, total); nil for none.
    public var progress: (@Sendable (Int, Int) -> Void)?
    /// `cx.each`'s default concurrency.
    public var concurrency: Int
    /// Seconds added to the machine's clock in `os.time()` and `os.date()`: a test tenant keeps a
    /// clock of its own (pinned), and a script run against it reads that one.
    public var clockOffset: Double = 0

    public init(
        args: [String] = [], runInfo: LuaValue = .object([:]), modules: ModuleResolver,
        output: @escaping @Sendable (String) -> Void, log: @escaping @Sendable (String, String) -> Void,
        progress: (@Sendable (Int, Int) -> Void)? = nil, concurrency: Int = 4
    ) {
        self.args = args
        self.runInfo = runInfo
        self.modules = modules
        self.output = output
        self.log = log
        self.progress = progress
        self.concurrency = concurrency
    }
}

extension LuaVM {
    /// Builds the sandbox environment; returns its registry reference.
    /// `bindings` become globals and fields of `cx`.
    func installSandbox(_ options: SandboxOptions, bindings: BindingSet = BindingSet()) throws(LuaHostError) -> Int32 {
        guard cxb_open_safe_libs(L) == LUA_OK else { throw .setupFailed(popMessage()) }
        cxb_push_null_sentinel(L)
        nullPointer = UnsafeRawPointer(lua_touserdata(L, -1))
        nullRef = cxb_ref(L)
        (arrayMetatableRef, arrayMetatable) = newAnchoredTable()
        (errorMetatableRef, _) = newAnchoredTable()
        (taskMetatableRef, taskMetatable) = newAnchoredTable()

        guard loadText(sandboxPreludeSource, chunkName: preludeChunkName) == LUA_OK else { throw .setupFailed(popMessage()) }
        cxb_push_globals(L)
        lua_createtable(L, 0, 20)
        lua_pushlightuserdata(L, cxb_yield_marker())
        lua_setfield(L, -2, "marker")
        cxb_getref(L, nullRef)
        lua_setfield(L, -2, "null")
        for (name, ref) in [("array_mt", arrayMetatableRef), ("error_mt", errorMetatableRef), ("task_mt", taskMetatableRef)] {
            cxb_getref(L, ref)
            lua_setfield(L, -2, name)
        }
        do {
            try push(.array(options.args.map(LuaValue.string)), on: L)
            lua_setfield(L, -2, "args")
            try push(options.runInfo, on: L)
            lua_setfield(L, -2, "run")
        } catch {
            throw .setupFailed("script arguments: \(error.description)")
        }
        lua_pushinteger(L, lua_Integer(max(1, options.concurrency)))
        lua_setfield(L, -2, "concurrency")
        lua_pushboolean(L, options.clockOffset != 0 ? 1 : 0)
        lua_setfield(L, -2, "clock_offset")
        for (field, functions) in [("bindings", bindings.globals), ("hidden", bindings.hidden)] {
            lua_createtable(L, 0, Int32(functions.count))
            for (name, function) in functions {
                pushFunction(function)
                lua_setfield(L, -2, name)
            }
            lua_setfield(L, -2, field)
        }
        do {
            try push(.array(bindings.extensions.map(LuaValue.string)), on: L)
        } catch {
            throw .setupFailed("extensions: \(error.description)")
        }
        lua_setfield(L, -2, "extensions")
        for (name, function) in hostFunctions(options) {
            pushFunction(function)
            lua_setfield(L, -2, name)
        }
        lua_pushcclosure(L, cxb_contained_call, 0)
        lua_setfield(L, -2, "contained_call")
        lua_pushcclosure(L, cxb_origin_msgh, 0)
        lua_setfield(L, -2, "note_origin")
        guard cxb_pcall_traceback(L, 2, 1) == LUA_OK else { throw .setupFailed(popMessage()) }
        return cxb_ref(L)
    }

    private func newAnchoredTable() -> (Int32, UnsafeRawPointer?) {
        lua_createtable(L, 0, 4)
        let pointer = lua_topointer(L, -1)
        return (cxb_ref(L), pointer)
    }

    func popMessage() -> String {
        cxb_safe_tostring(L, -1)
        let message = string(at: -1, on: L)
        cxb_pop(L, 2)
        return message
    }

    /// The host side of print, log, require, and the scheduler's spawn/wait/sleep.
    private func hostFunctions(_ options: SandboxOptions) -> [(String, LuaFunction)] {
        let output = options.output, log = options.log, progress = options.progress, modules = options.modules
        let offset = options.clockOffset
        return [
            // os.time() on the shifted clock, in whole seconds as os.time gives them: the offset
            // added to this machine's time to the fraction, so a clock pinned at 03:00:00 reads
            // 03:00:00 from its first instant, not 02:59:59.
            ("shifted_time", { call throws(ScriptError) in
                try call.returning(.int(Int64((Date().timeIntervalSince1970 + offset).rounded(.down))))
            }),
            ("write", { call throws(ScriptError) in
                if let text = call.string(1) { output(text) }
                return .values(0)
            }),
            ("log", { call throws(ScriptError) in
                log(call.string(1) ?? "info", call.string(2) ?? "")
                return .values(0)
            }),
            ("progress", { call throws(ScriptError) in
                if let progress, let done = call.number(1), let total = call.number(2) {
                    progress(Int(done), Int(total))
                }
                return .values(0)
            }),
            ("readmodule", { call throws(ScriptError) in
                guard let name = call.string(1) else { return try call.returning(false, "require: module name must be a string") }
                switch modules.resolve(name) {
                case .success(let module):
                    return try call.returning(.string(module.source), .string(module.chunkName), .bool(module.isStdlib))
                case .failure(let error):
                    return try call.returning(false, .string(error.description))
                }
            }),
            ("spawn", { call throws(ScriptError) in
                guard lua_type(call.L, 1) == LUA_TFUNCTION else { throw call.argumentError(1, "spawn", expected: "function") }
                guard let scheduler = call.vm.scheduler else { throw .message("cx.spawn: no scheduler is running") }
                let id = scheduler.spawn(from: call.L, argCount: call.count - 1)
                call.vm.pushTaskHandle(id, on: call.L)
                return .values(1)
            }),
            ("wait", { call throws(ScriptError) in
                guard let id = call.vm.taskID(at: 1, on: call.L) else { throw call.argumentError(1, "wait", expected: "task") }
                guard let scheduler = call.vm.scheduler, scheduler.exists(id) else { throw .message("cx.wait: unknown task") }
                if id == scheduler.current { throw .message("cx.wait: a task cannot wait for itself") }
                guard scheduler.isFinished(id) else { return .suspend(.task(id)) }
                lua_settop(call.L, 0)
                guard let count = scheduler.pushOutcome(of: id, on: call.L) else { return .raiseTop }
                return .values(count)
            }),
            ("sleep", { call throws(ScriptError) in
                guard let seconds = call.number(1), seconds >= 0, seconds.isFinite else {
                    throw call.argumentError(1, "sleep", expected: "non-negative number")
                }
                return .suspend(.sleep(seconds))
            }),
        ]
    }

    func pushTaskHandle(_ id: Int, on state: OpaquePointer) {
        lua_createtable(state, 0, 1)
        lua_pushinteger(state, lua_Integer(id))
        lua_setfield(state, -2, "id")
        cxb_getref(state, taskMetatableRef)
        lua_setmetatable(state, -2)
    }

    func taskID(at index: Int32, on state: OpaquePointer) -> Int? {
        guard lua_type(state, index) == LUA_TTABLE, lua_getmetatable(state, index) != 0 else { return nil }
        let isTask = lua_topointer(state, -1) == taskMetatable
        cxb_pop(state, 1)
        guard isTask else { return nil }
        lua_pushstring(state, "id")
        lua_rawget(state, index < 0 ? index - 1 : index)
        defer { cxb_pop(state, 1) }
        return cxb_isinteger(state, -1) != 0 ? Int(cxb_tointeger(state, -1)) : nil
    }
}
