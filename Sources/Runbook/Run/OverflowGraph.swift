import JSONCore

/// The tenant's overflow links as this run last saw them (queue → the queue it overflows
/// to), kept up to date as documents are fetched and written, so that the validators ask
/// "how long is the chain already leading into this queue?" without walking every queue:
/// a 5,000-queue rebalance validates each queue in time proportional to its own chain.
struct OverflowGraph: Sendable {
    /// id → (version seen, target of its enabled routeToQueue overflow, if any).
    private var links: [String: (version: Int64, target: String?)] = [:]
    /// target → the queues overflowing into it.
    private var into: [String: Set<String>] = [:]

    /// Records `queue`'s link (an older version than one already seen changes nothing).
    mutating func remember(_ queue: JSONValue) {
        guard let id = queue["id"]?.stringValue, let version = queue["version"]?.intValue else { return }
        if let known = links[id], known.version > version { return }
        let o = queue["overflow"]
        let target = o?["enabled"]?.boolValue != false && o?["action"]?.stringValue == "routeToQueue" ? o?["targetQueueId"]?.stringValue : nil
        if let old = links[id]?.target { into[old]?.remove(id) }
        links[id] = (version, target)
        if let target { into[target, default: []].insert(id) }
    }

    /// The longest chain of links leading into `id` (not through `id` itself), and the queue it starts at.
    func upstream(of id: String) -> (depth: Int, head: String?) {
        var visiting: Set<String> = [id]
        func longest(_ queue: String) -> (Int, String?) {
            var best = (0, String?.none)
            for pred in into[queue] ?? [] where !visiting.contains(pred) {
                visiting.insert(pred)
                let (n, head) = longest(pred)
                visiting.remove(pred)
                if n + 1 > best.0 { best = (n + 1, head ?? pred) }
            }
            return best
        }
        return longest(id)
    }
}
