#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JSONCore
import CLua
import CLuaBridge

/// Tables nested deeper than this do not convert (an error, never a crash).
public let maxValueDepth = 200

/// Lua ↔ LuaValue conversion. Uses raw accessors only: no metamethod runs, so nothing here
/// can raise a Lua error (longjmp) through a Swift frame.
extension LuaVM {
    /// Pushes `value`; arrays carry the array mark so `{}` stays an array on the way back.
    /// Values nested deeper than `maxValueDepth` are refused and leave the stack as it was.
    func push(_ value: LuaValue, on state: OpaquePointer) throws(LuaHostError) {
        let top = lua_gettop(state)
        do {
            try pushChecked(value, on: state, depth: 0)
        } catch {
            lua_settop(state, top)
            throw error
        }
    }

    /// Pushes `value` and leaves `.null` in its place. A top-level array's items are released one
    /// by one as their Lua copies are made, so a large result (50,000 agents) is not held twice,
    /// in Swift and in Lua, for the whole conversion. Refused values leave the stack as it was.
    func pushDraining(_ value: inout LuaValue, on state: OpaquePointer) throws(LuaHostError) {
        var taken = LuaValue.null
        swap(&taken, &value)
        guard case .array = taken else { return try push(taken, on: state) }
        try checkRoom(for: taken, on: state, depth: 0)
        guard case .array(var items) = consume taken else { return }
        let top = lua_gettop(state)
        do {
            try pushArray(items.count, on: state) { i throws(LuaHostError) in
                try pushChecked(items[i], on: state, depth: 1)
                items[i] = .null
            }
        } catch {
            lua_settop(state, top)
            throw error
        }
    }

    /// Refuses a value nested too deep, one with no Lua stack left, or one the memory cap has no room for.
    private func checkRoom(for value: LuaValue, on state: OpaquePointer, depth: Int) throws(LuaHostError) {
        guard depth <= maxValueDepth else {
            throw .conversion("value nesting deeper than \(maxValueDepth) levels")
        }
        guard lua_checkstack(state, 4) != 0 else { throw .conversion("out of Lua stack") }
        guard cxb_host_can_allocate(runtime, value.shallowSize) != 0 else {
            trip(CXB_LIMIT_MEMORY)  // host data would overdraw the reserve: the run is over its memory
            throw .conversion("memory limit exceeded (\(cxb_memory_cap(runtime) >> 20) MiB)")
        }
    }

    /// A Lua array of `count` items, each pushed by `item(i)`, with the array mark.
    private func pushArray(_ count: Int, on state: OpaquePointer, _ item: (Int) throws(LuaHostError) -> Void) throws(LuaHostError) {
        lua_createtable(state, Int32(clamping: count), 0)
        for i in 0..<count {
            try item(i)
            lua_rawseti(state, -2, lua_Integer(i + 1))
        }
        cxb_getref(state, arrayMetatableRef)
        lua_setmetatable(state, -2)
    }

    private func pushChecked(_ value: LuaValue, on state: OpaquePointer, depth: Int) throws(LuaHostError) {
        try checkRoom(for: value, on: state, depth: depth)
        switch value {
        case .null:
            cxb_getref(state, nullRef)
        case .bool(let b):
            lua_pushboolean(state, b ? 1 : 0)
        case .int(let i):
            lua_pushinteger(state, lua_Integer(i))
        case .double(let d):
            lua_pushnumber(state, d)
        case .string(let s):
            pushString(s, on: state)
        case .array(let items):
            try pushArray(items.count, on: state) { i throws(LuaHostError) in try pushChecked(items[i], on: state, depth: depth + 1) }
        case .object(let fields):
            lua_createtable(state, 0, Int32(clamping: fields.count))
            for (key, item) in fields {
                pushString(key, on: state)
                try pushChecked(item, on: state, depth: depth + 1)
                lua_rawset(state, -3)
            }
        }
    }

    /// Pushes a string the host made (already bounded by the caller).
    func pushString(_ s: String, on state: OpaquePointer) {
        var s = s
        s.withUTF8 { buf in _ = lua_pushlstring(state, buf.baseAddress, buf.count) }
    }

