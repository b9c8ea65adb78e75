import CLua
import CLuaBridge
import Testing

@testable import LuaHost

/// A VM with the sandbox installed, for direct push/read round trips.
private func makeVM() throws -> LuaVM {
    let vm = try LuaVM(limits: testLimits)
    let options = SandboxOptions(modules: ModuleResolver(stdlib: nil, scriptDirectory: nil), output: { _ in }, log: { _, _ in })
    _ = try vm.installSandbox(options)
    return vm
}

private func roundTrip(_ value: LuaValue) throws -> LuaValue {
    let vm = try makeVM()
    try vm.push(value, on: vm.L)
    defer { cxb_pop(vm.L, 1) }
    return try vm.value(at: -1, on: vm.L)
}

@Suite("Value bridging")
struct ValueBridgeTests {
    @Test(arguments: [
        LuaValue.null, .bool(true), .bool(false), .int(0), .int(Int64.max), .int(Int64.min), .double(1.5), .double(-0.25),
        .string(""), .string("héllo ✓"), .string("nul\u{0}inside"), .array([]), .object([:]),
        .array([1, "two", 3.5, .null, .bool(true)]),
        .object(["a": 1, "b": ["c": [1, 2, ["d": .null]]], "e": .array([])]),
    ])
    func roundTripsEveryKind(_ value: LuaValue) async throws {
        #expect(try roundTrip(value) == value)
    }

    /// A binding's results are pushed draining: the Lua copy is the same, the Swift one is gone.
    @Test func drainingPushGivesTheSameValueAndReleasesIt() async throws {
        let vm = try makeVM()
        for original: LuaValue in [.array([1, "two", ["x": .array([])], .null]), .array([]), ["a": 1], "text", 7] {
            var value = original
            try vm.pushDraining(&value, on: vm.L)
            #expect(value == .null)
            #expect(try vm.value(at: -1, on: vm.L) == original)
            cxb_pop(vm.L, 1)
        }
        var deep = LuaValue.int(1)
        for _ in 0..<10_000 { deep = .array([deep]) }
        let top = lua_gettop(vm.L)
        #expect(throws: LuaHostError.self) { try vm.pushDraining(&deep, on: vm.L) }
        #expect(lua_gettop(vm.L) == top)
    }

    @Test func hugeStringRoundTrips() async throws {
        let big = String(repeating: "abcdefgh", count: 1 << 20)  // 8 MiB
        #expect(try roundTrip(.string(big)) == .string(big))
    }

    @Test func deepSwiftValueIsRefusedNotCrashing() async throws {
        var value = LuaValue.int(1)
        for _ in 0..<10_000 { value = .array([value]) }
        let vm = try makeVM()
        let top = lua_gettop(vm.L)
        #expect(throws: LuaHostError.self) { try vm.push(value, on: vm.L) }
        #expect(lua_gettop(vm.L) == top)
    }

    @Test func valuesAt200LevelsConvert() async throws {
        var value = LuaValue.int(1)
        for _ in 0..<maxValueDepth { value = .array([value]) }
        #expect(try roundTrip(value) == value)
    }

