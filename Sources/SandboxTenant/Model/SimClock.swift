import CXShared
import Foundation
import Synchronization

/// The tenant's idea of "now" for everything that follows the time of day (traffic, shifts,
/// wrap-up). Real time by default; pinned, it starts at the given instant and advances with real
/// elapsed time, so tests and demos give the same numbers at any hour while timers still run.
/// Tokens, rate limits and webhook signature windows measure real durations and do not use it.
public final class SimClock: Sendable {
    private struct Pin { var start: Date; var at: ContinuousClock.Instant }
    private let pin: Mutex<Pin?>

    /// `start` pins the clock at that instant; nil follows the real clock.
    public init(start: Date? = nil) {
        pin = Mutex(start.map { Pin(start: $0, at: .now) })
    }

    /// The tenant's current time.
    public func now() -> Date {
        pin.withLock { pin in
            guard let pin else { return Date() }
            let elapsed = ContinuousClock.now - pin.at
            return pin.start.addingTimeInterval(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
    }

    /// Seconds since 1970 on the tenant's clock.
    public var seconds: Double { now().timeIntervalSince1970 }

    /// Pins the clock at `start` (nil: back to the real clock).
    public func set(_ start: Date?) {
        pin.withLock { $0 = start.map { Pin(start: $0, at: .now) } }
    }

    /// Whether the clock is pinned.
    public var isPinned: Bool { pin.withLock { $0 != nil } }

    /// Parses an RFC 3339 time: `2026-01-05T12:00:00Z`, with or without fractional seconds, `Z` or
    /// an offset (`+02:00`).
    public static func parse(_ text: String) -> Date? { RFC3339.time(text).map(Date.init(timeIntervalSince1970:)) }
}
