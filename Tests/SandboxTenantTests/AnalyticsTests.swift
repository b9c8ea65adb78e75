import Foundation
import TestSupport
import JSONCore
import Testing

@testable import SandboxTenant

@Suite("Sandbox tenant: analytics and the traffic model")
struct AnalyticsTests {
    @Test func erlangAMatchesTheReferenceValues() {
        // The first reference case of stdlib/tests/fixtures/erlang_a.lua (60-digit mpmath).
        let r = ErlangA.evaluate(servers: 14, traffic: 10, handleTime: 180, patience: 120, threshold: 20)
        #expect(abs(r.waitProbability - 0.12697634007979537) < 1e-9)
        #expect(abs(r.abandonProbability - 0.022839286531818771) < 1e-9)
        #expect(abs(r.meanWait - 2.7407143838182525) < 1e-8)
        #expect(abs(r.serviceLevel - 0.93272958069805967) < 1e-9)
        // More erlangs than servers, and thousands of servers: defined, no overflow.
        let over = ErlangA.evaluate(servers: 1000, traffic: 1500, handleTime: 180, patience: 90, threshold: 20)
        #expect(abs(over.abandonProbability - 1.0 / 3) < 1e-9 && abs(over.meanWait - 30) < 1e-7)
        let big = ErlangA.evaluate(servers: 2000, traffic: 1990, handleTime: 180, patience: 300, threshold: 20)
        #expect(abs(big.waitProbability - 0.46541469713955542) < 1e-9)
        #expect(ErlangA.evaluate(servers: 0, traffic: 2, handleTime: 180, patience: 60, threshold: 20).abandonProbability > 0.999)
    }

    @Test func fewerAgentsMeanLowerServiceAndLongerWaits() {
        let model = TrafficModel(seed: 1)
        let queue: JSONValue = ["id": "q", "channel": "voice", "routing": ["strategy": "longest_idle"], "wrapUpTime": 30,
                                "serviceLevelTarget": ["threshold": 80, "time": 20], "maxWaitTime": 600]
        let noon = Date(timeIntervalSince1970: 12 * 3600)
        var previous: TrafficModel.Metrics?
        for staffed in stride(from: 12.0, through: 1.0, by: -0.5) {
            let m = model.metrics(queue: queue, staffed: staffed, at: noon, intervalSeconds: 900)
            if let p = previous {
                #expect(m.serviceLevel <= p.serviceLevel)
                #expect(m.averageWaitTime >= p.averageWaitTime)
                #expect(m.abandonRate >= p.abandonRate)
            }
            previous = m
        }
        let well = model.metrics(queue: queue, staffed: 12, at: noon, intervalSeconds: 900)
        let thin = model.metrics(queue: queue, staffed: 2, at: noon, intervalSeconds: 900)
        #expect(well.serviceLevel > thin.serviceLevel && well.averageWaitTime < thin.averageWaitTime)
        // Configuration moves the numbers too: a callback offer cuts abandonment.
        let withCallback = model.metrics(queue: queue.setting(["enabled": true, "positionThreshold": 3], at: ["callback"]),
                                         staffed: 3, at: noon, intervalSeconds: 900)
        let without = model.metrics(queue: queue, staffed: 3, at: noon, intervalSeconds: 900)
        #expect(withCallback.abandonRate < without.abandonRate)
    }

