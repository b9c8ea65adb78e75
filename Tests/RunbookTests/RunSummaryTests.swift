import JSONCore
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

/// What a run that did not succeed says it left changed: queues and routing profiles a rollback
/// undoes, and agent statuses none does. Planned and failed calls changed nothing.
@Suite("Run summary: what a failed run left changed")
struct FailedRunSummaryTests {
    static func call(_ seq: Int, _ binding: String, _ target: String, _ status: CallStatus, result: JSONValue? = nil) -> CallRecord {
        CallRecord(runID: "r", seq: seq, binding: binding, target: target, args: [:], result: result, status: status, errorCode: nil,
                   httpStatus: nil, attempts: 1, startedAt: 0, latencyMs: 1)
    }

    @Test func countsWhatLandedAndSaysWhichARollbackUndoes() {
        let calls = [
            Self.call(1, "deploy", "q1", .ok, result: ["version": 2]), Self.call(2, "deploy", "q1", .ok, result: ["version": 3]),
            Self.call(3, "deploy", "q2", .ok, result: ["skipped": true]), Self.call(4, "deploy", "q3", .error),
            Self.call(5, "deploy", "q4", .pending), Self.call(6, "patch", "q5", .planned),
            Self.call(7, "reassign", "u1", .ok, result: ["changed": true, "routing_profile_id": "rp-2", "previous_routing_profile_id": "rp-1"]), Self.call(8, "reassign", "u2", .ok, result: ["changed": false]),
            Self.call(9, "agent_status", "u3", .ok), Self.call(10, "agent_status", "u4", .pending), Self.call(11, "agent_status", "u5", .error),
            Self.call(12, "agent_status", "u6", .planned),
            Self.call(13, "reassign", "u7", .pending), Self.call(14, "reassign", "u8", .pending),
        ]
        // u7's reassign was cut off with its PUT in flight: its pre-image was taken, and a rollback
        // restores it. u8's never got that far (no snapshot): it changed nothing, and counted before.
        let u7 = SnapshotRecord(runID: "r", seq: 13, queueID: "u7", kind: .pre, version: nil, document: ["routingProfileId": "rp-old"])
        var u7Calls = calls
        u7Calls[12].args = ["routing_profile_id": "rp-new"]
        #expect(Rollback.undoable(calls) { [u7] } == (2, 1), "q1 once, q4 pending; u1 changed; u7 had no set profile in its args")
        #expect(Rollback.undoable(u7Calls) { [u7] } == (2, 2), "q1 once, q4 pending; u1 changed, u7 in flight; not u8")
        #expect(Rollback.undoable(u7Calls) { [] } == (2, 1), "with no snapshot, neither pending reassign counts")
        #expect(Rollback.statusesSet(calls) == 2, "u3 set, u4 may have been")
        var summary = RunSummary(runID: "r1", tenant: "t", status: .failed, stats: [], unknownWrites: 0, requests: 0, retries: 0,
                                 rateLimited: 0, auditPath: "a", seconds: 1)
        summary.undoable = Rollback.undoable(calls) { [] }
        summary.statusesSet = Rollback.statusesSet(calls)
        #expect(summary.text.contains("\n  before it ended it changed 2 queues and 1 agent's routing profile, which stay changed: "
                                      + "cxrun rollback --run r1 undoes them\n"), "\(summary.text)")
        #expect(summary.text.contains("\n  before it ended it set 2 agents' statuses, which stay set (no rollback undoes a status)\n"),
                "\(summary.text)")
        #expect(summary.json["statuses_set"]?.intValue == 2)
        summary.status = .succeeded
        #expect(!summary.text.contains("before it ended"), "a run that succeeded says nothing of it")
    }
}
