import Foundation
import Synchronization

/// A client-side token bucket shared by every coroutine of a run: `acquire` waits until sending
/// stays under `rate` requests a second, so concurrent work never trips the tenant's limit.
/// Reservations are handed out in order, so waiters do not starve.
///
/// With no configured rate it can learn the tenant's limit instead (`adaptive`): unpaced until
/// the first 429, then additive increase, multiplicative decrease (AIMD, as TCP does): each 429
/// caused by a request sent after the last decrease cuts the rate to `decrease` × what the
/// tenant was seen to accept in the last second; every second without one adds `increase`
/// × that rate back.
public final class TokenBucket: Sendable {
    private let burst: Double
    private let adaptive: Bool
    private let state: Mutex<State>

    /// The multiplicative decrease on a 429, and the additive increase per second (as a share
    /// of the rate set at the last decrease).
    static let decrease = 0.9
    static let increase = 0.01

    private struct State {
        var rate: Double
        var tokens: Double
        var updated: Double
        /// When the rate was last cut; 429s for requests sent before it are the same congestion.
        var lastDecrease = -Double.infinity
        var step = 0.0
        /// Send times of the last second (for the rate the tenant was seen to accept).
        var recent: [Double] = []
    }

    /// `rate` ≤ 0 means unlimited (unless `adaptive`, which starts unlimited and learns).
    /// `burst` defaults to one token (strict pacing).
    public init(rate: Double, burst: Double = 1, adaptive: Bool = false) {
        self.burst = max(1, burst)
        self.adaptive = adaptive && rate <= 0
        state = Mutex(State(rate: max(0, rate), tokens: max(1, burst), updated: ProcessInfo.processInfo.systemUptime))
    }

    /// The current pace in requests a second (0: unpaced).
    public var rate: Double { state.withLock { $0.rate } }

    /// Waits for a token; returns the moment it was granted (pass it to `rateLimited`).
    @discardableResult
    public func acquire() async throws -> Double {
        let (wait, at): (Double, Double) = state.withLock { s in
            let now = ProcessInfo.processInfo.systemUptime
            if adaptive {
                s.recent.append(now)
                if s.recent.count > 64, let cut = s.recent.firstIndex(where: { $0 > now - 1 }), cut > 32 { s.recent.removeFirst(cut) }
                if s.rate > 0 { s.rate += s.step * (now - s.updated) }
            }
            guard s.rate > 0 else {
                s.updated = now
                return (0, now)
            }
            s.tokens = min(burst, s.tokens + (now - s.updated) * s.rate)
            s.updated = now
            s.tokens -= 1  // may go negative: a reservation further in the future
            let wait = s.tokens >= 0 ? 0 : -s.tokens / s.rate
            return (wait, now + wait)
        }
        if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
        return at
    }

    /// A 429 for a request granted at `sentAt`: the adaptive pace comes down (once per congestion).
    public func rateLimited(sentAt: Double) {
        guard adaptive else { return }
        state.withLock { s in
            guard sentAt > s.lastDecrease else { return }
            let now = ProcessInfo.processInfo.systemUptime
            let accepted = Double(s.recent.filter { $0 > now - 1 && $0 <= sentAt }.count)
            let seen = s.rate > 0 ? min(s.rate, max(1, accepted)) : max(1, accepted)
            s.rate = max(1, Self.decrease * seen)
            s.step = Self.increase * s.rate
            s.lastDecrease = now
            s.tokens = min(s.tokens, 0)
            s.updated = now
        }
    }
}
