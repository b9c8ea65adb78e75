import CXShared
import Foundation
import SandboxTenant
import Testing

/// The sandbox clock's time parser (hand-written, so a pinned clock costs no ICU at start-up).
@Suite("Sandbox tenant: clock")
struct SimClockTests {
    @Test func parsesWhatISO8601DateFormatterParses() throws {
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let texts = [
            "2026-01-05T03:00:00Z", "1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2024-12-31T12:30:45+02:00",
            "2024-03-01T00:00:00-05:30", "1969-07-20T20:17:40Z", "2100-02-28T00:00:00Z", "2026-11-27T01:02:03.250Z",
            "2026-11-27T01:02:03.5+01:00",
        ]
        for text in texts {
            let expected = try #require(plain.date(from: text) ?? fractional.date(from: text), "\(text)")
            let parsed = try #require(SimClock.parse(text), "\(text)")
            #expect(abs(parsed.timeIntervalSince1970 - expected.timeIntervalSince1970) < 0.001, "\(text): \(parsed) against \(expected)")
        }
        #expect(SimClock.parse("2026-01-05T03:00:00Z")?.timeIntervalSince1970 == 1_767_582_000)
    }

    @Test func refusesWhatIsNotAnInternetTime() {
        let bad = [
            "", "2026-01-05", "2026-01-05T03:00:00", "2026-13-05T03:00:00Z", "2026-02-29T03:00:00Z", "2026-01-32T03:00:00Z",
            "2026-01-05T24:00:00Z", "2026-01-05T03:60:00Z", "2026-01-05T03:00:60Z", "2026-01-05 03:00:00Z", "2026-01-05T03:00:00.Z",
            "2026-01-05T03:00:00+2:00", "2026-01-05T03:00:00+24:00", "2026-01-05T03:00:00Zjunk", "26-01-05T03:00:00Z",
            "2026-1-05T03:00:00Z", "２０２６-01-05T03:00:00Z", "2026-01-05T03:00:00+02",
        ]
        for text in bad { #expect(SimClock.parse(text) == nil, "\(text)") }
    }

    /// A bare date (`cxrun audit runs --since 2026-11-20`) is the start of that day in UTC.
    @Test func aDateIsTheStartOfItsDayInUTC() {
        #expect(RFC3339.date("2026-01-05") == 1_767_571_200 && RFC3339.date("1970-01-01") == 0 && RFC3339.date("2024-02-29") != nil)
        for bad in ["2026-02-29", "2026-1-05", "2026-01-05T00:00:00Z", "20260105", ""] { #expect(RFC3339.date(bad) == nil, "\(bad)") }
    }
}
