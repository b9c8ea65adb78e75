import Foundation
import Testing

@testable import LuaHost

/// Sources are UTF-8 text: another encoding is refused where it first shows, never repaired.
@Suite("Source text")
struct SourceTextTests {
    @Test func utf8DecodesAsWritten() throws {
        #expect(try SourceText.decode(Array("print('café ✓')\n".utf8)).get() == "print('café ✓')\n")
        #expect(try SourceText.decode([UInt8]()).get() == "")
    }

    @Test(arguments: [
        // Latin-1 é, a lone continuation byte, a truncated sequence at the end, an overlong '/'.
        (Array("x = 1\nname = 'caf".utf8) + [0xE9] + Array("'\n".utf8), UInt8(0xE9), 2, 12),
        (Array("ab".utf8) + [0x80], UInt8(0x80), 1, 3),
        (Array("é".utf8) + [0xE2, 0x9C], UInt8(0xE2), 1, 2),
        ([0xC0, 0xAF], UInt8(0xC0), 1, 1),
    ])
    func otherEncodingsAreRefusedWhereTheyShow(_ bytes: [UInt8], _ byte: UInt8, _ line: Int, _ column: Int) {
        #expect(SourceText.decode(bytes) == .failure(SourceText.NotUTF8(byte: byte, line: line, column: column)))
    }

    @Test func aModuleInAnotherEncodingIsNamedByRequire() async throws {
        let dir = try TempDir()
        dir.write("lib/latin.lua", "")
        try [UInt8](Array("return 'caf".utf8) + [0xE9] + Array("'\n".utf8)).withUnsafeBytes {
            try Data($0).write(to: URL(fileURLWithPath: dir.path + "/lib/latin.lua"))
        }
        let (outcome, _) = await runLua("return require('lib.latin')\n", scriptDir: dir.path)
        #expect(outcome.message?.contains("require: module 'lib.latin' is not UTF-8 text: byte 0xE9 at line 1, column 12") == true,
                "\(outcome.message ?? "")")
    }

    /// What Lua skips at the start of a file (lauxlib's skipcomment), cxrun skips: a UTF-8
    /// byte-order mark (Windows editors write one; it was "unexpected symbol near '<\239>'"), then
    /// a `#!` line, blanked so later lines keep their numbers. A mark further in is the script's
    /// own text; a REPL line starting with `#` (the length operator) is not a file and is untouched.
    @Test func aFileIsCompiledAsLuaCompilesIt() {
        #expect(SourceText.compilable("#!/usr/bin/env cxrun run\nprint(1)\n") == "\nprint(1)\n")
        #expect(SourceText.compilable("#!x\r\nprint(1)") == "\nprint(1)")
        #expect(SourceText.compilable("#!only") == "")
        #expect(SourceText.compilable("print(#t)\n") == "print(#t)\n")
        #expect(SourceText.compilable("\u{FEFF}print(1)\n") == "print(1)\n")
        #expect(SourceText.compilable("\u{FEFF}#!/usr/bin/env cxrun run\nprint(1)\n") == "\nprint(1)\n")
        #expect(SourceText.compilable("print(1)\u{FEFF}") == "print(1)\u{FEFF}")
    }

    /// A script or module may start with a byte-order mark, a `#!` line or both, as a file `lua`
    /// runs may: it runs, its errors name the lines of the file, and `cxrun check` compiles it.
    @Test(arguments: ["\u{FEFF}", "#!/usr/bin/env -S cxrun run\n", "\u{FEFF}#!/usr/bin/env lua\r\n"])
    func aFileMayStartWithWhatLuaSkips(_ lead: String) async throws {
        let dir = try TempDir()
        dir.write("lib/tool.lua", lead + "return {answer = 42}\r\n")
        let (outcome, output) = await runLua(lead + "print(require('lib.tool').answer)\r\nerror('here')\n", scriptDir: dir.path)
        let line = 2 + lead.filter { $0 == "\n" || $0 == "\r\n" }.count
        #expect(output == "42\n", "\(output)")
        #expect(outcome.message?.hasPrefix("test.lua:\(line): here") == true, "\(outcome.message ?? "")")
        guard case .success = ScriptChecker.compile(source: lead + "local a = 1\n", chunkName: "@check.lua") else {
            Issue.record("the checker refused a file starting with \(lead.debugDescription)")
            return
        }
    }
}

