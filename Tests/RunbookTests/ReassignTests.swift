import CXone
import Foundation
import GRDB
import JSONCore
import Testing
import TestSupport

@testable import Runbook

/// `reassign(user_id, routing_profile_id)` over real HTTP: set, refused, planned, applied from a
/// plan, and undone in the run and later.
@Suite("reassign: an agent's routing profile")
struct ReassignTests {
    static func profile(_ bench: Bench, _ user: String) async throws -> JSONValue? {
        try await CXoneClient(endpoint: bench.tenant().endpoint!).user(user).value["routingProfileId"]
    }

    /// The first agent's id and routing profile.
    static func someAgent(_ bench: Bench) async throws -> (id: String, profile: String) {
        let users = try await CXoneClient(endpoint: bench.tenant().endpoint!).users().value
        let user = try #require(users.first { $0["routingProfileId"]?.stringValue != nil })
        return (user["id"]!.stringValue!, user["routingProfileId"]!.stringValue!)
    }

    /// Two of the sandbox's routing profiles other than `profile`.
    static func others(than profile: String) -> (String, String) {
        let ids = (1...6).map { "profile-\($0)" }.filter { $0 != profile }
        return (ids[0], ids[1])
    }

    @Test func setsTheProfileAndARollbackInTheRunPutsItBack() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (user, before) = try await Self.someAgent(bench)
            let (to, _) = Self.others(than: before)
            let (result, output) = try await bench.run("""
                local r = reassign("\(user)", "\(to)")
                print(r.previous_routing_profile_id, r.routing_profile_id, r.changed, type(r.latency_ms))
                print(agent("\(user)").routingProfileId)
                local again = reassign("\(user)", "\(to)")
                print("again", again.changed)
                local back = rollback("\(user)")
                print("back", back.routing_profile_id, back.changed)
                for _, bad in ipairs({"", "x\\1y"}) do
                  local ok, err = pcall(reassign, "\(user)", bad)
                  print("bad", ok, err.code)
                end
                local ok, err = pcall(reassign, "no-such-user", "profile-1")
                print("missing", ok, err.code)
                """)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output.hasPrefix("\(before)\t\(to)\ttrue\tnumber\n\(to)\nagain\tfalse\nback\t\(before)\ttrue\n"), "\(output)")
            #expect(output.contains("bad\tfalse\tinvalid\nbad\tfalse\tinvalid\nmissing\tfalse\tnot_found"), "\(output)")
            #expect(try await Self.profile(bench, user) == .string(before))
            let calls = try bench.audit.calls(run: result.summary.runID).filter { ["reassign", "rollback"].contains($0.binding) }
            #expect(calls.map(\.binding) == ["reassign", "reassign", "rollback", "reassign", "reassign", "reassign"], "one row per call")
            #expect(calls.map(\.status) == [.ok, .ok, .ok, .error, .error, .error])
        }
    }

    /// A profile the tenant does not have is refused before anything is sent, naming the nearest
    /// and the ones there are; a dry run refuses it too (it planned the typo as a change).
    @Test(arguments: [false, true]) func aProfileTheTenantDoesNotHaveIsRefusedNamingItsProfiles(_ dryRun: Bool) async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (user, before) = try await Self.someAgent(bench)
            let (result, output) = try await bench.run("""
                local ok, err = pcall(reassign, "\(user)", "profile-7")
                print(ok, err.code, err.details.routing_profile_id)
                print(err.message)
                local ok2, err2 = pcall(reassign, "\(user)", "Profile-1")
                print(ok2, err2.code)
                """, dryRun: dryRun)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output.hasPrefix("false\tnot_found\tprofile-7\nreassign: the tenant has no routing profile \"profile-7\"; did you mean profile-1? "
                                     + "its profiles: profile-1 (Voice Tier 1), profile-2 (Voice Tier 2), "), "\(output)")
            #expect(output.hasSuffix("profile-6 (Escalations)\nfalse\tnot_found\n"), "\(output)")
            #expect(result.plannedChanges.isEmpty)
            #expect(try await bench.requests().allSatisfy { $0["method"]?.stringValue == "GET" || $0["path"]?.stringValue == "/oauth/token" },
                    "nothing was written")
            #expect(try await Self.profile(bench, user) == .string(before))
            let listings = try await bench.requests().filter { $0["path"]?.stringValue?.hasPrefix("/api/v2/routing/profiles") == true }
            #expect(listings.count == 1, "the profiles are read once a run")
        }
    }

    /// `routing_profiles()` reads them (audited), and a reassignment after it does not read them again.
    @Test func routingProfilesListsTheIdsReassignTakes() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (user, before) = try await Self.someAgent(bench)
            let (to, _) = Self.others(than: before)
            let (result, output) = try await bench.run("""
                local profiles = routing_profiles()
                print(#profiles, profiles[6].id, profiles[6].name, cx.routing_profiles == routing_profiles)
                print(reassign("\(user)", "\(to)").changed)
                """)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(output == "6\tprofile-6\tEscalations\ttrue\ntrue\n", "\(output)")
            let listings = try await bench.requests().filter { $0["path"]?.stringValue?.hasPrefix("/api/v2/routing/profiles") == true }
            #expect(listings.count == 1)
            let rows = try bench.audit.calls(run: result.summary.runID).map(\.binding)
            #expect(rows == ["routing_profiles", "reassign"], "\(rows)")
        }
    }

    @Test func aDryRunPlansItAndAPlanFileAppliesIt() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (user, before) = try await Self.someAgent(bench)
            let (to, _) = Self.others(than: before)
            let (plan, file, _) = try await PlanApplyTests.plan(bench, """
                local r = reassign("\(user)", "\(to)")
                assert(r.planned and r.previous_routing_profile_id == "\(before)")
                """)
            #expect(try await Self.profile(bench, user) == .string(before), "a dry run changes nothing")
            let action = try #require(plan.actions.first)
            #expect(action.kind == .profile && action.target == user && plan.actions.count == 1)
            #expect(PlanText.render(plan.actions, color: false).contains("~ routingProfileId: \"\(before)\" -> \"\(to)\""))
            #expect(PlanText.render(plan.actions, color: false).contains("1 routing profile"))
            let names = ["profile-1": "Voice Tier 1", "profile-2": "Voice Tier 2", "profile-3": "Chat", "profile-4": "Email", "profile-5": "Blended",
                         "profile-6": "Escalations"]
            #expect(PlanText.render(plan.actions, color: false).contains("# routing profile \(names[before] ?? "?") -> \(names[to] ?? "?")"),
                    "the names a reviewer knows them by: \(PlanText.render(plan.actions, color: false))")
            let report = try await PlanApplyTests.apply(bench, file)
            #expect(report.lines.map(\.state) == [.applied], "\(report.lines.map(\.message))")
            #expect(try await Self.profile(bench, user) == .string(to))
            let lines = try await RollbackSession.run(of: report.runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath, force: false,
                                                      dryRun: false).lines
            #expect(lines.map(\.ok) == [true] && lines.first?.message == "routing profile restored to \(before)", "\(lines.map(\.message))")
            #expect(try await Self.profile(bench, user) == .string(before))
        }
    }

    @Test func aLaterRollbackLeavesAProfileSomeoneChangedSinceUnlessForced() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (user, before) = try await Self.someAgent(bench)
            let (first, second) = Self.others(than: before)
            let (result, _) = try await bench.run(#"reassign("\#(user)", "\#(first)")"#)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            _ = try await bench.run(#"reassign("\#(user)", "\#(second)")"#)
            let refused = try await RollbackSession.run(of: result.summary.runID, queues: [user], tenant: bench.tenant(), auditPath: bench.auditPath,
                                                        force: false, dryRun: false).lines
            #expect(refused.map(\.ok) == [false] && refused[0].message.contains("was changed since (now \"\(second)\""), "\(refused.map(\.message))")
            #expect(try await Self.profile(bench, user) == .string(second))
            let forced = try await RollbackSession.run(of: result.summary.runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath,
                                                       force: true, dryRun: false).lines
            #expect(forced.map(\.ok) == [true], "\(forced.map(\.message))")
            #expect(try await Self.profile(bench, user) == .string(before))
        }
    }

    /// A reassignment whose PUT got no answer (timed out) may still land: its row stays pending
    /// with the profile before it, and `cxrun rollback --run` restores it once it has landed,
    /// saying that such a write cannot be refused (users have no version).
    @Test func aReassignmentCutOffInFlightIsRestoredByALaterRollback() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (user, before) = try await Self.someAgent(bench)
            let (to, _) = Self.others(than: before)
            // The PUT held until the test releases it, requests given 3 s: the token and the read
            // before the PUT have ample time however loaded the machine, the PUT never.
            _ = try await bench.send(.PUT, "/_sim/faults", json: ["holdWrites": 1])
            var once = RetryPolicy()
            once.maxAttempts = 1
            let (result, output) = try await bench.run("""
                local ok, err = pcall(reassign, "\(user)", "\(to)")
                print(ok, err.code, err.details and err.details.outcome)
                """, tenant: bench.tenant(retry: once, timeout: 3))
            #expect(output == "false\ttimeout\tunknown\n", "\(output) \(result.outcome.failureText)")
            let row = try #require(try bench.audit.calls(run: result.summary.runID).first { $0.binding == "reassign" })
            #expect(row.status == .pending, "its outcome is unknown: \(row)")
            let image = try bench.audit.snapshots(run: result.summary.runID).first { $0.seq == row.seq && $0.kind == .pre }
            #expect(image?.document == ["routingProfileId": .string(before)], "the profile before, recorded before the PUT was sent")
            // The PUT the client gave up on lands when the tenant lets it through.
            _ = try await bench.send(.PUT, "/_sim/faults", json: [:])
            let landed = try await eventually { try await Self.profile(bench, user) == .string(to) }
            #expect(landed, "the timed-out PUT applied")
            let lines = try await RollbackSession.run(of: result.summary.runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath,
                                                      force: false, dryRun: false).lines
            #expect(lines.map(\.ok) == [true], "\(lines.map(\.message))")
            #expect(lines.first?.message.hasPrefix("routing profile restored to \(before); the reassignment's write was in flight") == true,
                    "\(lines.map(\.message))")
            #expect(try await Self.profile(bench, user) == .string(before))
        }
    }
    /// An apply writes a planned routing profile only over the one it was planned against: another
    /// admin's change between the apply's read of the agent and its write is a conflict, not
    /// overwritten. The change is made in the tenant's own database while the apply's first write
    /// (a queue, held by the sandbox until released) is in flight — after the agent was read.
    @Test(.timeLimit(.minutes(2))) func anApplyDoesNotOverwriteAProfileChangedAfterItWasRead() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (user, before) = try await Self.someAgent(bench)
            let (to, other) = Self.others(than: before)
            let (_, file, _) = try await PlanApplyTests.plan(bench, """
                local q = fetch(queues({channel = "voice"})[1].id)
                deploy(q.id, build(q, {maxWaitTime = 333}))
                reassign("\(user)", "\(to)")
                """)
            // The queue's write held until released: the other admin's change (below) lands inside it.
            _ = try await bench.send(.PUT, "/_sim/faults", json: ["holdWrites": 1])
            let apply = Task { try await PlanApplyTests.apply(bench, file) }
            let inFlight = try await eventually { try await bench.send(.GET, "/_sim/faults")["writesHeld"] == 1 }
            #expect(inFlight, "the apply's queue write was seen in flight")
            let tenantDB = try DatabaseQueue(path: bench.directory + "/sandbox.sqlite")
            try await tenantDB.write { db in
                try db.execute(sql: "UPDATE user SET document = json_set(document, '$.routingProfileId', ?) WHERE id = ?",
                               arguments: [other, user])
            }
            _ = try await bench.send(.PUT, "/_sim/faults", json: [:])
            let report = try await apply.value
            let line = try #require(report.lines.first { $0.action.kind == .profile })
            #expect(line.state == .failed && line.message.contains("was changed since"), "\(line.state) \(line.message)")
            #expect(try await Self.profile(bench, user) == .string(other), "the other admin's change stands (was \(before))")
        }
    }
}
