import AsyncHTTPClient
import CXShared
import Foundation
import TestSupport
import JSONCore
import Testing

@testable import SandboxTenant

@Suite("Sandbox tenant: faults, rate limits, webhooks")
struct FaultTests {
    @Test func rateLimitAnswers429WithRetryAfter() async throws {
        // Concurrent requests against 1 request/s: most must be refused however slow the machine.
        let sim = try await Sim.start { $0.rateLimit = 1 }
        try await stopping(sim) {
            let token = try await sim.token()
            let replies = try await withThrowingTaskGroup(of: Sim.Reply.self) { group in
                for _ in 0..<20 { group.addTask { try await sim.send(.GET, "/api/v2/routing/skills", token: token) } }
                return try await group.reduce(into: [Sim.Reply]()) { $0.append($1) }
            }
            let limited = replies.filter { $0.status == 429 }
            #expect(replies.contains { $0.status == 200 })
            #expect(limited.count >= 5, "\(replies.map(\.status))")
            #expect(limited.allSatisfy { (Int($0.headers.first(name: "Retry-After") ?? "") ?? 0) >= 1 })
        }
    }

    @Test(arguments: [("status429", 429), ("status500", 500), ("status503", 503)])
    func statusFaults(_ key: String, _ status: Int) async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            #expect(try await sim.send(.PUT, "/_sim/faults", json: [key: 1]).status == 200)
            let r = try await sim.send(.GET, "/api/v2/routing/queues", token: token)
            #expect(r.status == status)
            if status == 429 { #expect(r.headers.first(name: "Retry-After") == "1") }
            let log = try await sim.send(.GET, "/_sim/requests")
            #expect(log.json["requests"]?.arrayValue?.last?["fault"] == .string("status\(status)"))
            // The control plane is never faulted.
            #expect(try await sim.send(.GET, "/_sim/faults").status == 200)
        }
    }

    @Test func connectionResetFault() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            _ = try await sim.send(.PUT, "/_sim/faults", json: ["reset": 1])
            await #expect(throws: (any Error).self) { _ = try await sim.send(.GET, "/api/v2/routing/queues", token: token) }
            _ = try await sim.send(.PUT, "/_sim/faults", json: [:])
            #expect(try await sim.send(.GET, "/api/v2/routing/queues", token: token).status == 200)
        }
    }

    @Test func addedLatency() async throws {
        let sim = try await Sim.start { $0.faults.latencyMs = 150 }
        try await stopping(sim) {
            let token = try await sim.token()
            let started = Date()
            _ = try await sim.send(.GET, "/api/v2/routing/skills", token: token)
            #expect(Date().timeIntervalSince(started) >= 0.15)
        }
    }

    /// `holdWrites: 1` keeps the next write in flight for as long as a test needs: reads and
    /// later writes answer meanwhile, and replacing the faults lets it through.
    @Test func heldWriteWaitsUntilTheFaultsAreReplaced() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let queues = try await sim.allQueues(token: token)
            try #require(queues.count >= 2)
            #expect(try await sim.send(.PUT, "/_sim/faults", json: ["holdWrites": 1]).status == 200)
            func put(_ queue: JSONValue, _ wait: Int) async throws -> Sim.Reply {
                try await sim.send(.PUT, "/api/v2/routing/queues/\(queue["id"]?.stringValue ?? "")", token: token,
                                   headers: [("If-Match", "\(queue["version"]?.intValue ?? 0)")], json: queue.setting(.int(Int64(wait)), at: ["maxWaitTime"]))
            }
            let held = Task { try await put(queues[0], 611) }
            let seen = try await eventually { try await sim.send(.GET, "/_sim/faults").json["writesHeld"] == 1 }
            #expect(seen, "the write is held")
            #expect(try await sim.send(.GET, "/_sim/faults").json["holdWrites"] == 0, "the hold counts down as writes arrive")
            #expect(try await put(queues[1], 612).status == 200, "the next write is not held")
            let first = try await sim.send(.GET, "/api/v2/routing/queues/\(queues[0]["id"]?.stringValue ?? "")", token: token)
            #expect(first.json["maxWaitTime"] == queues[0]["maxWaitTime"], "the held write has not applied")
            #expect(try await sim.send(.PUT, "/_sim/faults", json: [:]).status == 200)
            let reply = try await held.value
            #expect(reply.status == 200 && reply.json["maxWaitTime"] == 611, "\(reply.text)")
            #expect(try await sim.send(.GET, "/_sim/faults").json["writesHeld"] == 0)
            #expect(try await sim.send(.PUT, "/_sim/faults", json: ["holdWrites": 1.5]).status == 400)
        }
    }

    /// A write held when the tenant is stopped is let through: a held request once kept the
    /// stopping server (which lets requests in flight finish) up for good.
    @Test(.timeLimit(.minutes(1))) func aHeldWriteDoesNotKeepAStoppingTenantUp() async throws {
        let sim = try await Sim.start { $0.faults.holdWrites = 1 }
        let token = try await sim.token()
        let queue = try #require(try await sim.allQueues(token: token).first)
        let held = Task {
            try await sim.send(.PATCH, "/api/v2/routing/queues/\(queue["id"]?.stringValue ?? "")", token: token, json: ["maxWaitTime": 613])
        }
        let seen = try await eventually { try await sim.send(.GET, "/_sim/faults").json["writesHeld"] == 1 }
        #expect(seen, "the write is held")
        await sim.stop()
        let reply = try await held.value
        #expect(reply.status == 200, "\(reply.text)")
    }

    @Test func faultsAreDeterministicForASeed() async throws {
        func sequence(seed: UInt64) async throws -> [Int] {
            let sim = try await Sim.start { $0.seed = seed }
            var out: [Int] = []
            try await stopping(sim) {
                let token = try await sim.token()
                _ = try await sim.send(.PUT, "/_sim/faults", json: ["status503": 0.5])
                for _ in 0..<30 { out.append(try await sim.send(.GET, "/api/v2/routing/skills", token: token).status) }
            }
            return out
        }
        let a = try await sequence(seed: 3), b = try await sequence(seed: 3)
        #expect(a == b)
        #expect(a.contains(503) && a.contains(200))
    }

    @Test func faultSpecsParseAndRejectNonsense() {
        guard case .success(let f) = Faults.parse("status429=0.2,latencyMs=30") else { Issue.record("did not parse"); return }
        #expect(f.status429 == 0.2 && f.latencyMs == 30)
        if case .success = Faults.parse("status429=2") { Issue.record("a probability above 1 was accepted") }
        if case .success = Faults.parse("explode=0.1") { Issue.record("an unknown key was accepted") }
        if case .success = Faults.parse("status429") { Issue.record("a key without a value was accepted") }
    }

    @Test func concurrentEditorCausesGenuineConflicts() async throws {
        let sim = try await Sim.start { $0.faults.concurrentEdit = 1 }
        try await stopping(sim) {
            let token = try await sim.token()
            let queue = try #require(try await sim.allQueues(token: token).first)
            let id = try #require(queue["id"]?.stringValue)
            let write = try await sim.send(.PUT, "/api/v2/routing/queues/\(id)", token: token, headers: [("If-Match", "1")],
                                           json: queue.setting(200, at: ["maxWaitTime"]))
            #expect(write.status == 409)
            let now = try await sim.send(.GET, "/api/v2/routing/queues/\(id)", token: token)
            #expect(now.json["version"] == 2)
            #expect(now.json.value(at: ["serviceLevelTarget", "threshold"]) != queue.value(at: ["serviceLevelTarget", "threshold"]))
            #expect(now.json["maxWaitTime"] == queue["maxWaitTime"], "the refused write changed nothing")
        }
    }

    @Test func webhookSinkVerifiesSignatures() async throws {
        let sim = try await Sim.start { $0.webhookSecrets = ["wfm": "top-secret"] }
        try await stopping(sim) {
            let body = #"{"event":"queue.updated"}"#
            let now = Int(Date().timeIntervalSince1970)
            func deliver(_ signature: String?, id: String) async throws -> Int {
                var headers = [("Content-Type", "application/json"), (WebhookSignature.deliveryHeader, id)]
                if let signature { headers.append((WebhookSignature.signatureHeader, signature)) }
                return try await sim.send(.POST, "/_sim/webhooks/wfm", headers: headers, body: body).status
            }
            #expect(try await deliver(WebhookSignature.sign(body: Array(body.utf8), secret: "top-secret", timestamp: now), id: "good") == 200)
            #expect(try await deliver(WebhookSignature.sign(body: Array(body.utf8), secret: "wrong", timestamp: now), id: "bad") == 401)
            #expect(try await deliver(WebhookSignature.sign(body: Array(body.utf8), secret: "top-secret", timestamp: now - 3600), id: "stale") == 401)
            #expect(try await deliver(nil, id: "unsigned") == 401)
            #expect(try await sim.send(.POST, "/_sim/webhooks/nobody", body: body).status == 404)
            let listed = try await sim.send(.GET, "/_sim/webhooks")
            let verdicts = (listed.json["deliveries"]?.arrayValue ?? []).map { "\($0["deliveryId"]?.stringValue ?? ""):\($0["verdict"]?.stringValue ?? "")" }
            #expect(verdicts == ["good:valid", "bad:mismatch", "stale:stale", "unsigned:missing"])
            #expect(listed.json["deliveries"]?.arrayValue?.first?["body"]?["event"] == "queue.updated")
        }
    }

    @Test func requestLogKeepsTheLatest5000() {
        let log = RequestLog()
        for n in 1...12_345 { log.record(method: "GET", path: "/\(n)", status: 200, latencyMs: 1, clientID: nil, fault: nil) }
        let all = log.entries(since: 0, limit: 100_000)
        #expect(all.count == 5_000)
        #expect(all.first?.seq == 7_346 && all.last?.seq == 12_345)
        #expect(log.entries(since: 12_300, limit: 10).map(\.seq) == Array(12_301...12_310))
    }

    @Test func webhookSinkKeepsTheLatestDeliveries() throws {
        let dir = try temporaryFolder("sink")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try TenantStore(path: dir + "/t.sqlite", seed: 1, queueCount: 4)
        for n in 1...(TenantStore.deliveriesKept + 5) { try store.addDelivery(["n": .int(Int64(n))]) }
        let kept = try store.deliveries()
        #expect(kept.count == TenantStore.deliveriesKept)
        #expect(kept.first?["n"] == 6 && kept.last?["n"] == .int(Int64(TenantStore.deliveriesKept + 5)))
    }

    @Test func signatureRoundTrip() {
        let body = Array("payload".utf8)
        let header = WebhookSignature.sign(body: body, secret: "k", timestamp: 1000)
        #expect(header.hasPrefix("t=1000,v1="))
        #expect(WebhookSignature.verify(header: header, body: body, secret: "k", now: 1100) == .valid)
        #expect(WebhookSignature.verify(header: header, body: Array("tampered".utf8), secret: "k", now: 1100) == .mismatch)
        #expect(WebhookSignature.verify(header: "garbage", body: body, secret: "k", now: 1100) == .malformed)
        #expect(WebhookSignature.verify(header: header, body: body, secret: "k", now: 2000) == .stale)
    }
}
