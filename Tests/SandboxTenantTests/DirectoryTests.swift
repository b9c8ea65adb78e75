import Foundation
import TestSupport
import JSONCore
import Testing

@testable import SandboxTenant

@Suite("Sandbox tenant: users, status, routing profiles, OpenAPI")
struct DirectoryTests {
    @Test func usersHaveRolesShiftsAndQueues() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let page = try await sim.send(.GET, "/api/v2/users?pageSize=100&page=3", token: token)
            #expect(page.json["totalCount"] == 480 && page.json["page"] == 3)
            let users = page.json["data"]?.arrayValue ?? []
            #expect(users.count == 100)
            let user = try #require(users.first)
            #expect(user["roles"]?.arrayValue?.first?["name"]?.stringValue != nil)
            #expect(user.value(at: ["shiftSchedule", "start"])?.doubleValue != nil && user.value(at: ["shiftSchedule", "end"])?.doubleValue != nil)
            // Shifts cover the clock: some agent is on shift now.
            let all = try await sim.send(.GET, "/api/v2/users?pageSize=100", token: token)
            #expect(all.json["data"]?.arrayValue?.contains { $0.value(at: ["shiftSchedule", "onShift"]) == true } == true)
            let id = try #require(user["id"]?.stringValue)
            let one = try await sim.send(.GET, "/api/v2/users/\(id)", token: token)
            #expect(one.json["id"] == .string(id))
            #expect(try await sim.send(.GET, "/api/v2/users/nobody", token: token).status == 404)
            let queue = try #require(user["queueIds"]?.arrayValue?.first?.stringValue)
            let members = try await sim.send(.GET, "/api/v2/users?queueId=\(queue)&pageSize=100", token: token)
            #expect(members.json["data"]?.arrayValue?.allSatisfy { $0["queueIds"]?.arrayValue?.contains(.string(queue)) == true } == true)
            // Pages (read by position, not by OFFSET) cover every user once, in order, the last one short.
            var seen: [String] = []
            for number in 1...6 {
                let body = try await sim.send(.GET, "/api/v2/users?pageSize=90&page=\(number)", token: token).json
                seen += (body["data"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
            }
            #expect(seen.count == 480 && Set(seen).count == 480, "\(seen.count) users, \(Set(seen).count) distinct")
            #expect(Array(seen[200..<300]) == (page.json["data"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue })
        }
    }

