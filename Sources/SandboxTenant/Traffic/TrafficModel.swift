import Foundation
import JSONCore

/// Computes a queue's metrics from its configuration and staffing (DESIGN.md §9): offered load
/// from a per-queue seeded volume and the time of day, Erlang A (waiting, abandonment after the
/// queue's patience, service level) over the servers its staff make. Changing staffing or configuration moves the numbers the way a WFM
/// analyst would expect.
struct TrafficModel: Sendable {
    let seed: UInt64

    struct Metrics: Sendable {
        var offered, answered, abandoned: Double
        var answerRate, abandonRate, serviceLevel, occupancy, callbackConversionRate: Double
        var averageWaitTime, averageHandleTime, staffedAgents: Double
        /// Erlangs offered, and the servers (agents × concurrency) that served them: Erlang A's inputs.
        var offeredLoad = 0.0, servers = 0.0

        /// The analytics names of the metrics.
        var byName: [String: JSONValue] {
            [
                "queue.offered": .int(Int64(offered.rounded())),
                "queue.answered": .int(Int64(answered.rounded())),
                "queue.abandonCount": .int(Int64(abandoned.rounded())),
                "queue.answerRate": .double(round4(answerRate)),
                "queue.abandonRate": .double(round4(abandonRate)),
                "queue.serviceLevel": .double(round4(serviceLevel)),
                "queue.occupancy": .double(round4(occupancy)),
                "queue.callbackConversionRate": .double(round4(callbackConversionRate)),
                "queue.averageWaitTime": .double(round4(averageWaitTime)),
                "queue.averageHandleTime": .double(round4(averageHandleTime)),
                "queue.staffedAgents": .double(round4(staffedAgents)),
                "queue.offeredLoad": .double(round4(offeredLoad)),
                "queue.servers": .int(Int64(servers)),
            ]
        }

        private func round4(_ x: Double) -> Double { (x * 10_000).rounded() / 10_000 }
    }

    static let metricNames = Metrics(
        offered: 0, answered: 0, abandoned: 0, answerRate: 0, abandonRate: 0, serviceLevel: 0, occupancy: 0,
        callbackConversionRate: 0, averageWaitTime: 0, averageHandleTime: 0, staffedAgents: 0
    ).byName.keys.sorted()

    /// Contacts per hour before the time-of-day curve. Sized so that the seeded staffing runs a
    /// typical queue near 75% occupancy at the daily peak (some busier, some quieter).
    func baseVolume(_ queueID: String, channel: String) -> Double {
        var rng = SeededRandom(seed: seed ^ UInt64(truncatingIfNeeded: stableHash(queueID)))
        let base: Double = channel == "voice" ? 21 : channel == "chat" ? 27 : 8
        return base * (0.5 + rng.unit())
    }

    /// 0.35 at night, peaking at 1.4 in the early afternoon (UTC).
    static func timeOfDay(_ date: Date) -> Double {
        let hour = Double(Int(date.timeIntervalSince1970) % 86_400) / 3600
        guard hour >= 6, hour <= 20 else { return 0.35 }
        return 0.35 + 1.05 * sin(Double.pi * (hour - 6) / 14)
    }

    /// The servers a queue has: each staffed agent (a share, when in several queues) takes
    /// `concurrency` contacts at once; some staff means at least one server.
    static func servers(staffed: Double, concurrency: Int) -> Int {
        staffed > 0 ? max(1, Int((staffed * Double(concurrency)).rounded())) : 0
    }

    func metrics(queue: JSONValue, staffed: Double, at date: Date, intervalSeconds: Double) -> Metrics {
        let id = queue["id"]?.stringValue ?? ""
        let channel = queue["channel"]?.stringValue ?? "voice"
        let strategy = queue.value(at: ["routing", "strategy"])?.stringValue ?? "longest_idle"
        let strategyFactor = ["skill_based": 0.92, "priority": 0.95, "weighted": 0.96, "fewest_calls": 0.98, "random": 1.05][strategy] ?? 1.0
        let baseHandle: Double = channel == "voice" ? 300 : channel == "chat" ? 480 : 720
        let wrapUp = queue["wrapUpTime"]?.doubleValue ?? 30
        let handleTime = baseHandle * strategyFactor + wrapUp
        let concurrency = max(1, min(10, Int(queue["concurrency"]?.intValue ?? 1)))
        let servers = Self.servers(staffed: staffed, concurrency: concurrency)
        let perSecond = baseVolume(id, channel: channel) * Self.timeOfDay(date) / 3600
        let traffic = perSecond * handleTime
        let threshold = queue.value(at: ["serviceLevelTarget", "time"])?.doubleValue ?? 20
        let patience = max(5, queue.value(at: ["waitStrategy", "abandonmentThreshold"])?.doubleValue ?? 120)
        // Erlang A: waiting callers hang up after their patience (the same math as cx.capacity).
        let queueing = ErlangA.evaluate(servers: servers, traffic: traffic, handleTime: handleTime, patience: patience, threshold: threshold)
        var callbackConversion = 0.0
        if queue.value(at: ["callback", "enabled"])?.boolValue == true {
            let position = queue.value(at: ["callback", "positionThreshold"])?.doubleValue ?? 5
            callbackConversion = 0.2 + 0.5 * exp(-position / 20)
        }
        // Callers who would have hung up take a callback instead, at the callback's conversion rate.
        let abandonRate = min(1, max(0, queueing.abandonProbability * (1 - callbackConversion)))
        let offered = perSecond * intervalSeconds
        return Metrics(
            offered: offered, answered: offered * (1 - abandonRate), abandoned: offered * abandonRate,
            answerRate: 1 - abandonRate, abandonRate: abandonRate, serviceLevel: queueing.serviceLevel,
            occupancy: servers > 0 ? min(1, traffic * (1 - abandonRate) / Double(servers)) : 1, callbackConversionRate: callbackConversion,
            averageWaitTime: queueing.meanWait, averageHandleTime: handleTime, staffedAgents: staffed, offeredLoad: traffic, servers: Double(servers))
    }

    /// Agents on shift at `now` and taking contacts (Available, or Busy with one) serving each
    /// queue; an agent in several queues counts a share in each.
    static func staffing(users: [JSONValue], now: Double) -> [String: Double] {
        var staffed: [String: Double] = [:]
        for user in users where ["Available", "Busy"].contains(user["status"]?.stringValue ?? "") && Shift.isOn(user, now: now) {
            let queues = user["queueIds"]?.arrayValue?.compactMap(\.stringValue) ?? []
            for q in queues { staffed[q, default: 0] += 1 / Double(queues.count) }
        }
        return staffed
    }

    private func stableHash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a: stable across runs, unlike Hasher
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01B3
        }
        return h
    }
}
