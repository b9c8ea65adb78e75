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
    /// an offset (`+02:00`). By hand: ISO8601DateFormatter loads ICU's time-zone and locale data,
    /// 2 ms of the start-up of every run that pins the sandbox's clock (the tests, the bench).
    public static func parse(_ text: String) -> Date? {
        var scanner = DigitScanner(Array(text.utf8))
        guard let year = scanner.number(4), scanner.skip("-"), let month = scanner.number(2), scanner.skip("-"),
            let day = scanner.number(2), scanner.skip("T") || scanner.skip("t"), let hour = scanner.number(2), scanner.skip(":"),
            let minute = scanner.number(2), scanner.skip(":"), let second = scanner.number(2)
        else { return nil }
        var fraction = 0.0
        if scanner.skip(".") {
            let digits = scanner.digits()
            guard !digits.isEmpty else { return nil }
            fraction = Double("0." + digits) ?? 0
        }
        var offset = 0
        if !(scanner.skip("Z") || scanner.skip("z")) {
            let sign: Int
            if scanner.skip("+") { sign = 1 } else if scanner.skip("-") { sign = -1 } else { return nil }
            guard let hours = scanner.number(2), scanner.skip(":"), let minutes = scanner.number(2), hours <= 23, minutes <= 59 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard scanner.atEnd, (1...12).contains(month), (1...CivilDate.days(inMonth: month, of: year)).contains(day), hour <= 23, minute <= 59, second <= 59
        else { return nil }
        let seconds = CivilDate.daysSince1970(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    private struct DigitScanner {
        let bytes: [UInt8]
        var at = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var atEnd: Bool { at == bytes.count }

        mutating func skip(_ c: Unicode.Scalar) -> Bool {
            guard at < bytes.count, bytes[at] == UInt8(ascii: c) else { return false }
            at += 1
            return true
        }

        /// Exactly `count` digits.
        mutating func number(_ count: Int) -> Int? {
            guard at + count <= bytes.count else { return nil }
            var value = 0
            for b in bytes[at..<at + count] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) else { return nil }
                value = value * 10 + Int(b - UInt8(ascii: "0"))
            }
            at += count
            return value
        }

        /// The digits from here on (a fraction's).
        mutating func digits() -> String {
            let start = at
            while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
            return String(decoding: bytes[start..<at], as: UTF8.self)
        }
    }
}
