import Foundation
import TestSupport
import Testing

@testable import Runbook

/// stdlib/cxrun.d.lua (LuaLS) and .luacheckrc cannot drift from what the host really registers:
/// the host's own table is read from inside a run and compared with both files.
@Suite("Editor definitions match the host's bindings")
struct EditorDefinitionsTests {
    @Test func everyRegisteredBindingIsDeclaredForLuaLSAndLuacheck() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local out = {}
                for k, v in pairs(_G) do out[#out + 1] = ("global %s %s"):format(k, type(v)) end
                for k, v in pairs(cx) do out[#out + 1] = ("cx %s %s"):format(k, type(v)) end
                for k in pairs(log) do out[#out + 1] = ("log " .. k .. " function") end
                table.sort(out)
                print(table.concat(out, "\n"))
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let entries = output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.filter { $0.count == 3 }
            let all = Set(entries.filter { $0[0] == "global" }.map { $0[1] })
            let (missing, extra) = (all.subtracting(RunbookChecker.sandboxGlobals).sorted(), RunbookChecker.sandboxGlobals.subtracting(all).sorted())
            #expect(all == RunbookChecker.sandboxGlobals, "cxrun check's list of defined globals: missing \(missing), extra \(extra)")
            let globals = Set(entries.filter { $0[0] == "global" && !RunbookChecker.luaGlobals.contains($0[1]) }.map { $0[1] })
            let cxFunctions = Set(entries.filter { $0[0] == "cx" && $0[2] == "function" }.map { $0[1] })
            let cxFields = Set(entries.filter { $0[0] == "cx" && $0[2] != "function" }.map { $0[1] })
            let logFunctions = Set(entries.filter { $0[0] == "log" }.map { $0[1] })
            #expect(globals.isSuperset(of: ["fetch", "deploy", "agent_status", "validate", "cx", "log"]), "\(globals.sorted())")

            let definitions = try String(contentsOfFile: repoRoot.appendingPathComponent("stdlib/cxrun.d.lua").path, encoding: .utf8)
            let declared = Self.matches(#"(?m)^function ([a-z_]+)\("#, in: definitions)
            let declaredCx = Self.matches(#"(?m)^function cx\.([a-z_]+)\("#, in: definitions)
                .union(Self.matches(#"cx\.([a-z_]+)[,\s]"#, in: definitions.split(separator: "\n").filter { $0.hasPrefix("cx.") }.joined(separator: "\n") + "\n"))
            let declaredCxFields = Self.matches(#"(?m)^---@field ([a-z_]+) "#, in: definitions.components(separatedBy: "---@class cxlib").last ?? "")
            let declaredLog = Self.matches(#"(?m)^function log\.([a-z_]+)\("#, in: definitions)
            let bindings = globals.subtracting(["cx", "log"])
            #expect(bindings.subtracting(declared).isEmpty, "missing from cxrun.d.lua: \(bindings.subtracting(declared).sorted())")
            #expect(cxFunctions.subtracting(declaredCx).isEmpty, "cx functions missing from cxrun.d.lua: \(cxFunctions.subtracting(declaredCx).sorted())")
            #expect(cxFields.subtracting(declaredCxFields).isEmpty, "cx fields missing from cxrun.d.lua: \(cxFields.subtracting(declaredCxFields).sorted())")
            #expect(logFunctions.subtracting(declaredLog).isEmpty, "log functions missing: \(logFunctions.subtracting(declaredLog).sorted())")

            let luacheckrc = try String(contentsOfFile: repoRoot.appendingPathComponent(".luacheckrc").path, encoding: .utf8)
            let hostGlobals = luacheckrc.components(separatedBy: "local host_globals = {").last?.components(separatedBy: "}").first ?? ""
            let listed = Self.matches(#""([a-z_]+)""#, in: hostGlobals)
            #expect(globals.subtracting(listed).isEmpty, "missing from .luacheckrc host_globals: \(globals.subtracting(listed).sorted())")
        }
    }

    private static func matches(_ pattern: String, in text: String) -> Set<String> {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        let range = NSRange(text.startIndex..., in: text)
        return Set(regex.matches(in: text, range: range).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        })
    }
}
