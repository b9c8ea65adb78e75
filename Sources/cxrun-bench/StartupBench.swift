import Foundation

/// Start-up: `cxrun run hello.lua` (the release binary, the in-process sandbox tenant, a fresh
/// folder whose audit log the first run creates) against `python -c 'import requests'`, median of
/// 15 each, the two run in turn (run one block after the other, a drift in this machine's speed
/// between the blocks moved the ratio); the ratio to three places, so a figure just over the goal
/// does not round into it.
enum StartupBench {
    static func run() {
        guard let cxrun = BenchTools.cxrun else { return say("\nstart-up benchmark: no cxrun next to cxrun-bench") }
        let python = BenchTools.python
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cxrun-startup-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try? "print(\"hello\")\n".write(toFile: dir + "/hello.lua", atomically: true, encoding: .utf8)
        func median(_ times: [Double]) -> Double { times.sorted()[times.count / 2] }
        let home = ["HOME=" + dir, "CXRUN_SANDBOX_CLOCK=2026-01-05T03:00:00Z"]
        _ = ScaleBench.spawn(cxrun, ["run", "--audit-db", dir + "/audit.sqlite", dir + "/hello.lua"], environment: home)  // warm the page cache
        let check = ScaleBench.spawn(python, ["-c", "import requests"], environment: [])
        guard check.status == 0 else { return say("\nstart-up benchmark: \(python) cannot import requests (make bench installs it)") }
        let runs = BenchTools.inTurn(15, [
            { ScaleBench.spawn(cxrun, ["run", "--audit-db", dir + "/audit.sqlite", dir + "/hello.lua"], environment: home) },
            { ScaleBench.spawn(python, ["-c", "import requests"], environment: []) },
        ])
        let (ours, theirs) = (median(runs[0].map(\.seconds)), median(runs[1].map(\.seconds)))
        say("\nstart-up: median of 15, run in turn")
        say(String(format: "  cxrun run hello.lua %.1f ms, python -c 'import requests' %.1f ms: ratio %.3f   (goal <= 0.1)",
                   ours * 1000, theirs * 1000, ours / theirs))
    }
}
