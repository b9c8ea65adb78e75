import CXone
import Foundation
import JSONCore
import Testing
import TestSupport

@testable import Runbook

/// Work a script hands off is never reported as done when it did not happen.
@Suite("Lost work and values JSON cannot carry")
struct LostWorkTests {
    /// A tenant whose `ops` webhook answers 400 (not retried: one attempt, at once).
    static func failingTenant(_ bench: Bench, _ receiver: HostileServer) -> ResolvedTenant {
        var tenant = bench.tenant()
        tenant.webhooks["ops"] = WebhookTarget(url: receiver.baseURL + "/hook", secret: "ops-secret-123")
        return tenant
    }

    @Test func aFailedDeliveryNobodyWaitedForFailsTheRunAndOneTheScriptHandledDoesNot() async throws {
        let bench = try await Bench.start()
        let receiver = try HostileServer { _ in Array("HTTP/1.1 400 Bad\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope".utf8) }
        defer { receiver.stop() }
        try await stopping(bench) {
            let (forgotten, _) = try await bench.run(#"webhook("ops", {event = "x"}) print("sent")"#, tenant: Self.failingTenant(bench, receiver))
            #expect(forgotten.outcome.status == .succeeded, "the script itself ran to its end")
            #expect(forgotten.lostWork.count == 1 && forgotten.lostWork[0].contains("webhook 'ops' delivery") && forgotten.lostWork[0].contains("HTTP 400"),
                    "\(forgotten.lostWork)")
            let row = try bench.audit.run(forgotten.summary.runID)
            #expect(row?.status == .failed && row?.error?.contains("1 handed-off delivery failed") == true, "\(String(describing: row))")
            #expect(forgotten.jsonReport(dryRun: false).contains("\"lost_work\""))

            let (handled, output) = try await bench.run(#"""
                local r = webhook("ops", {event = "x"}, {wait = true})
                print(r.status)
                """#, tenant: Self.failingTenant(bench, receiver))
            #expect(output == "failed\n" && handled.lostWork.isEmpty, "the script saw the outcome: it is the script's to handle")
            #expect(try bench.audit.run(handled.summary.runID)?.status == .succeeded)
        }
    }

    @Test func aPayloadJSONCannotCarryIsRefusedAsInvalidNamingThePath() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local q = fetch(queues()[1].id)
                local p = build(q, {maxWaitTime = 100})
                local function code(f, ...) local ok, e = pcall(f, ...) return ok and "ok" or (e.code .. ": " .. e.message) end
                p.maxWaitTime = 0/0
                print(code(deploy, q.id, p))
                p.maxWaitTime = 100; p.name = "caf\xff"
                print(code(deploy, q.id, p))
                print(code(webhook, "wfm", {x = {y = 1/0}}))
                print(fetch(q.id).version)
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let lines = output.split(separator: "\n").map(String.init)
            #expect(lines == ["invalid: deploy: the payload cannot be JSON: NaN is not a number JSON can carry at maxWaitTime",
                              "invalid: deploy: the payload cannot be JSON: invalid UTF-8 in a string at name",
                              "invalid: webhook: the payload cannot be JSON: inf is not a number JSON can carry at x.y",
                              "1"], "\(output)")
            let writes = try await bench.requests().filter { $0["method"]?.stringValue != "GET" && $0["path"]?.stringValue?.hasPrefix("/api/") == true }
            #expect(writes.isEmpty, "nothing was sent")
            let calls = try bench.audit.calls(run: result.summary.runID).filter { $0.binding == "deploy" || $0.binding == "webhook" }
            #expect(calls.count == 3 && calls.allSatisfy { $0.status == .error && $0.errorCode == "invalid" }, "each refusal has its row")
        }
    }
}
