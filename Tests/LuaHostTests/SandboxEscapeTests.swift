import Foundation
import Testing

@testable import LuaHost

/// One escape attempt and the error that must stop it.
struct Escape: CustomTestStringConvertible, Sendable {
    let code: String
    let error: String
    var testDescription: String { code }
}

private let escapes: [Escape] = [
    Escape(code: #"io.open("/etc/passwd")"#, error: "global 'io'"),
    Escape(code: #"io.popen("id")"#, error: "global 'io'"),
    Escape(code: #"os.execute("id")"#, error: "field 'execute'"),
    Escape(code: #"os.getenv("HOME")"#, error: "field 'getenv'"),
    Escape(code: #"os.remove("/tmp/x")"#, error: "field 'remove'"),
    Escape(code: #"os.rename("/tmp/x", "/tmp/y")"#, error: "field 'rename'"),
    Escape(code: #"os.tmpname()"#, error: "field 'tmpname'"),
    Escape(code: #"os.exit(0)"#, error: "field 'exit'"),
    Escape(code: #"require "io""#, error: "module 'io' not found"),
    Escape(code: #"require "os""#, error: "module 'os' not found"),
    Escape(code: #"require "debug""#, error: "module 'debug' not found"),
    Escape(code: #"package.loadlib("libc.so.6", "system")"#, error: "global 'package'"),
    Escape(code: #"load(string.dump(function() end))"#, error: "field 'dump'"),
    Escape(code: #"local f = ("").dump"#+"\n"+#"f(print)"#, error: "local 'f'"),
    Escape(code: #"local f, e = load("\27LuaT\0\25\147\r\n\26\n") assert(f, e)"#, error: "attempt to load a binary chunk"),
    Escape(code: #"load("return 1", "x", "b")"#, error: "only text chunks"),
    Escape(code: #"load("return 1", "x", "bt")"#, error: "only text chunks"),
    Escape(code: #"load(function() return nil end, "x", "b")"#, error: "only text chunks"),
    Escape(code: #"debug.getinfo(1)"#, error: "global 'debug'"),
    Escape(code: #"debug.sethook()"#, error: "global 'debug'"),
    Escape(code: #"getmetatable("").__index = {}"#, error: "attempt to index a boolean value"),
    Escape(code: #"getmetatable("").__index.rep = nil"#, error: "attempt to index a boolean value"),
    Escape(code: #"string.rep = nil"#, error: "read-only table 'string'"),
    Escape(code: #"rawset(string, "rep", print)"#, error: "read-only"),
    Escape(code: #"setmetatable(string, {})"#, error: "protected metatable"),
    Escape(code: #"table.insert(string, print)"#, error: "read-only table 'string'"),
    Escape(code: #"math.floor = nil"#, error: "read-only table 'math'"),
    Escape(code: #"os.time = nil"#, error: "read-only table 'os'"),
    Escape(code: #"coroutine.resume = nil"#, error: "read-only table 'coroutine'"),
    Escape(code: #"cx.spawn = print"#, error: "read-only table 'cx'"),
    Escape(code: #"rawset(cx, "echo", print)"#, error: "read-only"),
    Escape(code: #"getmetatable(cx).__index = {}"#, error: "attempt to index a boolean value"),
    Escape(code: #"setmetatable(_G, {__index = function() end})"#, error: "protected metatable"),
    Escape(code: #"setmetatable(_ENV, nil)"#, error: "protected metatable"),
    Escape(code: #"require "../x""#, error: "invalid module name"),
    Escape(code: #"require "/etc/passwd""#, error: "invalid module name"),
    Escape(code: #"require "cx/../../etc/passwd""#, error: "invalid module name"),
    Escape(code: #"require "..""#, error: "invalid module name"),
    Escape(code: #"require(42)"#, error: "string expected"),
    Escape(code: #"collectgarbage("stop")"#, error: #"only "count""#),
    Escape(code: #"collectgarbage()"#, error: #"only "count""#),
    Escape(code: #"collectgarbage("step", 100)"#, error: #"only "count""#),
    Escape(code: #"dofile("/etc/passwd")"#, error: "global 'dofile'"),
    Escape(code: #"loadfile("/etc/passwd")"#, error: "global 'loadfile'"),
    Escape(code: #"setmetatable({}, {__gc = function() while true do end end})"#, error: "__gc metamethods are not available"),
    Escape(code: #"local io2 = load("return io")() io2.open("/etc/passwd")"#, error: "local 'io2'"),
    Escape(code: #"_G._G.io.open("/etc/passwd")"#, error: "field 'io'"),
    Escape(code: #"coroutine.resume(coroutine.running())"#, error: "cannot be resumed"),
    Escape(code: #"coroutine.close(coroutine.running())"#, error: "cannot be resumed or closed"),
    Escape(code: #"getmetatable(cx.null).__tostring = print"#, error: "attempt to index a string value"),
    Escape(code: #"cx.array(setmetatable({}, {}))"#, error: "already has a metatable"),
]

@Suite("Sandbox")
struct SandboxEscapeTests {
    @Test(arguments: escapes)
    func escapeIsBlocked(_ escape: Escape) async {
        let (outcome, _) = await runLua(escape.code)
        #expect(outcome.status == .failed)
        let message = outcome.message ?? ""
        #expect(message.contains(escape.error), "got: \(message)")
        #expect(message.hasPrefix("test.lua:"), "the error names the script line: \(message)")
    }

    @Test func environmentIsExactlyTheAllowList() async {
        let output = await expectSuccess(#"""
            local names = {}
            for k in pairs(_G) do names[#names + 1] = k end
            table.sort(names)
            print(table.concat(names, " "))
            local os_names = {}
            for k in pairs(os) do os_names[#os_names + 1] = k end
            table.sort(os_names)
            print(table.concat(os_names, " "))
            print(string.dump, ("x").dump, collectgarbage("count") > 0)
            """#)
        let lines = output.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(
            lines[0]
                == "_G _VERSION assert big_string collectgarbage coroutine cx echo echo_async error fail_async fail_sync getmetatable ipairs load log math next noop on_run_thread_async os pairs pcall print rawequal rawget rawlen rawset require select setmetatable string table tonumber tostring type unpack utf8 xpcall"
        )
        #expect(lines[1] == "clock date difftime time")
        #expect(lines[2] == "nil\tnil\ttrue")
    }

    @Test func modificationsDoNotLeakIntoTheNextRun() async {
        let (first, _) = await runLua(#"""
            pcall(function() string.rep = nil end)
            pcall(rawset, string, "rep", nil)
            print = nil
            _G.fetch_everything = true
            error("done")
            """#)
        #expect(first.status == .failed)
        await expectSuccess(#"""
            assert(string.rep("ab", 2) == "abab")
            assert(("x"):rep(3) == "xxx")
            assert(type(print) == "function")
            assert(fetch_everything == nil)
            """#)
    }

    @Test func loadUsesTheSandboxByDefaultAndAcceptsAnEnv() async {
        await expectSuccess(#"""
            assert(load("return io")() == nil)
            assert(load("return string.rep")() == string.rep)
            assert(load("return x", "chunk", "t", {x = 42})() == 42)
            local f = load("return print", "chunk", "t", nil)
            assert(not pcall(f), "an explicit nil env has no globals")
            """#)
    }

    @Test func rawFunctionsSeeThroughReadOnlyTables() async {
        await expectSuccess(#"""
            assert(rawget(string, "rep") == string.rep)
            assert(next(math) ~= nil)
            local n = 0 for _ in pairs(table) do n = n + 1 end
            assert(n >= 7)
            assert(#cx.args == 0)
            """#)
    }

    @Test func requireLoadsStdlibAndRunbookModules() async throws {
        let dir = try TempDir()
        dir.write("stdlib/cx/greet.lua", "local M = {} function M.hi(n) return 'hi ' .. n end return M")
        dir.write("book/lib/helper.lua", "return { twice = function(x) return 2 * x end }")
        dir.write("book/lib/broken.lua", "return {")
        dir.write("book/loop.lua", "return require 'loop'")
        dir.write("outside.lua", "return 'secret'")
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/book/escape.lua", withDestinationPath: dir.path + "/outside.lua")
        let (outcome, output) = await runLua(
            #"""
            local greet = require "cx.greet"
            print(greet.hi("ops"), require("lib.helper").twice(21), require("cx.greet") == greet)
            local ok, err = pcall(function() greet.hi = nil end)
            print(ok, err:match("read%-only table 'cx.greet'") ~= nil)
            print(select(2, pcall(require, "lib.broken")))
            print(select(2, pcall(require, "loop")):match("circular") ~= nil)
            print(select(2, pcall(require, "escape")):match("outside the stdlib") ~= nil)
            print(select(2, pcall(require, "nope")))
            """#, stdlib: dir.path + "/stdlib", scriptDir: dir.path + "/book")
        #expect(outcome.status == .succeeded, "\(outcome.message ?? "")")
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        guard lines.count == 6 else { return }
        #expect(lines[0] == "hi ops\t42\ttrue")
        #expect(lines[1] == "false\ttrue")
        #expect(lines[2].hasSuffix("/lib/broken.lua:1: unexpected symbol near <eof>"))
        #expect(lines[3] == "true")
        #expect(lines[4] == "true")
        #expect(lines[5].hasPrefix("module 'nope' not found; looked for: stdlib/nope.lua"))
    }

    @Test func printAndLogWriteThroughTheHost() async {
        let output = await expectSuccess(#"""
            print("a", 1, nil, true, cx.null, setmetatable({}, {__tostring = function() return "T" end}))
            log.info("%d queues", 3)
            log.warn("plain")
            """#)
        #expect(output == "a\t1\tnil\ttrue\tnull\tT\n[info] 3 queues\n[warn] plain\n")
    }

    @Test func argumentsReachTheScript() async {
        let (outcome, output) = await runLua(##"print(cx.args[1], cx.args.queue, cx.args.mode, select("#", ...), ...)"##, args: ["queue=Q1", "mode=fast", "plain"])
        #expect(outcome.status == .succeeded)
        #expect(output == "queue=Q1\tQ1\tfast\t3\tqueue=Q1\tmode=fast\tplain\n")
    }
}
