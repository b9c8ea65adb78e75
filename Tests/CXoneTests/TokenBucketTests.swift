import Synchronization
import Testing

@testable import CXone

/// The client's pacing: a configured rate, or one learned from 429s (AIMD). The clock is pinned.
@Suite("Token bucket")
struct TokenBucketTests {
    final class Clock: Sendable {
        let now = Mutex(1_000.0)
        func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
        var read: @Sendable () -> Double { { [self] in now.withLock { $0 } } }
    }

    @Test func anUnconfiguredBucketIsUnpacedUntilA429ThenCutsOncePerCongestion() async throws {
        let clock = Clock()
        let bucket = TokenBucket(rate: 0, adaptive: true, clock: clock.read)
        var granted: [Double] = []
        for _ in 0..<50 {
            clock.advance(0.01)
            granted.append(try await bucket.acquire())
        }
        #expect(bucket.rate == 0, "unpaced until the tenant says otherwise")
        bucket.rateLimited(sentAt: granted[49])
        #expect(bucket.rate == 45, "0.9 x the 50 requests the tenant was seen to take in the last second")
        bucket.rateLimited(sentAt: granted[48])
        #expect(bucket.rate == 45, "a 429 for a request sent before the cut is the same congestion")
        clock.advance(0.5)
        bucket.rateLimited(sentAt: clock.read())
        #expect(bucket.rate == 45, "within a second of the cut it is the same congestion")
        clock.advance(10)
        _ = try await bucket.acquire()
        #expect(abs(bucket.rate - (45 + 0.45 * 10.5)) < 0.01, "additive increase: 1% of the cut rate a second: \(bucket.rate)")
    }

    @Test func cutsNeverTakeThePaceBelowATenthOfTheBestSecond() async throws {
        let clock = Clock()
        let bucket = TokenBucket(rate: 0, adaptive: true, clock: clock.read)
        for _ in 0..<200 {
            clock.advance(0.001)
            _ = try await bucket.acquire()
        }
        bucket.rateLimited(sentAt: clock.read())
        #expect(bucket.rate == 180)
        // However many 429s follow, a second apart (a fault, not the rate), the floor holds: 200 / 10.
        for _ in 0..<60 {
            clock.advance(1.5)
            bucket.rateLimited(sentAt: clock.read())
        }
        #expect(bucket.rate >= 20 && bucket.rate < 21, "\(bucket.rate)")
    }

    @Test func aConfiguredOrExplicitlyUnpacedBucketNeverLearns() async throws {
        let fixed = TokenBucket(rate: 20, adaptive: true)
        _ = try await fixed.acquire()
        fixed.rateLimited(sentAt: 1e12)
        #expect(fixed.rate == 20)
        let unpaced = TokenBucket(rate: 0, adaptive: false)
        _ = try await unpaced.acquire()
        unpaced.rateLimited(sentAt: 1e12)
        #expect(unpaced.rate == 0)
    }
}
