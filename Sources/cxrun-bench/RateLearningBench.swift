import Foundation

/// A rate limit nobody told the client about: the tenant allows 100 requests a second, the
/// client has no `rate_limit` and learns it from the 429s (AIMD, shared by every coroutine).
enum RateLearningBench {
    static let serverRate = 100.0
    static let calls = 2_000
    static let script = """
        local ids = {}
        for _, q in ipairs(queues()) do ids[#ids + 1] = q.id end
        local list = {}
        for i = 1, \(calls) do list[i] = ids[(i - 1) % #ids + 1] end
        cx.each(list, function(id) return fetch(id).version end, {concurrency = tonumber(cx.args[1])})
        """

    static func run() async {
        do {
            say("\nrate limit learned from 429s: tenant limit \(Int(serverRate)) req/s, client unconfigured, \(calls) fetch calls, cx.each concurrency 8")
            let f = try await RebalanceBench.measure(concurrency: 8, rateLimit: 0, serverRate: serverRate, script: script)
            if let failed = f.failed { return say("  FAILED: \(failed)") }
            let answered = Double(f.requests - f.rateLimited)
            say(String(format: "  %d requests in %.2f s: %.1f req/s answered = %.3f of the limit   (goal >= 0.9)", f.requests, f.seconds,
                       answered / f.seconds, answered / f.seconds / serverRate))
            say(String(format: "  429s: %d = %.2f%% of requests   (goal <= 1%%)", f.rateLimited, 100 * Double(f.rateLimited) / Double(max(1, f.requests))))
        } catch {
            say("rate learning benchmark failed: \(error)")
        }
    }
}
