import CXone
import Foundation
import JSONCore
import LuaHost
import Runbook
import SandboxTenant

/// A 500-queue rebalance (fetch, build, validate, deploy each) against an in-process sandbox
/// tenant: sequential, with `cx.each` concurrency 8, and paced at a rate limit.
enum RebalanceBench {
    static let queues = Int(ProcessInfo.processInfo.environment["CXRUN_BENCH_QUEUES"] ?? "") ?? 500
    static let source = """
        local n = tonumber(cx.args[1])
        local ids = {}
        for _, q in ipairs(queues()) do ids[#ids + 1] = q.id end
        local function one(id)
          local q = fetch(id)
          local payload = build(q, {maxWaitTime = q.maxWaitTime + 1})
          assert(validate(payload))
          deploy(id, payload)
        end
        if n == 1 then for _, id in ipairs(ids) do one(id) end else cx.each(ids, one, {concurrency = n}) end
        return #ids
        """

    struct Figures {
        var seconds: Double
        var requests: Int
        var rateLimited: Int
        var failed: String?
    }

    static func measure(concurrency: Int, rateLimit: Double) async throws -> Figures {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cxrun-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var configuration = SandboxConfiguration(databasePath: dir + "/sandbox.sqlite")
        configuration.queueCount = queues
        configuration.rateLimit = rateLimit
        let server = try await SandboxServer.start(configuration)
        defer { Task { await server.stop() } }
        let tenant = ResolvedTenant(name: "bench", endpoint: TenantEndpoint(
            baseURL: server.baseURL, clientID: SimClient.demo.id, clientSecret: SimClient.demo.secret, rateLimit: rateLimit))
        let request = RunbookRequest(
            scriptPath: "rebalance-bench.lua", source: source, args: [String(concurrency)], tenant: tenant, dryRun: false,
            limits: LuaLimits(memoryBytes: 512 << 20, instructions: 0, timeout: 3600), concurrency: concurrency, auditPath: dir + "/audit.sqlite",
            stdlib: stdlibPath, output: { _ in }, log: { _, _ in })
        let started = Date()
        let result = try await RunbookSession.run(request)
        return Figures(seconds: Date().timeIntervalSince(started), requests: result.summary.requests, rateLimited: result.summary.rateLimited,
                       failed: result.outcome.status == .succeeded ? nil : result.outcome.message)
    }

    /// The checkout's stdlib (the bench runs from the repository).
    static var stdlibPath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("stdlib").path
    }

    static func run() async {
        do {
            say("\nrebalance benchmark: \(queues) queues, fetch + build + validate + deploy each, in-process sandbox tenant")
            let sequential = try await measure(concurrency: 1, rateLimit: 0)
            report("sequential", sequential)
            let concurrent = try await measure(concurrency: 8, rateLimit: 0)
            report("cx.each concurrency 8", concurrent)
            say(String(format: "  speed-up concurrency 8 / sequential:   %.2fx   (goal >= 4x)", sequential.seconds / concurrent.seconds))
            let rate = 200.0
            let limited = try await measure(concurrency: 8, rateLimit: rate)
            report("rate limit \(Int(rate)) req/s", limited)
            let bound = Double(limited.requests) / rate
            say(String(format: "  wall / rate-limit bound (%d requests / %.0f per s = %.2f s): %.3f   (goal <= 1.15), 429s received: %d   (goal 0)",
                         limited.requests, rate, bound, limited.seconds / bound, limited.rateLimited))
        } catch {
            say("rebalance benchmark failed: \(error)")
        }
    }

    private static func report(_ name: String, _ f: Figures) {
        if let failed = f.failed { say("  \(name): FAILED: \(failed)"); return }
        say(String(format: "  %-24@ %7.2f s  %5d requests  %7.1f req/s", name as NSString, f.seconds, f.requests, Double(f.requests) / f.seconds)
            .replacingOccurrences(of: "%-24@", with: name))
    }
}
