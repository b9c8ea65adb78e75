import Foundation
import Synchronization

/// A token bucket per client: `rate` requests a second, bursts up to one second's worth.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    private let rate: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    /// `rate` ≤ 0 means unlimited.
    init(rate: Double) { self.rate = rate }

    /// Takes one token for `client`; returns nil when allowed, else seconds until one is available.
    func take(_ client: String, now: Double = Date().timeIntervalSince1970) -> Double? {
        guard rate > 0 else { return nil }
        return buckets.withLock { buckets in
            var bucket = buckets[client] ?? Bucket(tokens: max(1, rate), updated: now)
            bucket.tokens = min(max(1, rate), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            defer { buckets[client] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return (1 - bucket.tokens) / rate
        }
    }
}
