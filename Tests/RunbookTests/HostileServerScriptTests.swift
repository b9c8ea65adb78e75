import CXone
import Foundation
import JSONCore
import Synchronization
import TestSupport
import Testing

@testable import Runbook

/// A hostile server as a script meets it: the error at the script's line, every call audited.
@Suite("Runbook against a hostile server")
struct HostileServerScriptTests {
    /// Runs `source` as `name` against `server` (short timeouts, `attempts` per request); returns
    /// the result, what the script printed, and the calls' audit rows.
    static func run(_ name: String, _ source: String, against server: HostileServer, attempts: Int) async throws
        -> (result: RunbookResult, printed: String, rows: [CallRecord], snapshots: [SnapshotRecord])
    {
        let dir = try temporaryFolder("hostile")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var endpoint = TenantEndpoint(baseURL: server.baseURL, clientID: "c", clientSecret: "hostile-test-secret")
        endpoint.retry.maxAttempts = attempts
        endpoint.retry.baseDelay = 0.01
        endpoint.retry.maxDelay = 0.02
        endpoint.requestTimeout = 1
        let printed = Captured()
        let request = RunbookRequest(
            scriptPath: name, source: source, args: [], tenant: ResolvedTenant(name: "hostile", endpoint: endpoint), dryRun: false,
            limits: RunLimits(memoryBytes: 64 << 20, instructions: 10_000_000, timeout: 30), concurrency: 1,
            auditPath: dir + "/audit.sqlite", stdlib: stdlibPath, output: { printed.append($0) }, log: { _, m in printed.append(m) })
        let result = try await RunbookSession.run(request)
        let store = try AuditStore(path: dir + "/audit.sqlite")
        return (result, printed.value, try store.calls(run: result.summary.runID), try store.snapshots(run: result.summary.runID))
    }

    @Test func aScriptGetsTheErrorAtItsLineAndTheAuditKeepsTheCall() async throws {
        let server = try HostileServer(respond: HostileServer.withToken { _ in HostileServer.http(200, "not json") })
        defer { server.stop() }
        let (result, printed, rows, _) = try await Self.run("hostile.lua", """
            local ok, e = pcall(fetch, "q1")
            print(ok, e.code)
            fetch("q1")
            """, against: server, attempts: 1)
        #expect(printed == "false\tunavailable\n")
        #expect(result.outcome.status != .succeeded)
        #expect(result.outcome.message?.contains("hostile.lua:3") == true, "\(result.outcome.message ?? "")")
        #expect(result.outcome.message?.contains("malformed JSON") == true, "\(result.outcome.message ?? "")")
        #expect(rows.map { $0.status } == [.error, .error])
        #expect(rows.map { $0.errorCode } == ["unavailable", "unavailable"])
    }

