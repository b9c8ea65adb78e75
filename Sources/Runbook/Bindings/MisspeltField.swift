import JSONCore

/// A field a write adds beside one the queue already has under nearly the same name: the
/// payload's spelling is a slip (`maxwaittime`, `max_wait_time`, `routing.stratgy`), and the
/// tenant keeps unknown fields as given, so the write "succeeded" with the queue's own field
/// unchanged. Narrow on purpose: the same letters ignoring case, `_` and `-`, or one edit apart
/// (names of four letters or more), so a real field a document happens to lack is not refused.
enum MisspeltField {
    /// The first added field of `changes` that looks like a slip for a field of `base` beside it:
    /// its dotted path and the existing field's.
    static func first(in changes: [JSONChange], over base: JSONValue) -> (added: String, existing: String)? {
        for change in changes where change.old == nil && change.new != nil {
            guard let key = change.path.last, let parent = base.value(at: Array(change.path.dropLast()))?.objectValue else { continue }
            for sibling in parent.keys.sorted() where sibling != key && confusable(key, sibling) {
                let prefix = change.path.dropLast().map { $0 + "." }.joined()
                return (change.dotted, prefix + sibling)
            }
        }
        return nil
    }

    /// Whether two field names are one name misspelt: equal ignoring case, `_` and `-`, or one edit apart.
    static func confusable(_ a: String, _ b: String) -> Bool {
        let plain = { (s: String) in s.lowercased().filter { $0 != "_" && $0 != "-" } }
        if plain(a) == plain(b) { return true }
        guard a.count >= 4, b.count >= 4 else { return false }
        return NearestName.distance(Array(a.lowercased()), Array(b.lowercased())) <= 1
    }
}
