// libFuzzer target for the Lua ↔ Swift value bridge (LuaHost's ValueBridge). The input is a small
// program for a stack machine that builds Lua values through the C API — tables nested, shared
// and cyclic, integer/float/string keys that may collide, strings that are not UTF-8, NaN and
// infinities, functions, coroutines, metatables, the array mark and cx.null — or, when its first
// byte is odd, JSON text to push into Lua. Properties: conversion returns a value or a typed
// error, never a crash; it leaves the Lua stack as it was; a value it returns accounts for every
// entry of the Lua table (nothing dropped or merged silently); pushing that value and reading it
// back gives it again; and JSON pushed into Lua reads back unchanged.
import CLua
import CLuaBridge
import Foundation
import FuzzSupport
import JSONCore

@testable import LuaHost

/// One VM for the process: building it per input would cost more than the input itself.
nonisolated(unsafe) let vm: LuaVM = {
    do {
        let vm = try LuaVM(limits: LuaLimits(memoryBytes: 256 << 20, instructions: 0, timeout: 0))
        _ = try vm.installSandbox(SandboxOptions(modules: ModuleResolver(stdlib: nil, scriptDirectory: nil), output: { _ in }, log: { _, _ in }))
        return vm
    } catch {
        fatalError("the fuzz target's Lua state: \(error)")
    }
}()

/// Reads the input a byte or a word at a time; past the end it reads zeros.
struct Bytes {
    let base: UnsafePointer<UInt8>
    let count: Int
    var at = 0
    var atEnd: Bool { at >= count }
    mutating func byte() -> UInt8 {
        defer { at += 1 }
        return at < count ? base[at] : 0
    }
    mutating func word() -> UInt64 {
        var w: UInt64 = 0
        for _ in 0..<8 { w = w << 8 | UInt64(byte()) }
        return w
    }
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in byte() } }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBridge(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let L = vm.L
    lua_settop(L, 0)
    defer { lua_settop(L, 0) }
    var input = Bytes(base: start.assumingMemoryBound(to: UInt8.self), count: count)
    if input.byte() & 1 == 1 {
        checkJSON(Data(bytes: start + 1, count: max(0, count - 1)))
    } else {
        build(&input, on: L)
        if lua_gettop(L) > 0 { checkConversion(of: lua_gettop(L), on: L) }
    }
    return 0
}

/// JSON text pushed into Lua reads back as the same value.
func checkJSON(_ data: Data) {
    guard let value = try? JSONValue.parse(data) else { return }
    let L = vm.L
    do {
        try vm.push(value, on: L)
    } catch {
        return  // refused (too deep, over memory): a typed error is the contract
    }
    guard let back = try? vm.value(at: -1, on: L) else { fatalError("pushed JSON does not read back: \(value.jsonString())") }
    guard back == value else { fatalError("JSON changed crossing into Lua and back: \(value.jsonString()) → \(back.jsonString())") }
}

/// Runs the stack-machine program: at most 64 values on the stack, at most 4,000 operations.
func build(_ input: inout Bytes, on L: OpaquePointer) {
    var steps = 0
    while !input.atEnd && steps < 4_000 {
        steps += 1
        let op = input.byte() % 18
        let top = lua_gettop(L)
        guard top < 64 || op >= 7 else { cxb_pop(L, 1); continue }
        // The C API promises only LUA_MINSTACK free slots: ask for room before pushing.
        guard lua_checkstack(L, 4) != 0 else { fatalError("no Lua stack for a 64-value program") }
        switch op {
        case 0: lua_pushnil(L)
        case 1: lua_pushboolean(L, Int32(input.byte() & 1))
        case 2: lua_pushinteger(L, lua_Integer(Int64(bitPattern: input.word())))
        case 3: lua_pushnumber(L, Double(bitPattern: input.word()))  // NaN, infinities, -0.0, subnormals
        case 4: lua_pushinteger(L, lua_Integer(Int8(bitPattern: input.byte())))
        case 5:
            let s = input.bytes(Int(input.byte() % 24))
            s.withUnsafeBytes { buf in _ = lua_pushlstring(L, buf.baseAddress?.assumingMemoryBound(to: CChar.self), buf.count) }
        case 6: lua_createtable(L, 0, 0)
        case 7 where top >= 3 && lua_type(L, -3) == LUA_TTABLE && usableKey(at: -2, on: L):
            lua_rawset(L, -3)  // t[k] = v, popping both
        case 8 where top >= 2 && lua_type(L, -2) == LUA_TTABLE:
            lua_rawseti(L, -2, lua_Integer(Int8(bitPattern: input.byte())))
        case 9 where top >= 1 && lua_type(L, -1) == LUA_TTABLE:
            cxb_getref(L, vm.arrayMetatableRef)
            lua_setmetatable(L, -2)
        case 10 where top >= 1:
            lua_pushvalue(L, Int32(input.byte()) % top + 1)  // shares a value: with 7 or 8, cycles
        case 11: cxb_getref(L, vm.nullRef)
        case 12: _ = lua_getglobal(L, "tostring")
        case 13: _ = lua_newthread(L)
        case 14 where top >= 1 && lua_type(L, -1) == LUA_TTABLE:
            lua_createtable(L, 0, 1)  // a metatable the bridge must ignore (it reads raw)
            lua_pushnil(L)
            lua_setfield(L, -2, "__index")
            lua_setmetatable(L, -2)
        case 15 where top >= 1: cxb_pop(L, 1)
        case 16 where top >= 2: lua_rotate(L, Int32(input.byte()) % top + 1, 1)
        case 17: lua_pushlightuserdata(L, UnsafeMutableRawPointer(bitPattern: 0x10))
        default: break
        }
    }
}

