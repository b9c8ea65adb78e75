// cxrun-bench: benchmark figures, printed; nothing here asserts (machines are shared and noisy).
//   cxrun-bench            both benchmarks
//   cxrun-bench boundary   the Lua -> Swift call cost only
//   cxrun-bench rebalance  the 500-queue rebalance only
import Foundation


let which = CommandLine.arguments.dropFirst().first ?? "all"
if which == "all" || which == "boundary" { BoundaryBench.run() }
if which == "all" || which == "rebalance" {
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        await RebalanceBench.run()
        done.signal()
    }
    done.wait()
}

/// Writes a line at once (print is buffered when stdout is a pipe).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
