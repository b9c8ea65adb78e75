/// Which known name a misspelt one most likely means: the rule behind every "did you mean …?"
/// of the Swift side, the same as the standard library's `cx.names` (a script's globals, binding
/// options, config keys and stdlib arguments suggest alike).
enum NearestName {
    /// The candidate nearest `name`, compared ignoring case, when it is near enough to be a slip:
    /// one edit for a name of up to four letters, else two, or a third of the candidate's length
    /// when that is more; ties go to the candidate that sorts first. Names starting with `_`
    /// (private) are never suggested.
    static func nearest(to name: String, in candidates: some Sequence<String>) -> String? {
        let target = Array(name.lowercased())
        let base = target.count <= 4 ? 1 : 2
        var best: (String, Int)?
        for candidate in candidates where !candidate.hasPrefix("_") {
            let most = max(base, candidate.count / 3)
            // Lengths further apart than the edits allowed cannot be that near: a script that sets
            // 100,000 globals is not compared name by name for each undefined one.
            guard abs(candidate.count - target.count) <= most else { continue }
            let d = distance(target, Array(candidate.lowercased()))
            if d <= most, best.map({ d < $0.1 || (d == $0.1 && candidate < $0.0) }) ?? true { best = (candidate, d) }
        }
        return best?.0
    }

    /// Edits (insert, delete, replace, or swap two neighbours: `wiat`, `fecth`) from `a` to `b`.
    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        var before = [Int](), previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = Swift.min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
                if i > 0, j > 0, x == b[j - 1], a[i - 1] == y { current[j + 1] = Swift.min(current[j + 1], before[j - 1] + 1) }
            }
            (before, previous) = (previous, current)
        }
        return previous[b.count]
    }
}
