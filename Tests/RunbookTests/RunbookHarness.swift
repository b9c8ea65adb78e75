import AsyncHTTPClient
import CXone
import Foundation
import JSONCore
import LuaHost
import NIOCore
import NIOHTTP1
import TestSupport

@testable import Runbook
@testable import SandboxTenant

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let stdlibPath = repoRoot.appendingPathComponent("stdlib").path

/// A sandbox tenant on loopback plus an audit log, for one test.
final class Bench: StoppableServer {
    let server: SandboxServer
    let directory: String
    let webhookSecret = "WebHook-Secret-456789"
    let clientSecret: String

    /// The audit log: a SQLite file in the bench's folder, or (`sharedAudit`) a new database in
    /// the tests' PostgreSQL server.
    let auditPath: String

    static func start(clientSecret: String = SimClient.demo.secret, sharedAudit: Bool = false, auditPath: String? = nil, _ configure: @Sendable (inout SandboxConfiguration) -> Void = { _ in }) async throws -> Bench {
        let dir = try temporaryFolder("runbook")
        var configuration = SandboxConfiguration(databasePath: dir + "/sandbox.sqlite")
        configuration.rateLimit = 0
        configuration.clients = [SimClient(id: SimClient.demo.id, secret: clientSecret)]
        configuration.webhookSecrets = ["wfm": "WebHook-Secret-456789"]
        configuration.clock = SimClock.parse("2026-01-05T03:00:00Z")  // traffic follows the clock: a quiet hour, at any real hour
        configure(&configuration)
        let audit: String
        if let auditPath { audit = auditPath } else if sharedAudit { audit = try await PostgresServer.shared().createDatabase("bench") } else { audit = dir + "/audit.sqlite" }
        return Bench(server: try await SandboxServer.start(configuration), directory: dir, clientSecret: clientSecret, auditPath: audit)
    }

    init(server: SandboxServer, directory: String, clientSecret: String, auditPath: String) {
        self.server = server
        self.directory = directory
        self.auditPath = auditPath
        self.clientSecret = clientSecret
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func stop() async { await server.stop() }

    func tenant(retry: RetryPolicy = RetryPolicy(), timeout: Double = 30, rateLimit: Double = 0) -> ResolvedTenant {
        var endpoint = TenantEndpoint(baseURL: server.baseURL, clientID: SimClient.demo.id, clientSecret: clientSecret, rateLimit: rateLimit)
        endpoint.retry = retry
        endpoint.requestTimeout = timeout
        // As `rate_limit = 0`: the fault tests inject random 429s, which say nothing about a rate;
        // learning the limit from 429s is tested on its own (TokenBucketTests, make bench).
        endpoint.learnsRateLimit = false
        return ResolvedTenant(name: "test", endpoint: endpoint,
                              webhooks: ["wfm": WebhookTarget(url: server.baseURL + "/_sim/webhooks/wfm", secret: webhookSecret)])
    }

    /// Runs a runbook; returns the result and what it printed (print and log).
    func run(_ source: String, dryRun: Bool = false, args: [String] = [], tenant: ResolvedTenant? = nil, timeout: Double = 120,
             concurrency: Int = 4, onPrint: (@Sendable (String) -> Void)? = nil) async throws -> (result: RunbookResult, output: String) {
        let printed = Captured()
        let request = RunbookRequest(
            scriptPath: "book.lua", source: source, args: args, tenant: tenant ?? self.tenant(), dryRun: dryRun,
            limits: RunLimits(memoryBytes: 128 << 20, instructions: 500_000_000, timeout: timeout), concurrency: concurrency,
            auditPath: auditPath, stdlib: stdlibPath, output: { printed.append($0); onPrint?($0) }, log: { level, m in printed.append("[\(level)] \(m)\n") })
        let result = try await RunbookSession.run(request)
        return (result, printed.value)
    }

    var audit: AuditStore { get throws { try AuditStore(path: auditPath) } }

    /// A control-plane or API call straight to the tenant.
    func send(_ method: HTTPMethod, _ path: String, json: JSONValue? = nil, token: String? = nil) async throws -> JSONValue {
        var request = HTTPClientRequest(url: server.baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let json { request.body = .bytes(ByteBuffer(bytes: Array(try json.jsonData()))) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 8 << 20)
        return (try? JSONValue.parse(Data(body.readableBytesView))) ?? .null
    }

    func queues() async throws -> [JSONValue] {
        try await CXoneClient(endpoint: tenant().endpoint!).queues().value
    }

    /// The queues `ids` as they are now, without their versions: what a rollback must restore.
    func state(of ids: [String]) async throws -> [JSONValue] {
        let all = try await queues()
        return ids.map { id in (all.first { $0["id"]?.stringValue == id } ?? .null).removing(at: ["version"]) }
    }

    /// Requests the tenant logged (method, path, status).
    func requests() async throws -> [JSONValue] {
        try await send(.GET, "/_sim/requests?limit=5000")["requests"]?.arrayValue ?? []
    }
}

extension RunbookOutcome {
    var failureText: String { "\(message ?? "") \(traceback ?? "")" }
}
