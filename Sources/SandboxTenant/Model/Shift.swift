import Foundation
import JSONCore

/// Agents' shifts, seeded so that the workforce on shift follows the demand curve
/// (`TrafficModel.timeOfDay`) hour by hour: half the agents work rotating 8-hour shifts (starting
/// 22:00, 06:00 or 14:00), which cover the night's base load; the other half each work the
/// stretch of the day where demand is above a level of their own, drawn evenly between the
/// night's level and the peak. On shift at hour h are then N × 2/3 × demand(h)/peak agents, so
/// at any hour most queues are staffed for their load and a few run hot.
enum Shift {
    /// The seeded shift of agent `index`: start hour (UTC, may be fractional) and length.
    static func seeded(index: Int, seed: UInt64) -> (startHour: Double, durationHours: Double) {
        // A generator of its own per agent: the rest of the demo data does not move.
        var rng = SeededRandom(seed: seed ^ (0x5348_4946_5400_0000 &+ UInt64(index)))
        if index % 2 == 0 { return ((index / 2) % 10 < 4 ? 22.0 : (index / 2) % 10 < 7 ? 6.0 : 14.0, 8) }
        // Demand at or above `level` × peak: sin(pi (h - 6) / 14) >= x, for h between 6 and 20.
        let night = 0.35 / 1.4
        let level = night + (0.95 - night) * rng.unit()
        let x = min(1, max(0, (level * 1.4 - 0.35) / 1.05))
        let half = 14 * asin(x) / Double.pi
        let start = ((6 + half) * 100).rounded() / 100
        return (start, ((14 - 2 * half) * 100).rounded() / 100)
    }

    /// The shift around `now` (seconds since 1970) of a user: the one under way, else the next.
    static func window(_ user: JSONValue, now: Double) -> (start: Double, end: Double) {
        let startHour = user["shiftSchedule"]?["startHour"]?.doubleValue ?? 9
        let hours = user["shiftSchedule"]?["durationHours"]?.doubleValue ?? 8
        var start = (now / 86_400).rounded(.down) * 86_400 + startHour * 3600
        if start > now && start - 86_400 + hours * 3600 > now { start -= 86_400 }
        return (start, start + hours * 3600)
    }

    /// Whether a user is on shift at `now`.
    static func isOn(_ user: JSONValue, now: Double) -> Bool {
        let w = window(user, now: now)
        return w.start <= now && now < w.end
    }
}