    @Test func statusChangesAreValidatedAndWrapUpBlocks() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let users = try await sim.send(.GET, "/api/v2/users?pageSize=100", token: token).json["data"]?.arrayValue ?? []
            let free = try #require(users.first { $0.value(at: ["wrapUp", "active"]) == false }?["id"]?.stringValue)
            let path = "/api/v2/users/\(free)/status"
            let ok = try await sim.send(.PUT, path, token: token, json: ["status": "Break", "pauseReason": "IT Issue"])
            #expect(ok.status == 200 && ok.json["status"] == "Break" && ok.json["pauseReason"] == "IT Issue")
            #expect(try await sim.send(.PUT, path, token: token, json: ["status": "Break"]).status == 400)
            #expect(try await sim.send(.PUT, path, token: token, json: ["status": "Napping"]).status == 400)
            #expect(try await sim.send(.PUT, path, token: token, json: ["status": "Break", "pauseReason": "Bored"]).status == 400)
            #expect(try await sim.send(.PUT, "/api/v2/users/nobody/status", token: token, json: ["status": "Available"]).status == 404)
            let busy = try #require(users.first { $0.value(at: ["wrapUp", "active"]) == true }?["id"]?.stringValue)
            let blocked = try await sim.send(.PUT, "/api/v2/users/\(busy)/status", token: token,
                                             json: ["status": "Break", "pauseReason": "IT Issue", "directiveFlags": ["respectWrapUp": true]])
            #expect(blocked.status == 409 && blocked.text.contains("wrap-up"))
            let forced = try await sim.send(.PUT, "/api/v2/users/\(busy)/status", token: token,
                                            json: ["status": "Available", "directiveFlags": ["respectWrapUp": false]])
            #expect(forced.status == 200)
        }
    }

    /// Shifts are seeded to follow the demand curve: more agents on shift at the peak than at
    /// night, and some at every hour.
    @Test func theWorkforceOnShiftFollowsTheTimeOfDay() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            func onShift(at time: String) async throws -> Int {
                #expect(try await sim.send(.PUT, "/_sim/clock", json: ["now": .string(time)]).status == 200)
                var count = 0
                for page in 1...20 {
                    let body = try await sim.send(.GET, "/api/v2/users?pageSize=100&page=\(page)", token: token).json
                    count += body["data"]?.arrayValue?.filter { $0.value(at: ["shiftSchedule", "onShift"]) == true }.count ?? 0
                    if page >= (body["totalPages"]?.intValue ?? 0) { break }
                }
                return count
            }
            let night = try await onShift(at: "2026-01-05T03:00:00Z")
            let noon = try await onShift(at: "2026-01-05T13:00:00Z")
            #expect(night >= 48, "at least one agent per queue at night: \(night)")
            #expect(Double(noon) > 2 * Double(night), "noon \(noon), night \(night)")
        }
    }

    /// Seed 004: the tenant takes so many status changes at once; one more is a 409.
    @Test func statusChangesPastTheConcurrentLimitAre409() async throws {
        let sim = try await Sim.start { $0.statusChangeLimit = 2 }
        try await stopping(sim) {
            let token = try await sim.token()
            let users = try await sim.send(.GET, "/api/v2/users?pageSize=100", token: token).json["data"]?.arrayValue ?? []
            let free = users.filter { $0.value(at: ["wrapUp", "active"]) == false }.compactMap { $0["id"]?.stringValue }
            try #require(free.count >= 3)
            // The changes stay in flight until the hold is cleared.
            #expect(try await sim.send(.PUT, "/_sim/faults", json: ["statusChangeHoldMs": 60_000]).status == 200)
            let body: JSONValue = ["status": "Available"]
            async let first = sim.send(.PUT, "/api/v2/users/\(free[0])/status", token: token, json: body)
            async let second = sim.send(.PUT, "/api/v2/users/\(free[1])/status", token: token, json: body)
            let inFlight = try await eventually(within: .seconds(10)) {
                try await sim.send(.GET, "/_sim/faults").json["statusChangesInFlight"] == 2
            }
            #expect(inFlight, "both changes are in flight")
            let third = try await sim.send(.PUT, "/api/v2/users/\(free[2])/status", token: token, json: body)
            #expect(third.status == 409 && third.text.contains("concurrent status change limit"), "\(third.text)")
            #expect(try await sim.send(.PUT, "/_sim/faults", json: [:]).status == 200)
            let (a, b) = try await (first, second)
            #expect(a.status == 200 && b.status == 200, "\(a.text) \(b.text)")
            let again = try await sim.send(.PUT, "/api/v2/users/\(free[2])/status", token: token, json: body)
            #expect(again.status == 200, "the limit frees as changes finish: \(again.text)")
        }
    }

    @Test func autoAvailableMakesAnAgentAvailableWhenItsWrapUpEnds() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let users = try await sim.send(.GET, "/api/v2/users?pageSize=100", token: token).json["data"]?.arrayValue ?? []
            let busy = try #require(users.first { $0.value(at: ["wrapUp", "active"]) == true && $0["status"] != "Available" })
            let id = try #require(busy["id"]?.stringValue)
            let until = try #require(busy.value(at: ["wrapUp", "until"])?.doubleValue)
            let asked = try await sim.send(.PUT, "/api/v2/users/\(id)/status", token: token,
                                           json: ["status": "Available", "directiveFlags": ["respectWrapUp": true, "autoAvailable": true]])
            #expect(asked.status == 200 && asked.json["status"] == busy["status"], "still in wrap-up: \(asked.text)")
            let during = try await sim.send(.GET, "/api/v2/users/\(id)", token: token).json
            #expect(during.value(at: ["wrapUp", "active"]) == true && during["status"] == busy["status"])
            // The tenant's clock past the end of the wrap-up.
            let after = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: until + 5))
            #expect(try await sim.send(.PUT, "/_sim/clock", json: ["now": .string(after)]).status == 200)
            let later = try await sim.send(.GET, "/api/v2/users/\(id)", token: token).json
            #expect(later["status"] == "Available" && later.value(at: ["wrapUp", "active"]) == false, "\(later)")
            var listed = false
            for page in 1...50 where !listed {
                let body = try await sim.send(.GET, "/api/v2/users?pageSize=100&status=Available&page=\(page)", token: token).json
                listed = body["data"]?.arrayValue?.contains { $0["id"]?.stringValue == id } ?? false
                if page >= (body["totalPages"]?.intValue ?? 0) { break }
            }
            #expect(listed, "lists filtered by status agree")
        }
    }

    @Test func wrongTypesInStatusAndProfileRequestsAre400() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let id = try #require(try await sim.send(.GET, "/api/v2/users?pageSize=1", token: token).json["data"]?.arrayValue?.first?["id"]?.stringValue)
            for (body, path) in [
                (["status": "Available", "directiveFlags": ["respectWrapUp": [:]]], "directiveFlags.respectWrapUp"),
                (["status": "Available", "directiveFlags": ["autoAvailable": "yes"]], "directiveFlags.autoAvailable"),
                (["status": "Available", "directiveFlags": "all"], "directiveFlags"),
            ] as [(JSONValue, String)] {
                let r = try await sim.send(.PUT, "/api/v2/users/\(id)/status", token: token, json: body)
                #expect(r.status == 400 && r.json["errors"]?.arrayValue?.first?["path"] == .string(path), "\(r.text)")
            }
            for (body, path) in [(["status": [:]], "status"), (["routingProfileId": 5], "routingProfileId"), (["routingProfileId": ""], "routingProfileId")]
                as [(JSONValue, String)]
            {
                let r = try await sim.send(.PUT, "/api/v2/routing/users/\(id)/routing-profile", token: token, json: body)
                #expect(r.status == 400 && r.json["errors"]?.arrayValue?.first?["path"] == .string(path), "\(r.text)")
            }
            let user = try await sim.send(.GET, "/api/v2/users/\(id)", token: token).json
            #expect(user["status"]?.stringValue != nil && user["routingProfileId"]?.stringValue != nil, "nothing stored: \(user)")
        }
    }

    @Test func routingProfileSetsQueues() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let user = try #require(try await sim.send(.GET, "/api/v2/users?pageSize=1", token: token).json["data"]?.arrayValue?.first)
            let id = try #require(user["id"]?.stringValue)
            let queue = try #require(try await sim.allQueues(token: token).last?["id"]?.stringValue)
            let path = "/api/v2/routing/users/\(id)/routing-profile"
            let ok = try await sim.send(.PUT, path, token: token, json: ["routingProfileId": "profile-6", "status": "available", "queueIds": [.string(queue)]])
            #expect(ok.status == 200, "\(ok.text)")
            #expect(ok.json["queueIds"] == [.string(queue)] && ok.json["status"] == "Available" && ok.json["routingProfileId"] == "profile-6")
            let bad = try await sim.send(.PUT, path, token: token, json: ["queueIds": ["no-such-queue"]])
            #expect(bad.status == 400 && bad.json["errors"]?.arrayValue?.first?["path"] == "queueIds[0]")
            // A profile the tenant does not have is refused, as a real tenant refuses it.
            let unknown = try await sim.send(.PUT, path, token: token, json: ["routingProfileId": "p-9"])
            #expect(unknown.status == 400 && unknown.json["errors"]?.arrayValue?.first?["code"] == "not_found", "\(unknown.text)")
            let profiles = try await sim.send(.GET, "/api/v2/routing/profiles?pageSize=4&page=2", token: token).json
            #expect(profiles["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["profile-5", "profile-6"] && profiles["totalCount"] == 6,
                    "\(profiles)")
            let users = try await sim.send(.GET, "/api/v2/users?pageSize=100", token: token).json["data"]?.arrayValue ?? []
            #expect(!users.isEmpty && users.allSatisfy { ($0["routingProfileId"]?.stringValue ?? "").hasPrefix("profile-") }, "every agent has one of them")
        }
    }

    @Test func openAPIDocumentListsExactlyTheServedRoutes() async throws {
        let dir = try temporaryFolder("openapi")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tenant = try Tenant(SandboxConfiguration(databasePath: dir + "/s.sqlite"))
        let served = Set(tenant.routes.map { "\($0.method.rawValue.lowercased()) \($0.pattern)" })
        let text = try #require(OpenAPIDocument.text)
        var documented = Set<String>()
        var currentPath: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":") { currentPath = String(line.dropFirst(2).dropLast()) }
            else if !line.hasPrefix(" ") { currentPath = nil }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let currentPath, line.hasPrefix("    "), !line.hasPrefix("     "),
                ["get:", "put:", "post:", "patch:", "delete:"].contains(trimmed)
            {
                documented.insert("\(trimmed.dropLast()) \(currentPath)")
            }
        }
        #expect(served == documented, "served but undocumented: \(served.subtracting(documented)); documented but not served: \(documented.subtracting(served))")
        let sim = try await Sim.start()
        try await stopping(sim) {
            let doc = try await sim.send(.GET, "/openapi.yaml")
            #expect(doc.status == 200 && doc.text.hasPrefix("openapi: 3") && doc.headers["Content-Type"] == ["application/yaml"])
        }
    }
}
