import Foundation
import GRDB
import TestSupport
import JSONCore
import Testing

@testable import SandboxTenant

@Suite("Sandbox tenant: queues")
struct QueueTests {
    @Test func seededQueuesPageWithoutRepeatsAndCoverTheCatalogue() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let queues = try await sim.allQueues(token: token)
            #expect(queues.count >= 40)
            #expect(Set(queues.compactMap { $0["id"]?.stringValue }).count == queues.count)
            #expect(Set(queues.compactMap { $0["channel"]?.stringValue }) == ["voice", "chat", "email"])
            #expect(Set(queues.compactMap { $0.value(at: ["routing", "strategy"])?.stringValue }).count >= 4)
            #expect(queues.contains { $0.value(at: ["overflow", "action"]) == "routeToQueue" })
            #expect(queues.allSatisfy { $0["version"] == 1 })
            let skills = try await sim.send(.GET, "/api/v2/routing/skills?pageSize=100", token: token)
            #expect(skills.json["totalCount"] == 25)
            let bad = try await sim.send(.GET, "/api/v2/routing/queues?pageSize=1000", token: token)
            #expect(bad.status == 400)
        }
    }

    @Test func sameSeedSameData() async throws {
        let a = try await Sim.start { $0.seed = 7 }, b = try await Sim.start { $0.seed = 7 }, c = try await Sim.start { $0.seed = 8 }
        try await stopping(a) {
            try await stopping(b) {
                try await stopping(c) {
                    let qa = try await a.allQueues(token: try await a.token())
                    let qb = try await b.allQueues(token: try await b.token())
                    let qc = try await c.allQueues(token: try await c.token())
                    #expect(qa == qb)
                    #expect(qa != qc)
                }
            }
        }
    }

    @Test func putChecksIfMatchAndBumpsTheVersion() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let queue = try #require(try await sim.allQueues(token: token).first)
            let id = try #require(queue["id"]?.stringValue)
            let changed = queue.setting(240, at: ["maxWaitTime"]).setting("kept as given", at: ["customField"])
            let ok = try await sim.send(.PUT, "/api/v2/routing/queues/\(id)", token: token, headers: [("If-Match", "1")], json: changed)
            #expect(ok.status == 200, "\(ok.text)")
            #expect(ok.json["version"] == 2 && ok.json["maxWaitTime"] == 240 && ok.json["customField"] == "kept as given")
            let stale = try await sim.send(.PUT, "/api/v2/routing/queues/\(id)", token: token, headers: [("If-Match", "\"1\"")], json: changed)
            #expect(stale.status == 409 && stale.json["currentVersion"] == 2)
            let weak = try await sim.send(.PUT, "/api/v2/routing/queues/\(id)", token: token, headers: [("If-Match", "W/\"1\"")], json: changed)
            #expect(weak.status == 409 && weak.json["currentVersion"] == 2)
            for bad in ["x", "W/", "\"", "1 2", "W/x\"1\""] {
                let reply = try await sim.send(.PUT, "/api/v2/routing/queues/\(id)", token: token, headers: [("If-Match", bad)], json: changed)
                #expect(reply.status == 400, "If-Match \(bad): \(reply.text)")
            }
            // Without If-Match a PUT succeeds whatever version its body carries.
            let unguarded = try await sim.send(.PUT, "/api/v2/routing/queues/\(id)", token: token, json: changed.setting(1, at: ["version"]))
            #expect(unguarded.status == 200 && unguarded.json["version"] == 3)
            let fetched = try await sim.send(.GET, "/api/v2/routing/queues/\(id)", token: token)
            #expect(fetched.json == unguarded.json)
            #expect(try await sim.send(.GET, "/api/v2/routing/queues/nope", token: token).status == 404)
            #expect(try await sim.send(.PUT, "/api/v2/routing/queues/nope", token: token, json: changed).status == 404)
            #expect(try await sim.send(.DELETE, "/api/v2/routing/queues/\(id)", token: token).status == 405)
            // Routes: a parameter is percent-decoded; empty segments are no segments; one too many is no route.
            let encoded = id.replacingOccurrences(of: "-", with: "%2D")
            #expect(try await sim.send(.GET, "/api/v2/routing/queues/\(encoded)", token: token).json == unguarded.json)
            #expect(try await sim.send(.GET, "/api/v2//routing/queues/\(id)/", token: token).json == unguarded.json)
            #expect(try await sim.send(.GET, "/api/v2/routing/queues/\(id)/extra", token: token).status == 404)
        }
    }

    @Test func patchMergesAndChecksIfMatchOrBodyVersion() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let queue = try #require(try await sim.allQueues(token: token).first)
            let id = try #require(queue["id"]?.stringValue)
            let path = "/api/v2/routing/queues/\(id)"
            #expect(try await sim.send(.PATCH, path, token: token, headers: [("If-Match", "5")], json: ["maxWaiters": 10]).status == 409)
            #expect(try await sim.send(.PATCH, path, token: token, json: ["maxWaiters": 10, "version": 5]).status == 409)
            let ok = try await sim.send(.PATCH, path, token: token, json: ["serviceLevelTarget": ["time": 45], "version": 1])
            #expect(ok.status == 200, "\(ok.text)")
            #expect(ok.json.value(at: ["serviceLevelTarget", "time"]) == 45)
            #expect(ok.json.value(at: ["serviceLevelTarget", "threshold"]) == queue.value(at: ["serviceLevelTarget", "threshold"]), "merged, not replaced")
            #expect(ok.json["version"] == 2)
            let unguarded = try await sim.send(.PATCH, path, token: token, json: ["maxWaiters": 10])
            #expect(unguarded.status == 200 && unguarded.json["version"] == 3)
            let deleted = try await sim.send(.PATCH, path, token: token, json: ["callback": .null])
            #expect(deleted.json["callback"] == nil, "null deletes (merge patch)")
        }
    }

    @Test(arguments: [
        ("serviceLevelTarget.threshold", ["serviceLevelTarget": ["threshold": 101, "time": 20]]),
        ("serviceLevelTarget.time", ["serviceLevelTarget": ["threshold": 80, "time": 0]]),
        ("serviceLevelTarget.time", ["serviceLevelTarget": ["threshold": 80, "time": 301]]),
        ("skills[0].level", ["skills": [["id": "s1", "level": 6]]]),
        ("skills[1].id", ["skills": [["id": "s1", "level": 2], ["id": "s1", "level": 3]]]),
        ("skills[0].id", ["skills": [["id": "", "level": 2]]]),
        ("maxWaiters", ["maxWaiters": 101]),
        ("maxHoldTime", ["maxHoldTime": 301]),
        ("waitStrategy.abandonmentThreshold", ["waitStrategy": ["abandonmentThreshold": 301]]),
        ("overflow.action", ["overflow": ["enabled": true, "action": "teleport"]]),
        ("overflow.targetQueueId", ["overflow": ["enabled": true, "action": "routeToQueue"]]),
        ("overflow.targetQueueId", ["overflow": ["enabled": true, "action": "routeToQueue", "targetQueueId": "missing-queue"]]),
        ("routing.strategy", ["routing": ["strategy": "round_robin"]]),
        ("maxWaitTime", ["maxWaitTime": "soon"]),
        ("channel", ["channel": "fax"]),
        ("routing.priority.enabled", ["routing": ["strategy": "priority", "priority": ["enabled": false, "levels": [1]]]]),
        ("routing.priority.levels", ["routing": ["strategy": "priority", "priority": ["enabled": true, "levels": .array([])]]]),
        ("skills", ["routing": ["strategy": "skill_based"], "skills": .array([])]),
        ("waitStrategy.positionThreshold", ["waitStrategy": ["positionThreshold": 0]]),
        ("skills[0].id", ["skills": [["id": "no-such-skill", "level": 2]]]),
        ("overflow.enabled", ["overflow": ["enabled": "yes", "action": "drop"]]),
        ("skillRequirements[0].required", ["skillRequirements": [["skill": "language:en", "required": "always"]]]),
        ("name", ["name": .null]),
        ("channel", ["channel": .null]),
        ("routing.strategy", ["routing": ["strategy": .null]]),
    ] as [(String, JSONValue)])
    func invalidValuesAre400WithThePath(_ path: String, _ patch: JSONValue) async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let queue = try #require(try await sim.allQueues(token: token).first)
            let id = try #require(queue["id"]?.stringValue)
            let reply = try await sim.send(.PATCH, "/api/v2/routing/queues/\(id)", token: token, json: patch)
            #expect(reply.status == 400)
            let paths = reply.json["errors"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
            #expect(paths.contains(path), "\(reply.text)")
            let after = try await sim.send(.GET, "/api/v2/routing/queues/\(id)", token: token)
            #expect(after.json["version"] == 1, "nothing written")
        }
    }

    /// A PUT replaces the whole queue: one that leaves out a field no queue is without is refused
    /// with each missing path (`{"maxWaitTime": 300}` replaced a queue with one field).
    @Test func aPutOfPartOfAQueueIsRefused() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let queue = try #require(try await sim.allQueues(token: token).first)
            let id = try #require(queue["id"]?.stringValue)
            let partial = try await sim.send(.PUT, "/api/v2/routing/queues/\(id)", token: token, headers: [("If-Match", "1")],
                                             json: ["maxWaitTime": 300, "routing": ["longestIdleSeconds": 10]])
            #expect(partial.status == 400, "\(partial.text)")
            let errors = partial.json["errors"]?.arrayValue ?? []
            #expect(errors.compactMap { $0["path"]?.stringValue } == ["name", "channel", "routing.strategy"], "\(partial.text)")
            #expect(errors.allSatisfy { $0["code"] == "required" }, "\(partial.text)")
            let after = try await sim.send(.GET, "/api/v2/routing/queues/\(id)", token: token)
            #expect(after.json == queue, "nothing written")
            let whole = try await sim.send(.PUT, "/api/v2/routing/queues/\(id)", token: token, headers: [("If-Match", "1")],
                                           json: queue.setting(300, at: ["maxWaitTime"]))
            #expect(whole.status == 200 && whole.json["name"] == queue["name"], "\(whole.text)")
        }
    }

    /// A value of the wrong type in a known field is refused, so the tenant's own responses keep
    /// to its schema (a `proficiency` of null once broke them).
    @Test func wrongTypesInKnownFieldsAreRefusedAndResponsesKeepTheirSchema() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let queue = try #require(try await sim.allQueues(token: token).first)
            let id = try #require(queue["id"]?.stringValue)
            let nullProficiency = queue.setting([["skill": "language:en", "proficiency": .null, "required": true]], at: ["skillRequirements"])
            let refused = try await sim.send(.PUT, "/api/v2/routing/queues/\(id)", token: token, json: nullProficiency)
            #expect(refused.status == 400 && refused.text.contains("skillRequirements[0].proficiency"), "\(refused.text)")
            let nullItem = queue.setting([.null], at: ["skillRequirements"])
            #expect(try await sim.send(.PUT, "/api/v2/routing/queues/\(id)", token: token, json: nullItem).status == 400)
            let after = try await sim.send(.GET, "/api/v2/routing/queues/\(id)", token: token)
            #expect(after.json["version"] == 1 && after.json.value(at: ["skillRequirements"]) == queue.value(at: ["skillRequirements"]))
            // A skill that exists is accepted.
            let skills = try await sim.send(.GET, "/api/v2/routing/skills", token: token).json["data"]?.arrayValue ?? []
            let skill = try #require(skills.first?["id"]?.stringValue)
            let ok = try await sim.send(.PATCH, "/api/v2/routing/queues/\(id)", token: token, json: ["skills": [["id": .string(skill), "level": 3]]])
            #expect(ok.status == 200, "\(ok.text)")
        }
    }

    @Test func overflowToItselfIsRefused() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let queues = try await sim.allQueues(token: token)
            // Another queue that overflows nowhere (linking to one that leads back would be a cycle).
            let id = try #require(queues[0]["id"]?.stringValue)
            let other = try #require(queues.dropFirst().first { $0.value(at: ["overflow", "action"]) != "routeToQueue" }?["id"]?.stringValue)
            let selfTarget = try await sim.send(.PATCH, "/api/v2/routing/queues/\(id)", token: token,
                                                json: ["overflow": ["enabled": true, "action": "routeToQueue", "targetQueueId": .string(id)]])
            #expect(selfTarget.status == 400 && selfTarget.text.contains("itself"))
            let ok = try await sim.send(.PATCH, "/api/v2/routing/queues/\(id)", token: token,
                                        json: ["overflow": ["enabled": true, "action": "routeToQueue", "targetQueueId": .string(other), "waitTime": 90]])
            #expect(ok.status == 200, "\(ok.text)")
        }
    }

    /// Cycles through other queues and chains over the depth limit are 400s naming the field.
    @Test func overflowCyclesAndOverDeepChainsAreRefused() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let ids = try await sim.allQueues(token: token).compactMap { $0["id"]?.stringValue }
            // Five queues with no overflow of their own, and nothing overflowing into them.
            let free = ids.suffix(5)
            func link(_ from: String, _ to: String?) async throws -> Sim.Reply {
                let overflow: JSONValue = to.map { ["enabled": true, "action": "routeToQueue", "targetQueueId": .string($0), "waitTime": 90] }
                    ?? ["enabled": false, "action": "drop", "waitTime": 90]
                return try await sim.send(.PATCH, "/api/v2/routing/queues/\(from)", token: token, json: ["overflow": overflow])
            }
            let q = Array(free)
            for id in q { _ = try await link(id, nil) }
            for id in ids where !q.contains(id) {
                let doc = try await sim.send(.GET, "/api/v2/routing/queues/\(id)", token: token).json
                if let t = doc.value(at: ["overflow", "targetQueueId"])?.stringValue, q.contains(t) { _ = try await link(id, nil) }
            }
            #expect(try await link(q[0], q[1]).status == 200)
            #expect(try await link(q[1], q[2]).status == 200)
            let cycle = try await link(q[2], q[0])
            #expect(cycle.status == 400 && cycle.text.contains("cycle") && cycle.text.contains("overflow.targetQueueId"), "\(cycle.text)")
            #expect(try await link(q[2], q[3]).status == 200, "three links: at the limit")
            let deep = try await link(q[3], q[4])
            #expect(deep.status == 400 && deep.text.contains("4 links"), "\(deep.text)")
            let disabled = try await sim.send(.PATCH, "/api/v2/routing/queues/\(q[3])", token: token,
                                              json: ["overflow": ["enabled": false, "action": "routeToQueue", "targetQueueId": .string(q[4])]])
            #expect(disabled.status == 200, "a disabled link is not part of any chain")
        }
    }

    @Test func stateSurvivesARestart() async throws {
        let dir = try temporaryFolder("restart")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configuration = Sim.testConfiguration(databasePath: dir + "/state.sqlite")
        let first = try await SandboxServer.start(configuration)
        let sim1 = Sim(server: first, directory: dir + "/unused", databasePath: configuration.databasePath)
        let token = try await sim1.token()
        let id = try #require(try await sim1.allQueues(token: token).first?["id"]?.stringValue)
        let written = try await sim1.send(.PATCH, "/api/v2/routing/queues/\(id)", token: token, json: ["maxWaitTime": 777])
        #expect(written.status == 200)
        await first.stop()
        let second = try await SandboxServer.start(configuration)
        let sim2 = Sim(server: second, directory: dir + "/unused2", databasePath: configuration.databasePath)
        try await stopping(sim2) {
            let after = try await sim2.send(.GET, "/api/v2/routing/queues/\(id)", token: token)
            #expect(after.status == 200, "tokens survive too")
            #expect(after.json["maxWaitTime"] == 777 && after.json["version"] == 2)
            let reset = try await sim2.send(.POST, "/_sim/reset")
            #expect(reset.status == 200)
            let reseeded = try await sim2.send(.GET, "/api/v2/routing/queues/\(id)", token: token)
            #expect(reseeded.json["version"] == 1 && reseeded.json["maxWaitTime"] != 777)
        }
    }

    /// A page spliced from stored documents is the JSON a page of those documents is.
    @Test func pagesOfEncodedDocumentsAreThePagesOfThoseDocuments() throws {
        let docs: [JSONValue] = [["id": "a", "version": 3, "name": "A \"q\""], ["id": "b", "nested": ["x": [1, 2.5, .null]]]]
        for (items, page, size, total, pages) in [(docs, 1, 2, 5, 3), ([], 4, 2, 5, 3), (Array(docs.prefix(1)), 1, 25, 1, 1), ([], 1, 25, 0, 0)] {
            let text = Paging.body(encoded: items.map { $0.jsonString() }, page: page, size: size, total: total)
            let parsed = try JSONValue.parse(text)
            #expect(parsed == ["data": .array(items), "page": .int(Int64(page)), "pageSize": .int(Int64(size)),
                               "totalCount": .int(Int64(total)), "totalPages": .int(Int64(pages))])
            #expect(text == Paging.body(items, page: page, size: size, total: total))
        }
    }

    /// Files written before documents held their version (it was only in the column) are brought
    /// up to date when opened: every read then serves the column's version.
    @Test func anOlderFileGetsEachVersionIntoItsDocument() async throws {
        let dir = try temporaryFolder("older")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configuration = Sim.testConfiguration(databasePath: dir + "/state.sqlite")
        let first = try await SandboxServer.start(configuration)
        await first.stop()
        let older = try DatabaseQueue(path: configuration.databasePath)
        try await older.write { db in
            try db.execute(sql: "UPDATE queue SET version = 7, document = json_remove(document, '$.version')")
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v5-version-in-document'")
            try db.execute(sql: "PRAGMA user_version = 0")  // those files recorded no schema version either
        }
        try older.close()
        let second = try await SandboxServer.start(configuration)
        let sim = Sim(server: second, directory: dir + "/unused", databasePath: configuration.databasePath)
        try await stopping(sim) {
            let token = try await sim.token()
            let queues = try await sim.allQueues(token: token)
            #expect(!queues.isEmpty && queues.allSatisfy { $0["version"] == 7 })
            let id = try #require(queues.first?["id"]?.stringValue)
            #expect(try await sim.send(.GET, "/api/v2/routing/queues/\(id)", token: token).json["version"] == 7)
            let stale = try await sim.send(.PATCH, "/api/v2/routing/queues/\(id)", token: token, headers: [("If-Match", "1")], json: ["maxWaiters": 9])
            #expect(stale.status == 409 && stale.json["currentVersion"] == 7)
            let written = try await sim.send(.PATCH, "/api/v2/routing/queues/\(id)", token: token, headers: [("If-Match", "7")], json: ["maxWaiters": 9])
            #expect(written.status == 200 && written.json["version"] == 8)
            #expect(try await sim.send(.GET, "/api/v2/routing/queues/\(id)", token: token).json == written.json)
        }
    }

    @Test func anotherAdminsEditBumpsTheVersion() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let id = try #require(try await sim.allQueues(token: token).first?["id"]?.stringValue)
            let edit = try await sim.send(.POST, "/_sim/queues/\(id)/edit", json: ["maxWaiters": 42])
            #expect(edit.status == 200 && edit.json["version"] == 2 && edit.json["maxWaiters"] == 42)
            let stale = try await sim.send(.PUT, "/api/v2/routing/queues/\(id)", token: token, headers: [("If-Match", "1")], json: edit.json)
            #expect(stale.status == 409)
        }
    }
}
