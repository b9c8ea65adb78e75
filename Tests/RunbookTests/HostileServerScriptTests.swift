import CXone
import Foundation
import TestSupport
import Testing

@testable import Runbook

/// A hostile server as a script meets it: the error at the script's line, every call audited.
@Suite("Runbook against a hostile server")
struct HostileServerScriptTests {
    @Test func aScriptGetsTheErrorAtItsLineAndTheAuditKeepsTheCall() async throws {
        let server = try HostileServer(respond: HostileServer.withToken { _ in HostileServer.http(200, "not json") })
        defer { server.stop() }
        let dir = try temporaryFolder("hostile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var endpoint = TenantEndpoint(baseURL: server.baseURL, clientID: "c", clientSecret: "hostile-test-secret")
        endpoint.retry.maxAttempts = 1
        endpoint.retry.baseDelay = 0.01
        endpoint.retry.maxDelay = 0.02
        endpoint.requestTimeout = 1
        let printed = Captured()
        let request = RunbookRequest(
            scriptPath: "hostile.lua", source: """
                local ok, e = pcall(fetch, "q1")
                print(ok, e.code)
                fetch("q1")
                """,
            args: [], tenant: ResolvedTenant(name: "hostile", endpoint: endpoint), dryRun: false,
            limits: RunLimits(memoryBytes: 64 << 20, instructions: 10_000_000, timeout: 30), concurrency: 1,
            auditPath: dir + "/audit.sqlite", stdlib: stdlibPath, output: { printed.append($0) }, log: { _, m in printed.append(m) })
        let result = try await RunbookSession.run(request)
        #expect(printed.value == "false\tunavailable\n")
        #expect(result.outcome.status != .succeeded)
        #expect(result.outcome.message?.contains("hostile.lua:3") == true, "\(result.outcome.message ?? "")")
        #expect(result.outcome.message?.contains("malformed JSON") == true, "\(result.outcome.message ?? "")")
        let rows = try AuditStore(path: dir + "/audit.sqlite").calls(run: result.summary.runID)
        #expect(rows.map { $0.status } == [.error, .error])
        #expect(rows.map { $0.errorCode } == ["unavailable", "unavailable"])
    }
}
