import Foundation

/// Waits, without blocking a thread of the cooperative pool, until `done()` holds, `timeout`
/// seconds pass, or `stop()` holds (a stop signal: the operator does not want to wait) or the
/// calling task is cancelled (its sleeps would return at once: waiting on would spin). With
/// `grace`, a stop still waits that long: for what a stop cut off to finish saying so.
/// Returns whether `done()` held.
func settle(timeout: Double, stop: @Sendable () -> Bool = { false }, grace: Double = 0, until done: () -> Bool) async -> Bool {
    var deadline = ContinuousClock.now + .milliseconds(Int64(max(0, timeout) * 1000))
    var stopped = false
    while !done() {
        if Task.isCancelled || ContinuousClock.now >= deadline { return false }
        if !stopped && stop() {
            stopped = true
            deadline = min(deadline, ContinuousClock.now + .milliseconds(Int64(max(0, grace) * 1000)))
            continue
        }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return true
}