/// The string at `index` when its bytes are valid UTF-8 (the harness's own check, not the bridge's).
func validUTF8(at index: Int32, on L: OpaquePointer) -> String? {
    var len = 0
    guard let p = cxb_tolstring_raw(L, index, &len) else { return nil }
    return String(validating: UnsafeRawBufferPointer(start: p, count: len).bindMemory(to: UInt8.self), as: UTF8.self)
}

/// Keys raw-setting accepts without raising (nil and NaN keys raise).
func usableKey(at index: Int32, on L: OpaquePointer) -> Bool {
    switch lua_type(L, index) {
    case LUA_TNIL: return false
    case LUA_TNUMBER where cxb_isinteger(L, index) == 0: return !cxb_tonumber(L, index).isNaN
    default: return true
    }
}

/// Converts the value at `index` and checks the properties in the file's heading.
func checkConversion(of index: Int32, on L: OpaquePointer) {
    let top = lua_gettop(L)
    let converted: LuaValue
    do {
        converted = try vm.value(at: index, on: L)
    } catch {
        guard lua_gettop(L) == top else { fatalError("a refused conversion left the stack at \(lua_gettop(L)), was \(top): \(error)") }
        guard case .conversion(let message) = error, !message.isEmpty else { fatalError("an untyped or empty conversion error: \(error)") }
        return
    }
    guard lua_gettop(L) == top else { fatalError("a conversion left the stack at \(lua_gettop(L)), was \(top)") }
    accountsForEveryEntry(converted, index, on: L)
    do {
        try vm.push(converted, on: L)
    } catch {
        fatalError("a converted value does not push back: \(error) — \(converted.jsonString())")
    }
    guard let again = try? vm.value(at: -1, on: L) else { fatalError("a converted value, pushed back, does not read: \(converted.jsonString())") }
    guard again == converted else { fatalError("a value changed crossing again: \(converted.jsonString()) → \(again.jsonString())") }
    cxb_pop(L, 1)
}

/// A converted table has as many items or fields as the Lua table has entries, level by level.
func accountsForEveryEntry(_ value: LuaValue, _ index: Int32, on L: OpaquePointer) {
    guard lua_type(L, index) == LUA_TTABLE else { return }
    let index = lua_absindex(L, index)
    guard lua_checkstack(L, 4) != 0 else { fatalError("no Lua stack to walk a converted table") }
    var entries = 0
    lua_pushnil(L)
    while lua_next(L, index) != 0 {
        entries += 1
        switch value {
        case .array(let items):
            let i = Int(cxb_tointeger(L, -2))
            if i >= 1 && i <= items.count { accountsForEveryEntry(items[i - 1], -1, on: L) }
        case .object(let fields):
            var key: String?
            switch lua_type(L, -2) {
            case LUA_TSTRING:
                guard let text = validUTF8(at: -2, on: L) else { fatalError("a key that is not UTF-8 was converted (repaired): \(value.jsonString())") }
                key = text
            case LUA_TNUMBER where cxb_isinteger(L, -2) != 0: key = String(cxb_tointeger(L, -2))
            default: key = nil
            }
            if let key {
                guard let field = fields[key] else { fatalError("the key \(key) is missing from \(value.jsonString())") }
                accountsForEveryEntry(field, -1, on: L)
            }
        default: fatalError("a table converted to a scalar: \(value.jsonString())")
        }
        cxb_pop(L, 1)
    }
    let converted: Int
    switch value {
    case .array(let items): converted = items.count
    case .object(let fields): converted = fields.count
    default: converted = -1
    }
    guard converted == entries else {
        fatalError("a table of \(entries) entries converted to \(converted): \(value.jsonString())")
    }
}

#if !FUZZING
@main enum ReplayBridge {
    static func main() { FuzzReplay.main(name: "fuzz-bridge", fuzzBridge) }
}
#endif
