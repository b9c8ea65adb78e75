import Testing

@testable import Runbook

/// The run summary's numbers.
@Suite("Run summary")
struct RunSummaryTests {
    @Test func secondsShowTwoDecimalsRounded() {
        let cases: [(Double, String)] = [
            (0, "0.00"), (0.004, "0.00"), (0.005, "0.01"), (0.05, "0.05"), (1.4971, "1.50"), (9.999, "10.00"), (12.3, "12.30"),
            (600, "600.00"), (86_400.126, "86400.13"),
        ]
        for (value, text) in cases { #expect(RunSummary.hundredths(value) == text, "\(value)") }
    }
}