    /// The string at `index` (must be a string); invalid UTF-8 becomes U+FFFD.
    func string(at index: Int32, on state: OpaquePointer) -> String {
        var len = 0
        guard let p = cxb_tolstring_raw(state, index, &len) else { return "" }
        return p.withMemoryRebound(to: UInt8.self, capacity: len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
        }
    }

    /// The string at `index` (must be a string), or nil when it is not valid UTF-8.
    func validString(at index: Int32, on state: OpaquePointer) -> String? {
        var len = 0
        guard let p = cxb_tolstring_raw(state, index, &len) else { return "" }
        let bytes = UnsafeRawBufferPointer(start: p, count: len).bindMemory(to: UInt8.self)
        // Decoded (repairing), then compared: the text is valid exactly when nothing was
        // repaired. String(validating:) does the same check through unspecialized generic
        // code that cost ~1,000 instructions a string; every key and value of a payload comes here.
        var text = String(decoding: bytes, as: UTF8.self)
        let same = text.withUTF8 { $0.count == len && (len == 0 || memcmp($0.baseAddress!, p, len) == 0) }
        return same ? text : nil
    }

    /// Converts the value at `index`. Guards against cycles and depth; names the path on error.
    func value(at index: Int32, on state: OpaquePointer) throws(LuaHostError) -> LuaValue {
        var walk = Walk()
        return try convert(lua_absindex(state, index), state, &walk)
    }

    /// Where a conversion is: the path (for errors), the tables on it (a table met again on its
    /// own path is a cycle; a short array, searched, where a set hashed every table twice), and
    /// the members of the objects being read, innermost last (one buffer for the whole value
    /// instead of an array grown per table).
    private struct Walk {
        var path: [PathStep] = []
        var tables: [UnsafeRawPointer] = []
        var members: [(String, LuaValue)] = []
    }

    private func convert(_ idx: Int32, _ state: OpaquePointer, _ walk: inout Walk) throws(LuaHostError) -> LuaValue {
        switch lua_type(state, idx) {
        case LUA_TNIL, LUA_TNONE:
            return .null
        case LUA_TBOOLEAN:
            return .bool(lua_toboolean(state, idx) != 0)
        case LUA_TNUMBER:
            if cxb_isinteger(state, idx) != 0 { return .int(Int64(cxb_tointeger(state, idx))) }
            let d = cxb_tonumber(state, idx)
            // Refused, not repaired: JSON has no NaN or infinity, and nothing downstream may guess one.
            guard d.isFinite else { throw .conversion("\(d.isNaN ? "NaN" : d > 0 ? "inf" : "-inf") is not a number JSON can carry\(Self.describe(walk.path))") }
            return .double(d)
        case LUA_TSTRING:
            // Invalid UTF-8 is an error naming the path, never silently replaced by U+FFFD.
            guard let text = validString(at: idx, on: state) else {
                throw .conversion("invalid UTF-8 in a string\(Self.describe(walk.path))")
            }
            return .string(text)
        case LUA_TUSERDATA where lua_touserdata(state, idx) == UnsafeMutableRawPointer(mutating: nullPointer):
            return .null
        case LUA_TTABLE:
            return try convertTable(idx, state, &walk)
        case let t:
            throw .conversion("cannot convert a \(String(cString: lua_typename(state, t))) value\(Self.describe(walk.path))")
        }
    }

