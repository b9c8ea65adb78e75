import Foundation

/// When and how long to wait before trying a request again.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included.
    public var maxAttempts = 6
    /// First backoff ceiling; doubles each attempt (full jitter picks in [0, ceiling]).
    public var baseDelay = 0.1
    public var maxDelay = 8.0
    /// The longest `Retry-After` honoured before giving up with `rate_limited`.
    public var maxRetryAfter = 60.0

    public init() {}

    /// Exponential backoff with full jitter for attempt `n` (1 = after the first failure).
    public func backoff(attempt: Int, random: Double = Double.random(in: 0..<1)) -> Double {
        let ceiling = min(maxDelay, baseDelay * pow(2, Double(max(0, attempt - 1))))
        return ceiling * random
    }

    /// How long to wait before attempt `attempt + 1` after a 429 or 5xx: the server's
    /// `Retry-After`, else the backoff; nil when the server asks for more than `maxRetryAfter`.
    public func delay(retryAfter header: String?, attempt: Int) -> Double? {
        let wait = Self.retryAfter(header) ?? backoff(attempt: attempt)
        return wait <= maxRetryAfter ? wait : nil
    }

    /// `Retry-After` as seconds from `now`: delta-seconds or an HTTP date. Nil when absent or
    /// unreadable (`inf` and `nan` included).
    public static func retryAfter(_ header: String?, now: Date = Date()) -> Double? {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return nil }
        if let seconds = Double(header) { return seconds.isFinite ? max(0, seconds) : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: header) { return max(0, date.timeIntervalSince(now)) }
        }
        return nil
    }
}
