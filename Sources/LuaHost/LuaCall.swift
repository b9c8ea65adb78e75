import JSONCore
import CLua
import CLuaBridge

/// The arguments and results of one binding call, on the calling coroutine's stack.
public struct LuaCall {
    let L: OpaquePointer
    unowned(unsafe) let vm: LuaVM

    /// Number of arguments passed.
    public var count: Int32 { lua_gettop(L) }

    /// Argument `index` (1-based) converted to a value; functions and threads are an error.
    public func value(_ index: Int32, name: String? = nil) throws(ScriptError) -> LuaValue {
        if index > count { return .null }
        do {
            return try vm.value(at: index, on: L)
        } catch {
            throw .message("bad argument #\(index)\(name.map { " (\($0))" } ?? ""): \(error.description)")
        }
    }

    /// Argument `index` converted, or the conversion's own error (a value JSON cannot carry, at its path).
    public func convertedValue(_ index: Int32) throws(LuaHostError) -> LuaValue {
        index > count ? .null : try vm.value(at: index, on: L)
    }

    /// Argument `index` as a string (numbers are not converted), or nil.
    public func string(_ index: Int32) -> String? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        return vm.string(at: index, on: L)
    }

    /// Argument `index` as a number, or nil.
    public func number(_ index: Int32) -> Double? {
        guard lua_type(L, index) == LUA_TNUMBER else { return nil }
        return cxb_tonumber(L, index)
    }

    /// Lua type name of argument `index` ("no value" past the end).
    public func typeName(_ index: Int32) -> String {
        String(cString: lua_typename(L, lua_type(L, index)))
    }

    /// Pushes the values and returns them as the call's results.
    public func returning(_ values: LuaValue...) throws(ScriptError) -> LuaReply {
        try returning(values)
    }

    /// Pushes the values and returns them as the call's results.
    public func returning(_ values: [LuaValue]) throws(ScriptError) -> LuaReply {
        guard lua_checkstack(L, Int32(clamping: values.count) + 2) != 0 else {
            throw .message("too many results (\(values.count))")
        }
        do {
            for v in values { try vm.push(v, on: L) }
        } catch {
            throw .message(error.description)
        }
        return .values(Int32(values.count))
    }

    /// An error for a missing or mistyped argument, naming the binding.
    public func argumentError(_ index: Int32, _ function: String, expected: String) -> ScriptError {
        .message("bad argument #\(index) to '\(function)' (\(expected) expected, got \(typeName(index)))")
    }
}
