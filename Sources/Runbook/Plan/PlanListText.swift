import JSONCore

extension PlanText {
    /// A changed list of objects that each carry an `id` (a queue's skills, its skill
    /// requirements by `skill`), item by item under its one-line change: a reviewer read the two
    /// whole lists side by side, ids and all, to find the one level that changed. Nil when the
    /// lists are not such (then the one line says it all).
    static func itemLines(_ old: JSONValue, _ new: JSONValue, shown: (JSONValue) -> String) -> [String]? {
        guard case .array(let before) = old, case .array(let after) = new,
              let was = keyed(before), let now = keyed(after), !was.items.isEmpty || !now.items.isEmpty, was.key == now.key || was.items.isEmpty || now.items.isEmpty
        else { return nil }
        let key = now.items.isEmpty ? was.key : now.key
        let earlier = Dictionary(was.items, uniquingKeysWith: { first, _ in first })
        let later = Dictionary(now.items, uniquingKeysWith: { first, _ in first })
        var lines: [String] = []
        for (id, item) in now.items {
            let label = "[\(key) \(printable(id))]"
            guard let before = earlier[id] else {
                lines.append("        + \(label) \(shown(item))")
                continue
            }
            for change in before.changes(to: item) {
                let path = printable(change.dotted)
                switch (change.old, change.new) {
                case (nil, let v?): lines.append("        + \(label) \(path): \(shown(v))")
                case (let v?, nil): lines.append("        - \(label) \(path): \(shown(v))")
                case (let a?, let b?): lines.append("        ~ \(label) \(path): \(shown(a)) -> \(shown(b))")
                default: break
                }
            }
        }
        for (id, item) in was.items where later[id] == nil { lines.append("        - [\(key) \(printable(id))] \(shown(item))") }
        if lines.isEmpty { lines.append("        (the same items in another order)") }
        return lines
    }

    /// The items by the key each carries once (`id`, else `skill`), in order; nil when some item
    /// is not an object with it as a string, or two carry the same.
    private static func keyed(_ items: [JSONValue]) -> (key: String, items: [(String, JSONValue)])? {
        for key in ["id", "skill"] {
            let ids = items.compactMap { $0[key]?.stringValue }
            guard ids.count == items.count, Set(ids).count == ids.count else { continue }
            return (key, Array(zip(ids, items)))
        }
        return items.isEmpty ? ("id", []) : nil
    }
}
