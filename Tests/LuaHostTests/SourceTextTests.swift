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
}