    /// The queue is read, then the server takes the PUT and every request after it and answers
    /// none: the deploy may have applied and cxrun cannot learn whether. The script is told so,
    /// and the call's row stays pending (a rollback then fences it), not an error.
    @Test func aDeployWhoseOutcomeCannotBeLearnedStaysPending() async throws {
        let doc = #"{"id":"q1","version":3,"name":"Q","maxWaitTime":60}"#
        let putSeen = Mutex(false)
        let server = try HostileServer(respond: HostileServer.withToken { request in
            if request.method == "PUT" { putSeen.withLock { $0 = true } }
            return putSeen.withLock { $0 } ? [] : HostileServer.http(200, doc)
        })
        defer { server.stop() }
        let (result, printed, rows, _) = try await Self.run("unknown.lua", """
            local q = fetch("q1")
            local ok, e = pcall(deploy, "q1", build(q, {maxWaitTime = 61}))
            print(ok, e.code, e.details.outcome)
            """, against: server, attempts: 2)
        #expect(result.outcome.status == .succeeded, "\(result.outcome.message ?? "")")
        #expect(printed == "false\tnetwork\tunknown\n", "\(printed)")
        let deploy = try #require(rows.first { $0.binding == "deploy" })
        #expect(deploy.status == .pending, "\(deploy)")
        #expect(deploy.result?["message"]?.stringValue?.contains("re-reading the queue to learn whether it did failed") == true, "\(deploy)")
        #expect(result.summary.bindings.first { $0.name == "deploy" }?.errors == 1, "the summary counts it with the errors")
        #expect(result.summary.unknownWrites == 1 && result.summary.text.contains("1 write was cut off and may have applied (left pending)"),
                "\(result.summary.text)")
        #expect(result.summary.json["unknown_writes"] == 1)
    }

    /// A server that answers a PUT 200 with a new version but keeps a field as it was (a field it
    /// ignores, as some APIs do with ones they do not know or let be written): the write is not
    /// reported as made. The script gets an error naming the field, what was sent and what is
    /// held; the row is the write that happened (its code set, counted with the errors), with its
    /// snapshots, so a rollback undoes what did land.
    @Test func aWriteTheServerTookButDidNotApplyFailsNamingTheField() async throws {
        let before = #"{"id":"q1","version":3,"name":"Q","maxWaitTime":60,"wrapUpTime":20}"#
        // maxWaitTime kept; wrapUpTime taken, answered as 30.0 (the same number).
        let after = #"{"id":"q1","version":4,"name":"Q","maxWaitTime":60,"wrapUpTime":30.0}"#
        let server = try HostileServer(respond: HostileServer.withToken { request in
            HostileServer.http(200, request.method == "PUT" ? after : before)
        })
        defer { server.stop() }
        let (result, printed, rows, snapshots) = try await Self.run("ignored.lua", """
            local q = fetch("q1")
            local ok, e = pcall(deploy, "q1", build(q, {maxWaitTime = 61, wrapUpTime = 30}))
            print(ok, e.code, e.details.version, #e.details.not_applied, e.details.not_applied[1].path, e.details.not_applied[1].sent)
            print(e.message)
            local row = cx.change("q1", {maxWaitTime = 61}, {rules = {"routing"}, fallback = function() return {maxWaitTime = 62} end})
            print(row.outcome, row.version, table.concat(row.not_applied, ","), row.fell_back)
            deploy("q1", build(q, {maxWaitTime = 61}))
            """, against: server, attempts: 1)
        let lines = printed.split(separator: "\n").map(String.init)
        #expect(lines.first == "false\tinvalid\t4\t1\tmaxWaitTime\t61", "\(printed)")
        #expect(lines.dropFirst().first == "queue q1 was written by this run (now version 4), but the server did not apply maxWaitTime (sent 61, it holds 60)",
                "\(printed)")
        // cx.change reports it as a row of its own, and does not fall back over a write that landed.
        #expect(lines.dropFirst(2).first == "partial\t4\tmaxWaitTime\tnil", "\(printed)")
        // Not caught, it stops the script at its line.
        #expect(result.outcome.status == .failed)
        #expect(result.outcome.message?.contains("ignored.lua:7") == true, "\(result.outcome.message ?? "")")
        let deploys = rows.filter { $0.binding == "deploy" }
        #expect(deploys.map(\.status) == [.ok, .ok, .ok] && deploys.map(\.errorCode) == ["invalid", "invalid", "invalid"], "\(deploys)")
        #expect(deploys.first?.result?["not_applied"]?.arrayValue?.first?["held"] == 60, "\(deploys)")
        #expect(result.summary.bindings.first { $0.name == "deploy" }?.errors == 3, "the summary counts them with the errors")
        // What landed is a write a rollback of the run undoes, from the server's answer.
        #expect(Rollback.deployedQueues(calls: rows) == ["q1"])
        let post = try #require(snapshots.first { $0.seq == deploys.first?.seq && $0.kind == .post })
        #expect(post.version == 4 && post.document["maxWaitTime"] == 60 && post.document["wrapUpTime"]?.doubleValue == 30, "\(post)")
    }

    /// A PUT answered 204 with no body, or with another queue's document: the write is read back
    /// (the new version, rollback-able), not taken for that answer (every change "not applied", a
    /// post-image of null or of the other queue).
    @Test(arguments: [(204, ""), (200, #"{"id":"q2","version":9}"#)])
    func aWriteAnsweredWithNoDocumentIsReadBack(_ answer: (status: Int, body: String)) async throws {
        let before = #"{"id":"q1","version":3,"name":"Q","maxWaitTime":60}"#
        let after = #"{"id":"q1","version":4,"name":"Q","maxWaitTime":61}"#
        let written = Mutex(false)
        let server = try HostileServer(respond: HostileServer.withToken { request in
            if request.method == "PUT" {
                written.withLock { $0 = true }
                return HostileServer.http(answer.status, answer.body)
            }
            return HostileServer.http(200, written.withLock { $0 } ? after : before)
        })
        defer { server.stop() }
        let (result, printed, rows, snapshots) = try await Self.run("nocontent.lua", """
            local r = deploy("q1", build(fetch("q1"), {maxWaitTime = 61}))
            print(r.version, r.previous_version)
            """, against: server, attempts: 1)
        #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
        #expect(printed == "4\t3\n", "\(printed)")
        let deploy = try #require(rows.first { $0.binding == "deploy" })
        let post = try #require(snapshots.first { $0.seq == deploy.seq && $0.kind == .post })
        #expect(post.version == 4 && post.document["maxWaitTime"] == 61, "\(post)")
    }

    /// A PUT answered 204, then no answer to reading it back: the write was taken but what it left
    /// is unknown, so the row stays pending (a rollback fences it), not an error passed over.
    @Test func aWriteAnsweredWithoutTheQueueThatCannotBeReadBackStaysPending() async throws {
        let doc = #"{"id":"q1","version":3,"name":"Q","maxWaitTime":60}"#
        let written = Mutex(false)
        let server = try HostileServer(respond: HostileServer.withToken { request in
            if request.method == "PUT" {
                written.withLock { $0 = true }
                return HostileServer.http(204, "")
            }
            return written.withLock { $0 } ? [] : HostileServer.http(200, doc)
        })
        defer { server.stop() }
        let (_, printed, rows, _) = try await Self.run("noreadback.lua", """
            local ok, e = pcall(deploy, "q1", build(fetch("q1"), {maxWaitTime = 61}))
            print(ok, e.code, e.details.outcome)
            """, against: server, attempts: 1)
        #expect(printed == "false\tnetwork\tunknown\n", "\(printed)")
        let deploy = try #require(rows.first { $0.binding == "deploy" })
        #expect(deploy.status == .pending, "\(deploy)")
        #expect(deploy.result?["message"]?.stringValue?.contains("answered the write of queue q1 (HTTP 204) without the queue, and reading it back failed") == true,
                "\(deploy)")
        #expect(Rollback.deployedQueues(calls: rows) == ["q1"], "a rollback of the run covers it")
    }

    /// A PUT answered 200 with the document as it was, version and all: nothing happened, and the
    /// error says so rather than "written".
    @Test func aWriteAnsweredWithTheOldVersionSaysNothingHappened() async throws {
        let doc = #"{"id":"q1","version":3,"name":"Q","maxWaitTime":60}"#
        let server = try HostileServer(respond: HostileServer.withToken { _ in HostileServer.http(200, doc) })
        defer { server.stop() }
        let (_, printed, _, _) = try await Self.run("same.lua", """
            local ok, e = pcall(deploy, "q1", build(fetch("q1"), {maxWaitTime = 61}))
            print(e.message)
            """, against: server, attempts: 1)
        #expect(printed == "the server answered the write of queue q1 by this run as done, but it is still version 3: it did not apply "
                + "maxWaitTime (sent 61, it holds 60)\n", "\(printed)")
    }

    /// The same server under `cxrun apply`: the reviewed change did not all happen, so the line
    /// fails with the field named and the apply reports failure.
    @Test func anApplyTheServerDidNotFullyTakeFails() async throws {
        let before = #"{"id":"q1","version":3,"name":"Q","maxWaitTime":60}"#
        let after = #"{"id":"q1","version":4,"name":"Q","maxWaitTime":60}"#
        let server = try HostileServer(respond: HostileServer.withToken { request in
            // The apply lists the queues and skills to check the plan against the rules first.
            if request.path.hasPrefix("/api/v2/routing/queues?") { return HostileServer.http(200, #"{"data":[\#(before)],"totalPages":1}"#) }
            if request.path.hasPrefix("/api/v2/routing/skills?") { return HostileServer.http(200, #"{"data":[],"totalPages":1}"#) }
            return HostileServer.http(200, request.method == "PUT" ? after : before)
        })
        defer { server.stop() }
        let dir = try temporaryFolder("hostile-apply")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tenant = ResolvedTenant(name: "hostile", endpoint: TenantEndpoint(baseURL: server.baseURL, clientID: "c", clientSecret: "hostile-test-secret"))
        let request = RunbookRequest(
            scriptPath: "plan.lua", source: #"local q = fetch("q1"); deploy("q1", build(q, {maxWaitTime = 61}))"#, args: [], tenant: tenant, dryRun: true,
            limits: RunLimits(timeout: 30), auditPath: dir + "/audit.sqlite", stdlib: stdlibPath, output: { _ in }, log: { _, _ in })
        let planned = try await RunbookSession.run(request)
        #expect(planned.outcome.status == .succeeded, "\(planned.outcome.failureText)")
        let plan = Plan(request: request, result: planned, createdAt: Date())
        var options = PlanApply.Options()
        options.stdlib = stdlibPath
        let report = try await PlanApply.apply(plan, file: plan.file(key: nil), tenant: tenant, auditPath: dir + "/audit.sqlite", options: options)
        #expect(report.failed && report.lines.map(\.state) == [.failed], "\(report.lines.map(\.message))")
        #expect(report.lines.first?.message.contains("written by the apply (now version 4), but the server did not apply maxWaitTime (sent 61, it holds 60)") == true,
                "\(report.lines.map(\.message))")
        let rows = try AuditStore(path: dir + "/audit.sqlite").calls(run: report.runID)
        #expect(Rollback.deployedQueues(calls: rows) == ["q1"], "what landed is rolled back with the apply's run")
    }

    /// An agent's status and routing profile, answered 200 with the value they had: an error
    /// naming it, not a change reported as made.
    @Test func aStatusOrProfileTheServerKeptFails() async throws {
        let server = try HostileServer(respond: HostileServer.withToken { request in
            switch (request.method, request.path) {
            case ("PUT", let path) where path.hasSuffix("/status"): HostileServer.http(200, #"{"status":"Unavailable"}"#)
            case ("PUT", _): HostileServer.http(200, #"{"routingProfileId":"rp-old"}"#)
            case ("GET", let path) where path.hasPrefix("/api/v2/routing/profiles"):
                HostileServer.http(200, #"{"data":[{"id":"rp-old"},{"id":"rp-new"}],"page":1,"pageSize":25,"totalCount":2,"totalPages":1}"#)
            default: HostileServer.http(200, #"{"id":"u1","firstName":"A","roles":[{"name":"Agent"}],"status":"Unavailable","routingProfileId":"rp-old"}"#)
            }
        })
        defer { server.stop() }
        let (result, printed, rows, _) = try await Self.run("agents.lua", """
            local ok, e = pcall(agent_status, "u1", {status = "Available"})
            print(ok, e.code, e.message)
            ok, e = pcall(reassign, "u1", "rp-new")
            print(ok, e.code, e.message)
            """, against: server, attempts: 1)
        #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
        #expect(printed == """
            false\tinvalid\tuser u1's status was set, but the server did not apply status (sent "Available", it holds "Unavailable")
            false\tinvalid\tuser u1 was reassigned, but the server did not apply routingProfileId (sent "rp-new", it holds "rp-old")

            """, "\(printed)")
        #expect(rows.filter { $0.binding != "agent" }.map(\.errorCode) == ["invalid", "invalid"], "\(rows)")
    }

    /// A tenant that does not list routing profiles (404) leaves the profile's check to the write;
    /// one that answers the listing with something else than a page stops the reassignment.
    @Test func aTenantWithoutAProfileListingStillReassigns() async throws {
        for (listing, expected) in [(HostileServer.http(404, #"{"message":"no such route"}"#), "true\trp-new\n"),
                                    (HostileServer.http(200, #"{"id":"u1"}"#), "false\tunavailable\n")] {
            let server = try HostileServer(respond: HostileServer.withToken { request in
                switch (request.method, request.path) {
                case ("PUT", _): HostileServer.http(200, #"{"routingProfileId":"rp-new"}"#)
                case ("GET", let path) where path.hasPrefix("/api/v2/routing/profiles"): listing
                default: HostileServer.http(200, #"{"id":"u1","firstName":"A","roles":[{"name":"Agent"}],"status":"Available","routingProfileId":"rp-old"}"#)
                }
            })
            defer { server.stop() }
            let (result, printed, _, _) = try await Self.run("profiles.lua", """
                local ok, r = pcall(reassign, "u1", "rp-new")
                print(ok, ok and r.routing_profile_id or r.code)
                """, against: server, attempts: 1)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            #expect(printed == expected, "\(printed)")
        }
    }

    /// What counts as held: the value sent, a number by value, a list in another order; not a
    /// list with an item changed or missing, nor a removal the answer still has.
    @Test func whatTheAnswerHoldsIsReadByValue() {
        let sent: JSONValue = ["wait": 30, "skills": [["id": "a"], ["id": "b"]], "gone": .null]
        let changes = [JSONChange(path: ["wait"], old: 20, new: 30), JSONChange(path: ["skills"], old: [], new: sent["skills"]),
                       JSONChange(path: ["gone"], old: 1, new: nil)]
        #expect(NotApplied.changes(changes, heldBy: ["wait": 30.0, "skills": [["id": "b"], ["id": "a"]]]).isEmpty)
        let answer: JSONValue = ["wait": 30, "skills": [["id": "a"], ["id": "c"]], "gone": 1]
        #expect(NotApplied.changes(changes, heldBy: answer).map(\.dotted) == ["skills", "gone"])
        #expect(NotApplied.changes(changes, heldBy: ["wait": 30, "skills": [["id": "a"]]]).map(\.dotted) == ["skills"])
        // A secret answered masked is not read as not applied.
        let masked = JSONChange(path: ["integration", "apiToken"], old: "****", new: "new-token-value")
        #expect(NotApplied.changes([masked], heldBy: ["integration": ["apiToken": "****"]]).isEmpty)
        // A secret's values are named by path only, in the message and the details the row keeps.
        let token = JSONChange(path: ["integration", "apiToken"], old: "old-token-value", new: "new-token-value")
        let error = NotApplied.error([token], answer: ["integration": ["apiToken": "old-token-value"]], lead: "queue q1 was written, but the server did not apply")
        #expect(error?.message == "queue q1 was written, but the server did not apply integration.apiToken (sent \"[redacted]\", it holds \"[redacted]\")")
        #expect(error?.details?.jsonString().contains("token-value") == false, "\(String(describing: error?.details))")
    }
}

