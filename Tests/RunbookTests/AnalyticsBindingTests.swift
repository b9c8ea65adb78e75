import Testing
import TestSupport

@testable import Runbook

/// `analytics` against the sandbox tenant's traffic model.
@Suite("analytics binding")
struct AnalyticsBindingTests {
    @Test func aQueueWithoutDataIsZerosFlaggedNoData() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(#"""
                local none = analytics("no-such-queue", {metrics = {"answerRate", "offered"}})
                print(none.queue_id, none.no_data, none.answerRate, none.offered)
                local all = analytics("no-such-queue")
                print(all.serviceLevel, all.staffedAgents, all.no_data)
                local real = analytics(queues()[1].id, {metrics = {"answerRate"}})
                print(real.no_data == nil, type(real.answerRate))
                """#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == "no-such-queue\ttrue\t0\t0\n0\t0\ttrue\ntrue\tnumber\n", "\(output)")
        }
    }
}
