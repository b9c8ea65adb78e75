import Foundation

/// Erlang C queueing math, numerically stable for thousands of agents (Erlang B recurrence,
/// no factorials). Fractional agent counts interpolate between the neighbouring integers.
enum ErlangC {
    /// Probability that a contact waits, with `agents` agents and `traffic` erlangs.
    static func probabilityOfWaiting(agents: Double, traffic: Double) -> Double {
        guard traffic > 0 else { return 0 }
        let low = floor(agents), high = ceil(agents)
        if low == high { return integral(Int(low), traffic) }
        let w = agents - low
        return (1 - w) * integral(Int(low), traffic) + w * integral(Int(high), traffic)
    }

    private static func integral(_ n: Int, _ a: Double) -> Double {
        guard Double(n) > a else { return 1 }
        var b = 1.0  // Erlang B with 0 servers
        for k in 1...n { b = a * b / (Double(k) + a * b) }
        let c = Double(n) * b / (Double(n) - a * (1 - b))
        return min(1, max(0, c))
    }

    /// Fraction of contacts answered within `threshold` seconds.
    static func serviceLevel(agents: Double, traffic: Double, handleTime: Double, threshold: Double) -> Double {
        guard agents > traffic else { return 0 }
        let pw = probabilityOfWaiting(agents: agents, traffic: traffic)
        return max(0, min(1, 1 - pw * exp(-(agents - traffic) * threshold / handleTime)))
    }

    /// Average speed of answer in seconds (infinite when the queue is saturated).
    static func averageSpeedOfAnswer(agents: Double, traffic: Double, handleTime: Double) -> Double {
        guard agents > traffic else { return .infinity }
        return probabilityOfWaiting(agents: agents, traffic: traffic) * handleTime / (agents - traffic)
    }
}
