import Foundation

/// Erlang A (M/M/n+M): `servers` serving `traffic` erlangs, callers abandoning after an
/// exponential patience. The same math as the stdlib's `cx.capacity.erlang_a` (the birth–death
/// chain summed relative to the all-busy state and rescaled as it goes; the share answered within
/// t from the tagged caller's chain as a negative binomial), so the tenant's metrics and a
/// runbook's capacity math agree.
enum ErlangA {
    struct Result: Equatable {
        var waitProbability: Double
        var abandonProbability: Double
        /// Mean wait over all arrivals (those who hang up included), seconds.
        var meanWait: Double
        /// Share of arrivals answered within the threshold.
        var serviceLevel: Double
    }

    static func evaluate(servers n: Int, traffic a: Double, handleTime aht: Double, patience: Double, threshold: Double) -> Result {
        guard a > 0 else { return Result(waitProbability: 0, abandonProbability: 0, meanWait: 0, serviceLevel: 1) }
        let theta = aht / patience, t = threshold / aht, nd = Double(n)
        var b = 1.0
        if n > 0 { for k in 1...n { b = a * b / (Double(k) + a * b) } }
        guard b > 0 else { return Result(waitProbability: 0, abandonProbability: 0, meanWait: 0, serviceLevel: 1) }
        var low = 1 / b, pn = 1.0, queued = 0.0, waiting = 0.0
        let r = (nd + theta) / theta
        let x = theta * t
        let logq = log(x < 1e-5 ? x - x * x / 2 + x * x * x / 6 : 1 - exp(-x))
        var logpmf = -(nd + theta) * t
        var cdf = exp(logpmf)
        var within = (low - 1) + nd / (nd + theta) * (1 - cdf)
        var term = 1.0, j = 0.0
        while true {
            j += 1
            term = term * a / (nd + j * theta)
            queued += term
            waiting += j * term
            logpmf += log((j - 1 + r) / j) + logq
            cdf += exp(logpmf)
            within += term * nd / (nd + (j + 1) * theta) * max(0, 1 - cdf)
            if term > 1e150 {
                // Rescale everything by the same factor: only ratios are ever used.
                (low, queued, waiting, within, term, pn) = (low / 1e150, queued / 1e150, waiting / 1e150, within / 1e150, term / 1e150, pn / 1e150)
            }
            if nd + j * theta > a && term < 1e-18 * (low + queued) { break }
            if j > 50_000_000 { break }
        }
        let total = low + queued
        let queueLength = waiting / total
        return Result(waitProbability: (pn + queued) / total, abandonProbability: theta * queueLength / a, meanWait: queueLength / a * aht,
                      serviceLevel: max(0, min(1, within / total)))
    }
}