    private func convertTable(_ idx: Int32, _ state: OpaquePointer, _ walk: inout Walk) throws(LuaHostError) -> LuaValue {
        guard let ptr = lua_topointer(state, idx) else { return .null }
        if walk.tables.contains(ptr) { throw .conversion("table contains a cycle\(Self.describe(walk.path))") }
        if walk.path.count >= maxValueDepth {
            throw .conversion("table nesting deeper than \(maxValueDepth) levels\(Self.describe(walk.path))")
        }
        guard lua_checkstack(state, 6) != 0 else { throw .conversion("out of Lua stack\(Self.describe(walk.path))") }
        walk.tables.append(ptr)
        defer { walk.tables.removeLast() }

        var markedArray = false
        if lua_getmetatable(state, idx) != 0 {
            markedArray = lua_topointer(state, -1) == arrayMetatable
            cxb_pop(state, 1)
        }
        let n = Int(lua_rawlen(state, idx))
        var count = 0
        var sequence = n > 0 || markedArray
        // A table with no border (rawlen 0) that is not marked is an object or empty: no need
        // to walk it twice to find out.
        if sequence {
            lua_pushnil(state)
            while lua_next(state, idx) != 0 {
                count += 1
                if sequence {
                    let k = cxb_isinteger(state, -2) != 0 ? Int(cxb_tointeger(state, -2)) : 0
                    sequence = k >= 1 && k <= n
                }
                cxb_pop(state, 1)
            }
        }
        if sequence && count == n {
            var items: [LuaValue] = []
            items.reserveCapacity(n)
            for i in 1...max(n, 1) where n > 0 {
                lua_rawgeti(state, idx, lua_Integer(i))
                walk.path.append(.index(i))
                defer { walk.path.removeLast() }
                do {
                    items.append(try convert(lua_gettop(state), state, &walk))
                } catch {
                    cxb_pop(state, 1)
                    throw error
                }
                cxb_pop(state, 1)
            }
            return .array(items)
        }
        if markedArray {
            throw .conversion("table marked with cx.array has keys other than 1..n\(Self.describe(walk.path))")
        }
        // Collected first, the dictionary made once at its size (Lua does not say how many
        // keys a table has; growing the dictionary key by key rehashed it over and over).
        let base = walk.members.count
        defer { walk.members.removeSubrange(base...) }
        lua_pushnil(state)
        while lua_next(state, idx) != 0 {
            let key: String
            switch lua_type(state, -2) {
            case LUA_TSTRING:
                guard let text = validString(at: -2, on: state) else {
                    cxb_pop(state, 2)
                    throw .conversion("invalid UTF-8 in an object key\(Self.describe(walk.path))")
                }
                key = text
            case LUA_TNUMBER where cxb_isinteger(state, -2) != 0:
                key = String(cxb_tointeger(state, -2))
            case LUA_TNUMBER:
                key = String(cxb_tonumber(state, -2))
            case let t:
                cxb_pop(state, 2)
                throw .conversion(
                    "a \(String(cString: lua_typename(state, t))) key cannot become an object key\(Self.describe(walk.path))")
            }
            walk.path.append(.key(key))
            defer { walk.path.removeLast() }
            let value: LuaValue
            do {
                value = try convert(lua_gettop(state), state, &walk)
            } catch {
                cxb_pop(state, 2)
                throw error
            }
            walk.members.append((key, value))
            cxb_pop(state, 1)
        }
        let members = walk.members[base...]
        let fields = Dictionary(members, uniquingKeysWith: { first, _ in first })
        guard fields.count == members.count else {
            // 1 and "1" (or 1.5 and "1.5") are two Lua keys but one JSON key: refused, never
            // merged. So are "é" and "e" + U+0301, two byte strings a Swift dictionary takes for one.
            guard let repeated = RepeatedKey.first(in: members.lazy.map(\.0)) else {
                throw .conversion("two keys become one object key\(Self.describe(walk.path))")
            }
            let why = repeated.otherBytes ? "written in two Unicode normalizations" : "a number and a string"
            throw .conversion("two keys become the object key \"\(repeated.key)\" (\(why))\(Self.describe(walk.path))")
        }
        return .object(fields)
    }

    /// A step of the path to a value, for errors (kept unformatted: most conversions never fail).
    enum PathStep {
        case key(String)
        case index(Int)
    }

    private static func describe(_ path: some Collection<PathStep>) -> String {
        guard !path.isEmpty else { return "" }
        var out = ""
        for step in path {
            switch step {
            case .index(let i): out += "[\(i)]"
            case .key(let key): out += out.isEmpty ? key : ".\(key)"
            }
        }
        return " at \(out)"
    }
}
