// cxrun-bench: benchmark figures, printed; nothing here asserts (machines are shared and noisy).
//   cxrun-bench            both benchmarks
//   cxrun-bench boundary   the Lua -> Swift call cost only
//   cxrun-bench rebalance  the 500-queue rebalance only
//   cxrun-bench rate       the rate limit learned from 429s only
import Foundation


let which = CommandLine.arguments.dropFirst().first ?? "all"
if which == "all" || which == "boundary" { BoundaryBench.run() }
if which == "all" || which == "rebalance" || which == "rate" {
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        if which != "rate" { await RebalanceBench.run() }
        if which != "rebalance" { await RateLearningBench.run() }
        done.signal()
    }
    done.wait()
}

/// Writes a line at once (print is buffered when stdout is a pipe).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
