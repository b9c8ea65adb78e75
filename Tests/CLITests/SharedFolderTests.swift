import Foundation
import Testing

/// Two cxrun processes at once in one folder share `.cxrun/audit.sqlite` and `.cxrun/sandbox.sqlite`
/// (one sandbox tenant): the run locks make the second wait for the first's queues.
@Suite("two runs, one folder")
struct SharedFolderTests {
    /// `PRAGMA integrity_check` of a SQLite file, through Python's sqlite3.
    static func integrity(_ path: String) async throws -> String {
        let r = try await runCLI(["-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])", path],
                                 executable: "/usr/bin/python3")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func bothCompleteBothAreAuditedAndTheFilesStayWhole() async throws {
        for round in 0..<3 {
            let dir = try scriptFolder(["book.lua": """
                local ids = {}
                for _, q in ipairs(queues({channel = "voice"})) do ids[#ids + 1] = q.id end
                cx.each(ids, function(id)
                  local q = fetch(id)
                  deploy(id, build(q, {maxWaiters = (q.maxWaiters or 10) + 1}))
                end, {concurrency = 1})
                print("done", #ids)
                """])
            async let first = runCLI(["run", "book.lua", "--lock-timeout", "240"], in: dir)
            async let second = runCLI(["run", "book.lua", "--lock-timeout", "240"], in: dir)
            let (a, b) = try await (first, second)
            for r in [a, b] {
                #expect(r.status == 0 && r.stdout.hasPrefix("done"), "round \(round): \(r.stdout) \(r.stderr)")
                #expect(!r.stderr.contains("locked"), "round \(round): \(r.stderr)")
            }
            let runs = try await runCLI(["audit", "runs"], in: dir)
            #expect(runs.stdout.split(separator: "\n").filter { $0.contains("succeeded") }.count == 2, "round \(round): \(runs.stdout)")
            try await AuditExport.expectNotInterleaved(in: dir, "round \(round)")
            for file in ["audit.sqlite", "sandbox.sqlite"] {
                #expect(try await Self.integrity(dir.appendingPathComponent(".cxrun/\(file)").path) == "ok", "round \(round): \(file)")
            }
        }
    }
}