    @Test func pagingReturnsEveryQueueExactlyOnce() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            var ids: [String] = []
            var query: JSONValue = ["interval": "PT15M", "size": 7, "select": ["queue.id", "queue.answerRate", "queue.serviceLevel"]]
            var pages = 0
            while true {
                let r = try await sim.send(.POST, "/api/v2/analytics/queues/summary/query", token: token, json: query)
                #expect(r.status == 200, "\(r.text)")
                let rows = r.json["data"]?.arrayValue ?? []
                #expect(rows.allSatisfy { $0["queue.answerRate"]?.doubleValue != nil && $0["queue.abandonRate"] == nil })
                ids += rows.compactMap { $0["queue.id"]?.stringValue }
                pages += 1
                guard let next = r.json["continuationToken"]?.stringValue else { break }
                query = query.setting(.string(next), at: ["continuationToken"])
            }
            let all = try await sim.allQueues(token: token).compactMap { $0["id"]?.stringValue }
            #expect(ids.count == all.count && Set(ids) == Set(all))
            #expect(pages == (all.count + 6) / 7)
        }
    }

    @Test func whereFiltersAndBadQueriesAre400() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let ids = try await sim.allQueues(token: token).prefix(2).compactMap { $0["id"]?.stringValue }
            let one = try await sim.send(.POST, "/api/v2/analytics/queues/summary/query", token: token,
                                         json: ["where": .string("queue.id eq '\(ids[0])'"), "interval": "PT5M"])
            #expect(one.json["data"]?.arrayValue?.count == 1)
            #expect(one.json["data"]?.arrayValue?.first?["queue.id"] == .string(ids[0]))
            let two = try await sim.send(.POST, "/api/v2/analytics/queues/summary/query", token: token,
                                         json: ["where": .string("queue.id in ('\(ids[0])', '\(ids[1])')")])
            #expect(two.json["data"]?.arrayValue?.count == 2)
            for bad: JSONValue in [["continuationToken": "garbage"], ["select": ["queue.happiness"]], ["interval": "soon"], ["where": "name eq 'x'"]] {
                #expect(try await sim.send(.POST, "/api/v2/analytics/queues/summary/query", token: token, json: bad).status == 400, "\(bad)")
            }
        }
    }

    @Test func puttingAgentsOnBreakMovesTheirQueuesMetrics() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let queue = try #require(try await sim.allQueues(token: token).first)
            let id = try #require(queue["id"]?.stringValue)
            func metrics() async throws -> JSONValue {
                let r = try await sim.send(.POST, "/api/v2/analytics/queues/summary/query", token: token,
                                           json: ["where": .string("queue.id eq '\(id)'"), "interval": "PT1H"])
                return r.json["data"]?.arrayValue?.first ?? .null
            }
            let before = try await metrics()
            // Staffed means taking contacts: Available, or Busy with one.
            var available: [JSONValue] = []
            for status in ["Available", "Busy"] {
                available += try await sim.send(.GET, "/api/v2/users?queueId=\(id)&status=\(status)&pageSize=100", token: token).json["data"]?.arrayValue ?? []
            }
            #expect(!available.isEmpty)
            for user in available {
                let r = try await sim.send(.PUT, "/api/v2/users/\(user["id"]?.stringValue ?? "")/status", token: token,
                                           json: ["status": "Break", "pauseReason": "Manager Meeting", "directiveFlags": ["respectWrapUp": false]])
                #expect(r.status == 200, "\(r.text)")
            }
            let after = try await metrics()
            #expect((after["queue.staffedAgents"]?.doubleValue ?? 1) == 0)
            #expect((after["queue.serviceLevel"]?.doubleValue ?? 1) < (before["queue.serviceLevel"]?.doubleValue ?? 0)
                    || before["queue.serviceLevel"]?.doubleValue == 0)
            #expect((after["queue.averageWaitTime"]?.doubleValue ?? 0) >= (before["queue.averageWaitTime"]?.doubleValue ?? 0))
            #expect((after["queue.abandonRate"]?.doubleValue ?? 0) > (before["queue.abandonRate"]?.doubleValue ?? 1))
        }
    }

    @Test func trafficFollowsTheTenantsClockNotTheMachines() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            let clock = try await sim.send(.GET, "/_sim/clock")
            #expect(clock.json["pinned"] == true && clock.json["now"]?.stringValue?.hasPrefix("2026-01-05T03:0") == true, "\(clock.text)")
            func offered() async throws -> Double {
                let r = try await sim.send(.POST, "/api/v2/analytics/queues/summary/query", token: token,
                                           json: ["interval": "PT1H", "select": ["queue.id", "queue.offered"], "size": 100])
                return (r.json["data"]?.arrayValue ?? []).reduce(0) { $0 + ($1["queue.offered"]?.doubleValue ?? 0) }
            }
            let night = try await offered()
            #expect(try await offered() == night, "a pinned clock gives the same traffic on every query")
            let moved = try await sim.send(.PUT, "/_sim/clock", json: ["now": "2026-01-05T12:00:00Z"])
            #expect(moved.status == 200 && moved.json["now"]?.stringValue?.hasPrefix("2026-01-05T12:00") == true, "\(moved.text)")
            let noon = try await offered()
            #expect(noon > night * 3, "noon \(noon) vs night \(night)")
            // Shifts follow the same clock: an agent whose shift starts at 06:00 is on shift at noon, not at 03:00.
            let users = try await sim.send(.GET, "/api/v2/users?pageSize=100", token: token).json["data"]?.arrayValue ?? []
            let nineToSix = try #require(users.first {
                $0.value(at: ["shiftSchedule", "startHour"])?.doubleValue == 6 && $0.value(at: ["shiftSchedule", "durationHours"])?.doubleValue == 8
            }?["id"]?.stringValue)
            func onShift() async throws -> Bool {
                try await sim.send(.GET, "/api/v2/users/\(nineToSix)", token: token).json.value(at: ["shiftSchedule", "onShift"]) == true
            }
            #expect(try await onShift())
            _ = try await sim.send(.PUT, "/_sim/clock", json: ["now": "2026-01-05T03:00:00Z"])
            #expect(try await !onShift())
            #expect(try await sim.send(.PUT, "/_sim/clock", json: ["now": "soon"]).status == 400)
            let real = try await sim.send(.PUT, "/_sim/clock", json: ["now": .null])
            #expect(real.json["pinned"] == false)
        }
    }
}
