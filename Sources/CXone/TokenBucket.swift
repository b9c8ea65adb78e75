import Foundation
import Synchronization

/// A client-side token bucket: `acquire` waits until sending stays under `rate` requests a
/// second, so concurrent work never trips the tenant's limit. Reservations are handed out in
/// order, so waiters do not starve.
public final class TokenBucket: Sendable {
    private let rate: Double
    private let burst: Double
    private let state: Mutex<(tokens: Double, updated: Double)>

    /// `rate` ≤ 0 means unlimited. `burst` defaults to one token (strict pacing).
    public init(rate: Double, burst: Double = 1) {
        self.rate = rate
        self.burst = max(1, burst)
        state = Mutex((max(1, burst), ProcessInfo.processInfo.systemUptime))
    }

    /// Waits for a token.
    public func acquire() async throws {
        guard rate > 0 else { return }
        let wait: Double = state.withLock { s in
            let now = ProcessInfo.processInfo.systemUptime
            s.tokens = min(burst, s.tokens + (now - s.updated) * rate)
            s.updated = now
            s.tokens -= 1  // may go negative: a reservation further in the future
            return s.tokens >= 0 ? 0 : -s.tokens / rate
        }
        if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
    }
}
