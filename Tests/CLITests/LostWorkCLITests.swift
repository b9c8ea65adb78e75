import Foundation
import JSONCore
import Testing
import TestSupport

/// Exit code 4: the script finished, but work did not happen.
@Suite("cxrun exit 4: lost work")
struct LostWorkCLITests {
    @Test func aFailedFireAndForgetDeliveryIsListedAndExitsFour() async throws {
        let receiver = try HostileServer { _ in Array("HTTP/1.1 400 Bad\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope".utf8) }
        defer { receiver.stop() }
        let dir = try scriptFolder([
            "book.lua": #"webhook("ops", {event = "x"}) print("handed off")"#,
            "cxrun.toml": "[webhooks.ops]\nurl = \"\(receiver.baseURL)/hook\"\nsecret_env = \"OPS_HOOK_SECRET\"\n",
        ])
        let r = try await runCLI(["run", "book.lua"], in: dir, environment: ["OPS_HOOK_SECRET": "hook-secret-123"])
        #expect(r.status == 4, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("work that did not happen:\n  webhook 'ops' delivery") && r.stderr.contains("HTTP 400"), "\(r.stderr)")
        let runs = try await runCLI(["audit", "runs"], in: dir)
        #expect(runs.stdout.contains("failed"), "\(runs.stdout)")
    }

    @Test func outputThatCannotBeWrittenIsReportedAndExitsFour() async throws {
        let dir = try scriptFolder(["book.lua": #"print("hello")"#])
        let plain = try await runCLI(["run", "book.lua"], in: dir, stdoutPath: "/dev/full")
        #expect(plain.status == 4 && plain.stderr.contains("the output could not be written (No space left on device)"), "\(plain.stderr)")
        let json = try await runCLI(["run", "--json", "book.lua"], in: dir, stdoutPath: "/dev/full")
        #expect(json.status == 4, "\(json.stderr)")
        let ok = try await runCLI(["run", "book.lua"], in: dir)
        #expect(ok.status == 0 && ok.stdout == "hello\n", "\(ok.stderr)")
    }
}
