import Foundation
import JSONCore
import Testing

/// `cxrun repl` scripted through standard input (not a terminal: no prompts, a chunk at a time).
@Suite("cxrun repl")
struct ReplCommandTests {
    @Test func evaluatesChunksKeepsGlobalsShowsErrorsAndAuditsOneSession() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        let input = """
            q = fetch(queues()[1].id)
            q.version
            doc = {
              name = q.name,
              levels = cx.array {1, 2},
            }
            doc
            error("boom")
            fetch("no-such-queue")
            deploy(q.id, build(q, {maxWaitTime = 333}))
            fetch(q.id).maxWaitTime
            x = (
            """
        let r = try await runCLI(["repl", "--dry-run"], in: dir, input: input)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "1", "an expression shows its value: \(r.stdout)")
        #expect(r.stdout.contains("\"levels\" : [\n    1,\n    2\n  ]"), "a table as indented JSON, after a multi-line chunk: \(r.stdout)")
        #expect(r.stdout.contains("error: stdin:1: boom\n"), "errors do not end the session: \(r.stdout)")
        #expect(r.stdout.contains("error: not_found: "), "\(r.stdout)")
        #expect(r.stdout.contains("\"planned\" : true"), "--dry-run plans writes: \(r.stdout)")
        #expect(!r.stdout.contains("333"), "nothing was written: \(r.stdout)")
        let export = try await runCLI(["audit", "export", "--format", "jsonl"], in: dir)
        let rows = export.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        #expect(rows.filter { $0["type"] == "run" }.map { $0["script"] } == ["cxrun repl"], "one run row per session")
        #expect(rows.filter { $0["type"] == "call" }.compactMap { $0["binding"]?.stringValue } == ["queues", "fetch", "fetch", "build", "deploy", "fetch"],
                "\(export.stdout)")
    }

    @Test func onATerminalItPromptsAndKeepsHistory() async throws {
        // `script` gives cxrun a pseudo-terminal; the input arrives as typed lines, then Ctrl-D.
        let dir = try scriptFolder(["placeholder.txt": ""])
        let cxrun = cxrunBinary
        let r = try await runCLI(["-qc", "'\(cxrun)' repl", "/dev/null"], in: dir, environment: ["HOME": dir.path],
                                 input: "1+1\nqueues()[1].name\n", executable: "/usr/bin/script")
        let screen = r.stdout.replacingOccurrences(of: "\r", with: "")
        #expect(screen.contains("cx> 1+1\n2\ncx> "), "\(screen)")
        let history = try String(contentsOf: dir.appendingPathComponent(".cxrun_history"), encoding: .utf8)
        #expect(history.contains("1+1\n") && history.contains("queues()[1].name"), "\(history)")
    }
}
