import Foundation
import Testing
import TestSupport

@testable import LuaHost

/// The global names a script reads and writes, read from its compiled chunk, are those luac
/// itself lists: every Lua file of the repository (runbooks, the stdlib, the host's own Lua) is
/// compared with `luac5.4 -l -l`, access by access, line by line.
@Suite("Global accesses")
struct GlobalAccessTests {
    @Test func theAccessesAreLuacsForEveryLuaFileOfTheRepository() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        var files: [String] = []
        for folder in ["scripts", "stdlib", "Sources/LuaHost/Lua", "Sources/Runbook/Lua"] {
            let base = root + "/" + folder
            for case let path as String in FileManager.default.enumerator(atPath: base) ?? NSEnumerator() where path.hasSuffix(".lua") {
                files.append(base + "/" + path)
            }
        }
        // And a long one: lines kept absolute every 128 instructions and after a jump of 300 lines.
        let long = FileManager.default.temporaryDirectory.appendingPathComponent("long-\(UUID().uuidString).lua").path
        defer { try? FileManager.default.removeItem(atPath: long) }
        let body = (0..<600).map { "v\($0) = (v\($0) or 0) + fecth\($0 % 7)" }.joined(separator: "\n")
        try (body + String(repeating: "\n", count: 300) + "print(after_the_gap)\nlocal function f() " + body.replacingOccurrences(of: "\n", with: " ")
             + " end\n").write(toFile: long, atomically: true, encoding: .utf8)
        files.append(long)
        #expect(files.count > 20, "\(files.count) files")
        var compared = 0
        for file in files {
            let source = try String(contentsOfFile: file, encoding: .utf8)
            // luac's listing shows no call's arguments: those are compared below.
            let ours = try #require(GlobalAccesses.of(source: source, chunkName: "@" + file), "\(file)").map {
                GlobalAccess(name: $0.name, line: $0.line, isWrite: $0.isWrite)
            }
            let theirs = try Self.luac(file)
            #expect(ours == theirs, "\(file)")
            compared += ours.count
        }
        #expect(compared > 500, "\(compared) accesses compared")
    }

    @Test func readsWritesAndLinesInNestedFunctions() throws {
        let source = """
            local x = fecth(1)
            y = 2
            local function f()
              return function() return z + y end
            end
            local _ENV = {print = print}
            print(w)
            """
        #expect(GlobalAccesses.of(source: source, chunkName: "=t") == [
            GlobalAccess(name: "fecth", line: 1, isWrite: false), GlobalAccess(name: "y", line: 2, isWrite: true),
            GlobalAccess(name: "print", line: 6, isWrite: false),
            GlobalAccess(name: "z", line: 4, isWrite: false), GlobalAccess(name: "y", line: 4, isWrite: false),
        ])
        #expect(GlobalAccesses.of(source: "x = = 1", chunkName: "=t") == nil, "a syntax error is the syntax check's to report")
    }

    /// A global indexed at once by a constant name (`cx.each`, and `local c = cx; c.other`) names
    /// it; other indexing does not.
    @Test func theFieldAGlobalIsIndexedWith() throws {
        let source = """
            cx.each({}, print)
            local r = cx.chnage
            print(cx["change"], cx[k], cx)
            local c = cx; c.other()
            function f() return cx.spawn end
            """
        let reads = try #require(GlobalAccesses.of(source: source, chunkName: "=t")).filter { $0.name == "cx" }
        #expect(reads.map(\.line) == [1, 2, 3, 3, 3, 4, 5])
        #expect(reads.map(\.field) == ["each", "chnage", "change", nil, nil, "other", "spawn"], "a local read of cx indexed next is cx's field too")
    }

    /// A global called with a string literal first (`webhook("wfm", …)`) names it; any other
    /// first argument, or a read that is not that call, names none.
    @Test func theStringLiteralAGlobalIsCalledWith() throws {
        let source = """
            webhook("wfm", {a = 1, b = {c = x}})
            local s = webhook("dmp")
            webhook(name, {})
            print(webhook, "x")
            f(webhook("inner", g(1), "y"))
            local w = webhook; w("no")
            webhook "sugar"
            webhook("a" .. b)
            webhook("wfm", y and z or "q")
            if s then return webhook("last", s) end
            """
        let calls = try #require(GlobalAccesses.of(source: source, chunkName: "=t")).filter { $0.name == "webhook" }
        #expect(calls.map(\.line) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        #expect(calls.map(\.literalArgument) == ["wfm", "dmp", nil, nil, "inner", nil, "sugar", nil, "wfm", "last"])
    }

    /// A chunk cut short or with bytes changed is refused or read, never a crash (sizes in it are
    /// bounded by what is left).
    @Test func aDamagedChunkIsRefusedNotFollowed() throws {
        let vm = try LuaVM(limits: LuaLimits(memoryBytes: 64 << 20, instructions: 0, timeout: 0))
        #expect(vm.loadText("local t = {}\nfor i = 1, 3 do t[i] = fetch(i) end\nx = function() return y end\n", chunkName: "=t") == 0)
        let chunk = try #require(vm.dumpTop())
        var whole = ChunkReader(chunk)
        #expect(try whole.accesses().map(\.name) == ["fetch", "x", "y"])
        for length in 0..<chunk.count {
            var cut = ChunkReader(Array(chunk.prefix(length)))
            #expect(throws: (any Error).self, "cut at \(length)") { try cut.accesses() }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            var bytes = chunk
            for _ in 0..<3 { bytes[Int.random(in: 15..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
            var damaged = ChunkReader(bytes)
            _ = try? damaged.accesses()
        }
    }

    /// luac's listing: `N [LINE] GETTABUP A B C ; _ENV "name"` (and SETTABUP), functions in the same order.
    static func luac(_ file: String) throws -> [GlobalAccess] {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("luac-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let p = try ChildProcess("/usr/bin/luac5.4", ["-l", "-l", "-p", file], stdout: .file(out), stderr: .stdout)
        p.wait()
        let listing = try String(contentsOfFile: out, encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"^\s*\d+\s+\[(\d+)\]\s+(GETTABUP|SETTABUP)\s.*; _ENV "([^"]*)""#, options: .anchorsMatchLines)
        return pattern.matches(in: listing, range: NSRange(listing.startIndex..., in: listing)).map { m in
            let text = { (i: Int) in String(listing[Range(m.range(at: i), in: listing)!]) }
            return GlobalAccess(name: text(3), line: Int(text(1)) ?? -1, isWrite: text(2) == "SETTABUP")
        }
    }
}
