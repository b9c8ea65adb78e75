import Foundation

/// The Python anchor: seed 000's own loop with requests (bench/seed000_loop.py) against cxrun's
/// equivalent runbook, both against the same standalone `cxrun sim` with 500 queues: sequential
/// with no added latency, then with a 10 ms round trip (the sim's latencyMs) where cxrun uses
/// `cx.each` concurrency 16 and the seed's loop stays as written. Each side runs three times, in
/// turn, and keeps its shortest time: one run's wall time here varies by half from the next, and
/// that noise only adds. (Every run writes each queue once more: the same work each time.)
enum AnchorBench {
    static let queues = 500
    static let rounds = 3

    static func run() {
        guard let cxrun = BenchTools.cxrun else { return say("\nanchor benchmark: no cxrun next to cxrun-bench") }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let loop = repo.appendingPathComponent("bench/seed000_loop.py").path
        let python = BenchTools.python
        say("\nthe Python anchor: seed 000's loop (requests, sequential) vs cxrun's runbook, \(queues) queues, one standalone cxrun sim, best of \(rounds) alternate runs")
        for (latency, concurrency) in [(0, 1), (10, 16)] {
            do {
                let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cxrun-anchor-\(UUID().uuidString)").path
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                defer { try? FileManager.default.removeItem(atPath: dir) }
                let sim = try SimProcess(cxrun: cxrun, folder: dir,
                                         arguments: ["--queues", String(queues)] + (latency > 0 ? ["--fault", "latencyMs=\(latency)"] : []))
                defer { sim.stop() }
                try "[tenants.anchor]\nbase_url = \"\(sim.url)\"\nclient_id = \"cxrun-demo\"\nclient_secret_env = \"ANCHOR_SECRET\"\nrate_limit = 0\n"
                    .write(toFile: dir + "/cxrun.toml", atomically: true, encoding: .utf8)
                try RebalanceBench.source.write(toFile: dir + "/rebalance.lua", atomically: true, encoding: .utf8)
                let runs = BenchTools.inTurn(rounds, [
                    { ScaleBench.spawn(python, [loop, sim.url, "cxrun-demo", "cxrun-demo-secret"], environment: []) },
                    { ScaleBench.spawn(cxrun, ["run", "--config", dir + "/cxrun.toml", "--tenant", "anchor", "--audit-db", dir + "/audit.sqlite",
                                               "--concurrency", String(concurrency), dir + "/rebalance.lua", "--", String(concurrency)],
                                       environment: ["ANCHOR_SECRET=cxrun-demo-secret"]) },
                ])
                let failed = zip(runs[0], runs[1]).first { $0.status != 0 || $1.status != 0 }
                if let (seedRun, ourRun) = failed {
                    return say("  latency \(latency) ms: failed (python exit \(seedRun.status), cxrun exit \(ourRun.status))")
                }
                let (seed, ours) = (runs[0].map(\.seconds).min() ?? .infinity, runs[1].map(\.seconds).min() ?? .infinity)
                let goal = latency == 0 ? ">= 3x" : ">= 10x"
                say(String(format: "  %2d ms round trip: seed loop %.2f s, cxrun %@ %.2f s: %.1fx faster   (goal %@)", latency, seed,
                           concurrency == 1 ? "sequential" : "cx.each concurrency \(concurrency)", ours, seed / ours, goal))
                if latency == 0 { try floor(seed: seed, ours: ours, cxrun: cxrun, python: python, sim: sim, dir: dir, repo: repo) }
            } catch {
                return say("  anchor benchmark failed: \(error)")
            }
        }
    }

    /// How fast any client could be: the same exchanges over one raw socket (nothing parsed but
    /// the head, no Lua, no audit; client_cpu.py's floorpairs, its start-up and token taken off)
    /// after cxrun's own start-up and token. The sim's work is in it, as it is in both sides' times.
    static func floor(seed: Double, ours: Double, cxrun: String, python: String, sim: SimProcess, dir: String, repo: URL) throws {
        let script = repo.appendingPathComponent("bench/client_cpu.py").path
        try "return 0\n".write(toFile: dir + "/empty.lua", atomically: true, encoding: .utf8)
        let runs = BenchTools.inTurn(rounds, [
            { ScaleBench.spawn(python, [script, sim.url, "cxrun-demo", "cxrun-demo-secret", "empty"], environment: []) },
            { ScaleBench.spawn(python, [script, sim.url, "cxrun-demo", "cxrun-demo-secret", "floorpairs"], environment: []) },
            { ScaleBench.spawn(cxrun, ["run", "--config", dir + "/cxrun.toml", "--tenant", "anchor", "--audit-db", dir + "/empty-audit.sqlite",
                                       dir + "/empty.lua"], environment: ["ANCHOR_SECRET=cxrun-demo-secret"]) },
        ])
        if let failed = runs.joined().first(where: { $0.status != 0 }) { throw BenchError("a floor run exited \(failed.status)") }
        let least = runs.map { $0.map(\.seconds).min() ?? .infinity }
        let best = max(least[1] - least[0], 0) + least[2]
        say(String(format: "     floor: cxrun's start-up %.3f s + the same exchanges over one raw socket %.3f s = %.2f s, so at most %.1fx; "
                   + "cxrun's own work above it %.2f s, where 3x allows %.2f s", least[2], best - least[2], best, seed / best, ours - best,
                   max(seed / 3 - best, 0)))
        // Each write's audit commit is made before its PUT is sent (DESIGN §7), so it is on the
        // sequential path: the least an audited client adds to the floor.
        let commits = try ClientCPUBench.auditWriteCPU(in: dir) * Double(queues)
        say(String(format: "     with the audit log's commit before each PUT (%.3f ms a write, %.3f s for %d): %.2f s, so an audited client is at most %.2fx, "
                   + "and 3x leaves it %.3f s for everything else", commits / Double(queues) * 1000, commits, queues, best + commits,
                   seed / (best + commits), max(seed / 3 - best - commits, 0)))
    }
}
