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
    /// Seconds on a monotonic clock (a test pins it).
    private let clock: @Sendable () -> Double

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
        /// Send times of the last second (from `head` on; for the rate the tenant was seen to accept).
        var recent: [Double] = []
        var head = 0
        /// The most the tenant was seen to accept in a second: the pace never falls below a tenth
        /// of it, so 429s that are not about the rate (faults, another client's burst) cannot
        /// talk it down to nothing.
        var peak = 0.0
    }

    /// `rate` ≤ 0 means unlimited (unless `adaptive`, which starts unlimited and learns).
    /// `burst` defaults to one token (strict pacing).
    public init(rate: Double, burst: Double = 1, adaptive: Bool = false,
                clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        self.burst = max(1, burst)
        self.adaptive = adaptive && rate <= 0
        self.clock = clock
        state = Mutex(State(rate: max(0, rate), tokens: max(1, burst), updated: clock()))
    }

    /// The current pace in requests a second (0: unpaced).
    public var rate: Double { state.withLock { $0.rate } }

    /// Waits for a token; returns the moment it was granted (pass it to `rateLimited`).
    @discardableResult
    public func acquire() async throws -> Double {
        let (wait, at): (Double, Double) = state.withLock { s in
            let now = clock()
            if adaptive {
                s.recent.append(now)
                while s.recent[s.head] <= now - 1 { s.head += 1 }
                if s.head > 1024 {
                    s.recent.removeFirst(s.head)
                    s.head = 0
                }
                s.peak = max(s.peak, Double(s.recent.count - s.head))
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
            let now = clock()
            // One cut per congestion: 429s for requests sent before the last cut, or within a
            // second of it, are the same event.
            guard sentAt > s.lastDecrease, now - s.lastDecrease >= 1 else { return }
            let accepted = Double(s.recent[s.head...].filter { $0 > now - 1 && $0 <= sentAt }.count)
            let seen = s.rate > 0 ? min(s.rate, max(1, accepted)) : max(1, accepted)
            s.rate = max(1, Self.decrease * seen, s.peak / 10)
            s.step = Self.increase * s.rate
            s.lastDecrease = now
            s.tokens = min(s.tokens, 0)
            s.updated = now
        }
    }
}
