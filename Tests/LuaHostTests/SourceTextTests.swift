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

    /// A file saved with a UTF-8 byte-order mark (Windows editors) compiles, as `lua` compiles it:
    /// it was "unexpected symbol near '<\239>'" at line 1. The mark may precede a `#!` line; a
    /// mark further in is the script's own text.
    @Test func aFileMayStartWithAByteOrderMark() async throws {
        #expect(SourceText.compilable("\u{FEFF}print(1)\n") == "print(1)\n")
        #expect(SourceText.compilable("\u{FEFF}#!/usr/bin/env cxrun run\nprint(1)\n") == "\nprint(1)\n")
        #expect(SourceText.compilable("print(1)\u{FEFF}") == "print(1)\u{FEFF}")
        let dir = try TempDir()
        dir.write("lib/bom.lua", "\u{FEFF}return {answer = 42}\r\n")
        let (outcome, output) = await runLua("\u{FEFF}print(require('lib.bom').answer)\r\nerror('at line 2')\r\n", scriptDir: dir.path)
        #expect(output == "42\n", "\(output)")
        #expect(outcome.message?.hasPrefix("test.lua:2: at line 2") == true, "\(outcome.message ?? "")")
        guard case .success = ScriptChecker.compile(source: "\u{FEFF}local a = 1\n", chunkName: "@check.lua") else {
            Issue.record("cxrun check refused a file with a byte-order mark")
            return
        }
    }

    /// A script or module file may start with a `#!` line, as a file `lua` runs may: it was a
    /// syntax error ("unexpected symbol near '#'"). The line is blanked, so later lines keep their
    /// numbers; a REPL line starting with `#` (the length operator) is not a file and is untouched.
    @Test func aFileMayStartWithAShebangLine() async throws {
        #expect(SourceText.compilable("#!/usr/bin/env cxrun run\nprint(1)\n") == "\nprint(1)\n")
        #expect(SourceText.compilable("#!x\r\nprint(1)") == "\nprint(1)")
        #expect(SourceText.compilable("#!only") == "")
        #expect(SourceText.compilable("print(#t)\n") == "print(#t)\n")
        let dir = try TempDir()
        dir.write("lib/tool.lua", "#!/usr/bin/env lua\nreturn {answer = 42}\n")
        let (outcome, output) = await runLua("#!/usr/bin/env -S cxrun run\nprint(require('lib.tool').answer)\nerror('at line 3')\n", scriptDir: dir.path)
        #expect(output == "42\n", "\(output)")
        #expect(outcome.message?.hasPrefix("test.lua:3: at line 3") == true, "\(outcome.message ?? "")")
        // cxrun check compiles it as a run does.
        guard case .success = ScriptChecker.compile(source: "#!x\nlocal a = 1\n", chunkName: "@check.lua") else {
            Issue.record("a shebang line is a syntax error to the checker")
            return
        }
    }
}