    @Test func scriptTablesBecomeArraysOrObjects() async {
        let output = await expectSuccess(#"""
            local function show(v) local r = echo(v) return r end
            local a = show({1, 2, 3})
            assert(#a == 3 and a[3] == 3 and getmetatable(a) == "array")
            local holes = show({1, 2, nil, 4})
            assert(holes["1"] == 1 and holes["4"] == 4, "holes make an object with string keys")
            local empty = show({})
            assert(next(empty) == nil and getmetatable(empty) == nil, "empty table is an object")
            local marked = show(cx.array{})
            assert(getmetatable(marked) == "array", "cx.array keeps an empty array an array")
            local mixed = show({1, 2, x = "y"})
            assert(mixed["1"] == 1 and mixed.x == "y")
            local withNull = show({a = cx.null, b = {cx.null, 2}})
            assert(withNull.a == cx.null and withNull.b[1] == cx.null)
            assert(echo(nil) == cx.null, "nil crosses as null")
            print(math.type(show(3)), math.type(show(3.0)), show(2^53))
            """#)
        #expect(output == "integer\tfloat\t9.007199254741e+15\n")
    }

    @Test func cyclesAndDepthAreErrors() async {
        await expectSuccess(#"""
            local t = {} t.self = t
            local ok, err = pcall(echo, t)
            assert(not ok and err:find("cycle at self", 1, true), err)
            local deep = {}
            local cur = deep
            for i = 1, 10000 do cur.next = {} cur = cur.next end
            ok, err = pcall(echo, deep)
            assert(not ok and err:find("deeper than 200", 1, true), err)
            ok, err = pcall(echo, {f = print})
            assert(not ok and err:find("cannot convert a function value at f", 1, true), err)
            ok, err = pcall(echo, {[true] = 1})
            assert(not ok and err:find("boolean key", 1, true), err)
            local shared = {1}
            local r = echo({a = shared, b = shared})
            assert(r.a[1] == 1 and r.b[1] == 1, "a table seen twice is not a cycle")
            """#)
    }

    /// Refused, never repaired into U+FFFD: a value crossing to the host is what the script made.
    @Test func invalidUTF8AndNumbersJSONCannotCarryAreRefusedNamingThePath() async {
        let output = await expectSuccess(#"""
            local ok, err = pcall(echo, "ok\xff\xfe end")
            print(ok, err)
            ok, err = pcall(echo, {queue = {names = {"fine", "caf\xe9"}}})
            print(ok, err)
            ok, err = pcall(echo, {x = 0/0, y = 1})
            print(ok, err)
            print(echo("caf\xc3\xa9"), echo(1.5))
            -- A cut four-byte sequence before a letter: repaired, it would be as long as it is.
            print(pcall(echo, {a = {"\xf0\x90\x80A"}}))
            """#)
        #expect(output == """
            false\tbad argument #1: invalid UTF-8 in a string
            false\tbad argument #1: invalid UTF-8 in a string at queue.names[2]
            false\tbad argument #1: NaN is not a number JSON can carry at x
            café\t1.5
            false\tbad argument #1: invalid UTF-8 in a string at a[1]

            """, "\(output)")
    }

    /// Found by the bridge's fuzz target: object keys are refused too, never repaired or merged.
    @Test func keysThatWouldRepairOrMergeAreRefused() async {
        let output = await expectSuccess(#"""
            print(pcall(echo, {[1] = "a", ["1"] = "b", [3] = "c"}))
            print(pcall(echo, {q = {["caf\xe9"] = 1}}))
            print(pcall(echo, {[1.5] = true, ["1.5"] = false}))
            print(pcall(echo, {q = {list = {1, {[7] = 1, ["7"] = 2}}}}))
            print(pcall(echo, {["caf\u{E9}"] = 1, ["cafe\u{301}"] = 2}))
            local r = echo({[2] = "two", ["x"] = 1})
            print(r["2"], r.x)
            """#)
        #expect(output == """
            false\tbad argument #1: two keys become the object key "1" (a number and a string)
            false\tbad argument #1: invalid UTF-8 in an object key at q
            false\tbad argument #1: two keys become the object key "1.5" (a number and a string)
            false\tbad argument #1: two keys become the object key "7" (a number and a string) at q.list[2]
            false\tbad argument #1: two keys become the object key "caf\u{E9}" (written in two Unicode normalizations)
            two\t1

            """, "\(output)")
    }

    @Test func hugeStringsCrossTheBoundary() async {
        await expectSuccess(#"""
            local s = string.rep("x", 8 * 1024 * 1024)
            assert(echo(s) == s)
            assert(#big_string(4) == 4 * 1024 * 1024)
            """#)
    }
}
