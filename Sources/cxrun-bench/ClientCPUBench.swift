import Foundation
import Runbook

/// Client CPU per request: cxrun (release, every call audited) and Python with requests make the
/// same requests to one standalone `cxrun sim` (a process of its own, so only the client's CPU
/// is counted): 2,880 fetches, then a fetch and a PUT for each of 500 queues. Each side's CPU for
/// a run that makes no call (start-up, token) is subtracted. The two sides run alternately, five
/// times each, and each keeps its least CPU: on this virtual machine the same run's CPU varies by
/// half from one run to the next, and that noise only adds.
enum ClientCPUBench {
    static let queues = 500
    static let reads = 2_880
    static let rounds = 5

    static func run() {
        guard let cxrun = BenchTools.cxrun else { return say("\nclient CPU benchmark: no cxrun next to cxrun-bench") }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let python = BenchTools.python
        let script = repo.appendingPathComponent("bench/client_cpu.py").path
        say("\nclient CPU per request: cxrun vs Python requests, one standalone cxrun sim (\(queues) queues), least of \(rounds) alternate runs")
        do {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cxrun-cpu-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let sim = try SimProcess(cxrun: cxrun, folder: dir, arguments: ["--queues", String(queues)])
            defer { sim.stop() }
            try "[tenants.cpu]\nbase_url = \"\(sim.url)\"\nclient_id = \"cxrun-demo\"\nclient_secret_env = \"CPU_SECRET\"\nrate_limit = 0\n"
                .write(toFile: dir + "/cxrun.toml", atomically: true, encoding: .utf8)
            let scripts = [
                "empty": "return 0\n",
                "reads": """
                    local ids = {}
                    for _, q in ipairs(queues()) do ids[#ids + 1] = q.id end
                    for i = 1, \(reads) do fetch(ids[(i - 1) % #ids + 1]) end
                    """,
                "pairs": """
                    for _, q in ipairs(queues()) do
                      local doc = fetch(q.id)
                      deploy(q.id, build(doc, {maxWaitTime = doc.maxWaitTime + 1}))
                    end
                    """,
            ]
            for (name, text) in scripts { try text.write(toFile: dir + "/\(name).lua", atomically: true, encoding: .utf8) }
            func ours(_ name: String) -> ScaleBench.Run {
                ScaleBench.spawn(cxrun, ["run", "--config", dir + "/cxrun.toml", "--tenant", "cpu", "--audit-db", dir + "/audit.sqlite",
                                         dir + "/\(name).lua"], environment: ["CPU_SECRET=cxrun-demo-secret", "HOME=" + dir])
            }
            func theirs(_ mode: [String]) -> ScaleBench.Run {
                ScaleBench.spawn(python, [script, sim.url, "cxrun-demo", "cxrun-demo-secret"] + mode, environment: [])
            }
            /// Each side's least CPU over `rounds` runs of them in turn.
            func least(_ sides: [() -> ScaleBench.Run]) throws -> [Double] {
                try BenchTools.inTurn(rounds, sides).map { runs in
                    if let failed = runs.first(where: { $0.status != 0 }) { throw BenchError("a client exited \(failed.status)") }
                    return runs.map(\.cpuSeconds).min() ?? 0
                }
            }
            let listing = Double((queues + 99) / 100)  // the listing's pages, made by both sides
            let base = try least([{ ours("empty") }, { theirs(["empty"]) }])
            let readRuns = try least([{ ours("reads") }, { theirs(["reads", String(reads)]) }])
            let pairRuns = try least([{ ours("pairs") }, { theirs(["pairs"]) }])
            let floorRun = try least([{ theirs(["floor", String(reads)]) }])[0]
            let floorPairsRun = try least([{ theirs(["floorpairs"]) }])[0]
            let readCost = (cx: (readRuns[0] - base[0]) / (Double(reads) + listing), py: (readRuns[1] - base[1]) / (Double(reads) + listing))
            let pairCost = (cx: (pairRuns[0] - base[0]) / (Double(queues * 2) + listing), py: (pairRuns[1] - base[1]) / (Double(queues * 2) + listing))
            let floor = (floorRun - base[1]) / (Double(reads) + listing)
            say(String(format: "  start-up CPU (no call): cxrun %.1f ms, python %.1f ms", base[0] * 1000, base[1] * 1000))
            for (label, cost) in [("reads (fetch)", readCost), ("fetch + deploy", pairCost)] {
                say(String(format: "  %@: cxrun %.3f ms, python %.3f ms per request: %.1fx cheaper   (goal <= 0.1 ms, >= 8x)",
                           label, cost.cx * 1000, cost.py * 1000, cost.py / cost.cx))
            }
            // What the same reads cost with no client at all: the kernel's share of a request and
            // its answer over loopback. A goal below it cannot be met by any client.
            say(String(format: "  floor: the same reads over one raw socket (no parsing, no audit) %.3f ms per request; cxrun's reads %.1fx it",
                       floor * 1000, readCost.cx / floor))
            // Fetch + deploy has a floor of its own: the same requests over a raw socket, plus the
            // audit log's commit of a write before its PUT, with what DESIGN §6–7 asks of it (its
            // pending row, the pre-image, the run lock, and the outcome of the write before).
            let floorPairs = (floorPairsRun - base[1]) / (Double(queues * 2) + listing)
            let commits = try auditWriteCPU(in: dir) / 2  // two requests per write
            let least = floorPairs + commits
            say(String(format: "  floor of fetch + deploy: raw socket %.3f + the write's audit commit %.3f = %.3f ms per request; "
                       + "8x cheaper than python is %.3f ms: %@", floorPairs * 1000, commits * 1000, least * 1000, pairCost.py / 8 * 1000,
                       least > pairCost.py / 8 ? "below the floor: no client that keeps the audit log's guarantees meets 8x here" as NSString
                       : least >= pairCost.py / 8 * 0.9 ? "within a tenth of the floor, leaving no room for the client's own work" as NSString
                       : String(format: "%.3f ms left for HTTP, JSON and Lua", (pairCost.py / 8 - least) * 1000) as NSString))
        } catch {
            say("  client CPU benchmark failed: \(error)")
        }
    }

    /// This thread's CPU for one audited write's rows committed with what DESIGN §6–7 asks (see
    /// `AuditStoreBench.writeCalls`; no post-image), least of five blocks of 500.
    static func auditWriteCPU(in dir: String) throws -> Double {
        let store = try AuditStore(path: dir + "/floor-audit.sqlite")
        let run = try AuditStoreBench.startRun(store)
        func cpu() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        var best = Double.infinity
        for block in 0..<5 {
            let start = cpu()
            try AuditStoreBench.writeCalls(store, run: run, (block * 500 + 1)..<(block * 500 + 501), postImage: false)
            best = min(best, (cpu() - start) / 500)
        }
        return best
    }
}
