import Testing

@testable import CXone

/// The client's pacing: a configured rate, or one learned from 429s (AIMD).
@Suite("Token bucket")
struct TokenBucketTests {
    @Test func anUnconfiguredBucketIsUnpacedUntilA429ThenCutsOncePerCongestion() async throws {
        let bucket = TokenBucket(rate: 0, adaptive: true)
        var granted: [Double] = []
        for _ in 0..<50 { granted.append(try await bucket.acquire()) }
        #expect(bucket.rate == 0, "unpaced until the tenant says otherwise")
        bucket.rateLimited(sentAt: granted[49])
        #expect(bucket.rate == 45, "0.9 x the 50 requests the tenant was seen to take in the last second")
        bucket.rateLimited(sentAt: granted[48])
        #expect(bucket.rate == 45, "a 429 for a request sent before the cut is the same congestion")
        let next = try await bucket.acquire()
        bucket.rateLimited(sentAt: next)
        #expect(bucket.rate >= 45, "within a second of the cut it is the same congestion: \(bucket.rate)")
    }

    @Test func cutsNeverTakeThePaceBelowATenthOfTheBestSecond() async throws {
        let bucket = TokenBucket(rate: 0, adaptive: true)
        var last = 0.0
        for _ in 0..<200 { last = try await bucket.acquire() }
        bucket.rateLimited(sentAt: last)
        #expect(bucket.rate == 180)
        // However many 429s follow (a fault, not the rate), the floor holds: 200 / 10.
        for _ in 0..<60 { bucket.rateLimitedForTesting(sentAt: Double.greatestFiniteMagnitude) }
        #expect(bucket.rate == 20)
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
