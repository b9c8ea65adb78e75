// cxrun-bench: benchmark figures, printed; nothing here asserts (machines are shared and noisy).
//   cxrun-bench            both benchmarks
//   cxrun-bench boundary   the Lua -> Swift call cost only
//   cxrun-bench rebalance  the 500-queue rebalance only
//   cxrun-bench rate       the rate limit learned from 429s only
//   cxrun-bench cpu        client CPU per request, cxrun against Python requests (bench/client_cpu.py)
//   cxrun-bench startup    cxrun run hello.lua against python -c 'import requests'
//   cxrun-bench anchor     seed 000's Python loop against cxrun's runbook (bench/seed000_loop.py)
//   cxrun-bench scale      5,000 queues and 50,000 agents (needs the release cxrun next to it)
//   cxrun-bench audit      the audit store's cost per call, SQLite and PostgreSQL, and a run lock's round trip
import Foundation


let which = CommandLine.arguments.dropFirst().first ?? "all"
if which == "all" || which == "boundary" { BoundaryBench.run() }
if which == "all" || which == "cpu" { ClientCPUBench.run() }
if which == "all" || which == "startup" { StartupBench.run() }
if which == "all" || which == "scale" { ScaleBench.run() }
if which == "all" || which == "anchor" { AnchorBench.run() }
if ["all", "rebalance", "rate", "audit"].contains(which) {
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        if which == "all" || which == "rebalance" { await RebalanceBench.run() }
        if which == "all" || which == "rate" { await RateLearningBench.run() }
        if which == "all" || which == "audit" { await AuditStoreBench.run() }
        done.signal()
    }
    done.wait()
}

/// The programs the process benchmarks run: the release cxrun built next to this binary, and the
/// Python the Makefile installs requests into (.build/venv), else the system's.
enum BenchTools {
    static let bin = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    static let cxrun: String? = {
        let path = bin.appendingPathComponent("cxrun").path
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }()
    static let python: String = [bin.deletingLastPathComponent(), bin.deletingLastPathComponent().deletingLastPathComponent()]
        .map { $0.appendingPathComponent("venv/bin/python").path }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/python3"

    /// Each side's runs, the sides run in turn `rounds` times: on this machine one run's time
    /// varies by half from the next, and run block after block a drift of its speed between the
    /// blocks would move a ratio; in turn, it moves both sides alike.
    static func inTurn(_ rounds: Int, _ sides: [() -> ScaleBench.Run]) -> [[ScaleBench.Run]] {
        var runs = Array(repeating: [ScaleBench.Run](), count: sides.count)
        for _ in 0..<rounds {
            for (i, side) in sides.enumerated() { runs[i].append(side()) }
        }
        return runs
    }
}

/// Writes a line at once (print is buffered when stdout is a pipe).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
