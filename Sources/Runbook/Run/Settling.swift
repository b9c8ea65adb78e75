import Foundation

/// Waits, without blocking a thread of the cooperative pool, until `done()` holds, `timeout`
/// seconds pass, or `stop()` holds (a stop signal: the operator does not want to wait) or the
/// calling task is cancelled (its sleeps would return at once: waiting on would spin).
/// Returns whether `done()` held.
func settle(timeout: Double, stop: @Sendable () -> Bool = { false }, until done: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(max(0, timeout) * 1000))
    while !done() {
        if stop() || Task.isCancelled || ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return true
}
