import CXone
import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Runbook

/// A hostile server as a script meets it: the error at the script's line, every call audited.
@Suite("Runbook against a hostile server")
struct HostileServerScriptTests {
    /// Runs `source` as `name` against `server` (short timeouts, `attempts` per request); returns
    /// the result, what the script printed, and the calls' audit rows.
    static func run(_ name: String, _ source: String, against server: HostileServer, attempts: Int) async throws
        -> (result: RunbookResult, printed: String, rows: [CallRecord])
    {
        let dir = try temporaryFolder("hostile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var endpoint = TenantEndpoint(baseURL: server.baseURL, clientID: "c", clientSecret: "hostile-test-secret")
        endpoint.retry.maxAttempts = attempts
        endpoint.retry.baseDelay = 0.01
        endpoint.retry.maxDelay = 0.02
        endpoint.requestTimeout = 1
        let printed = Captured()
        let request = RunbookRequest(
            scriptPath: name, source: source, args: [], tenant: ResolvedTenant(name: "hostile", endpoint: endpoint), dryRun: false,
            limits: RunLimits(memoryBytes: 64 << 20, instructions: 10_000_000, timeout: 30), concurrency: 1,
            auditPath: dir + "/audit.sqlite", stdlib: stdlibPath, output: { printed.append($0) }, log: { _, m in printed.append(m) })
        let result = try await RunbookSession.run(request)
        return (result, printed.value, try AuditStore(path: dir + "/audit.sqlite").calls(run: result.summary.runID))
    }

    @Test func aScriptGetsTheErrorAtItsLineAndTheAuditKeepsTheCall() async throws {
        let server = try HostileServer(respond: HostileServer.withToken { _ in HostileServer.http(200, "not json") })
        defer { server.stop() }
        let (result, printed, rows) = try await Self.run("hostile.lua", """
            local ok, e = pcall(fetch, "q1")
            print(ok, e.code)
            fetch("q1")
            """, against: server, attempts: 1)
        #expect(printed == "false\tunavailable\n")
        #expect(result.outcome.status != .succeeded)
        #expect(result.outcome.message?.contains("hostile.lua:3") == true, "\(result.outcome.message ?? "")")
        #expect(result.outcome.message?.contains("malformed JSON") == true, "\(result.outcome.message ?? "")")
        #expect(rows.map { $0.status } == [.error, .error])
        #expect(rows.map { $0.errorCode } == ["unavailable", "unavailable"])
    }

    /// The queue is read, then the server takes the PUT and every request after it and answers
    /// none: the deploy may have applied and cxrun cannot learn whether. The script is told so,
    /// and the call's row stays pending (a rollback then fences it), not an error.
    @Test func aDeployWhoseOutcomeCannotBeLearnedStaysPending() async throws {
        let doc = #"{"id":"q1","version":3,"name":"Q","maxWaitTime":60}"#
        let putSeen = Mutex(false)
        let server = try HostileServer(respond: HostileServer.withToken { request in
            if request.method == "PUT" { putSeen.withLock { $0 = true } }
            return putSeen.withLock { $0 } ? [] : HostileServer.http(200, doc)
        })
        defer { server.stop() }
        let (result, printed, rows) = try await Self.run("unknown.lua", """
            local q = fetch("q1")
            local ok, e = pcall(deploy, "q1", build(q, {maxWaitTime = 61}))
            print(ok, e.code, e.details.outcome)
            """, against: server, attempts: 2)
        #expect(result.outcome.status == .succeeded, "\(result.outcome.message ?? "")")
        #expect(printed == "false\tnetwork\tunknown\n", "\(printed)")
        let deploy = try #require(rows.first { $0.binding == "deploy" })
        #expect(deploy.status == .pending, "\(deploy)")
        #expect(deploy.result?["message"]?.stringValue?.contains("re-reading the queue to learn whether it did failed") == true, "\(deploy)")
        #expect(result.summary.bindings.first { $0.name == "deploy" }?.errors == 1, "the summary counts it with the errors")
        #expect(result.summary.unknownWrites == 1 && result.summary.text.contains("1 write was cut off and may have applied (left pending)"),
                "\(result.summary.text)")
        #expect(result.summary.json["unknown_writes"] == 1)
    }
}
