import Foundation
import JSONCore
import Testing
import TestSupport

/// Exit code 4: the script finished, but work did not happen.
@Suite("cxrun exit 4: lost work")
struct LostWorkCLITests {
    /// A webhook secret missing from the shell: runs that do not deliver run (a rollback too);
    /// one that does fails at its line naming the variable; a plan delivering it is not applied.
    @Test func aWebhookSecretNotSetFailsOnlyWhatDeliversIt() async throws {
        let dir = try scriptFolder([
            "count.lua": "print(#queues())\n",
            "notify.lua": "local q = fetch(queues()[1].id)\ndeploy(q.id, build(q, {maxWaitTime = 311}))\nwebhook(\"ops\", {event = \"x\"})\n",
            "cxrun.toml": "[webhooks.ops]\nurl = \"http://127.0.0.1:9/hook\"\nsecret_env = \"OPS_HOOK_SECRET\"\n",
        ])
        let count = try await runCLI(["run", "count.lua"], in: dir)
        #expect(count.status == 0, "\(count.stderr)")
        let notify = try await runCLI(["run", "notify.lua"], in: dir)
        #expect(notify.status == 1 && notify.stderr.contains("notify.lua:3: sandbox: webhook: 'ops' cannot be signed")
                && notify.stderr.contains("OPS_HOOK_SECRET is not set"), "\(notify.stderr)")
        let planned = try await runCLI(["plan", "notify.lua", "--out", "p.cxplan"], in: dir, environment: ["OPS_HOOK_SECRET": "hook-secret-123"])
        #expect(planned.status == 0, "\(planned.stderr)")
        let apply = try await runCLI(["apply", "p.cxplan"], in: dir)
        #expect(apply.status == 2 && apply.stderr.contains("webhook 'ops', which cannot be signed here"), "\(apply.stderr)")
        let runs = try await runCLI(["audit", "runs"], in: dir)
        #expect(!runs.stdout.contains("cxrun apply"), "nothing applied: \(runs.stdout)")
    }

    /// The same in a REPL session: it ended 0 with nothing said of the delivery that failed.
    @Test func aREPLSessionsFailedDeliveryIsListedAndExitsFour() async throws {
        let receiver = try HostileServer { _ in Array("HTTP/1.1 400 Bad\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope".utf8) }
        defer { receiver.stop() }
        let dir = try scriptFolder(["cxrun.toml": "[webhooks.ops]\nurl = \"\(receiver.baseURL)/hook\"\nsecret_env = \"OPS_HOOK_SECRET\"\n"])
        let r = try await runCLI(["repl"], in: dir, environment: ["OPS_HOOK_SECRET": "hook-secret-123"], input: "webhook('ops', {event = 'x'})\n")
        #expect(r.status == 4, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("work that did not happen:\n  webhook 'ops' delivery") && r.stderr.contains("HTTP 400"), "\(r.stderr)")
    }

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
