import JSONCore

/// A write the server answered as done (a new version, a 2xx) whose answer does not hold every
/// change it was sent: a field the server ignores or rewrites. The write happened (its row and
/// snapshots say so, and a rollback undoes it), but the script must not go on as if the dropped
/// changes were made: it gets an `invalid` error naming each one.
enum NotApplied {
    /// The `changes` whose new value `answer` does not hold (a removal holds when the field is gone).
    /// A secret is not judged: many APIs answer it masked (`"****"`), whatever they stored.
    static func changes(_ changes: [JSONChange], heldBy answer: JSONValue) -> [JSONChange] {
        changes.filter { !$0.path.contains(where: Redactor.isSensitiveKey) && !holds(answer.value(at: $0.path), $0.new ?? .null) }
    }

    /// Whether `held` is `sent`: the same value, or a list of the same items in another order (a
    /// server that keeps skills sorted by id took them all; reading that as "not applied" would
    /// stop a script over nothing).
    static func holds(_ held: JSONValue?, _ sent: JSONValue) -> Bool {
        if sent.isSame(as: held) { return true }
        guard case .array(let items)? = held, case .array(var unmatched) = sent, items.count == unmatched.count else { return false }
        for item in items {
            guard let i = unmatched.firstIndex(where: { $0.isSame(as: item) }) else { return false }
            unmatched.remove(at: i)
        }
        return true
    }

    /// The error for a write of one field (a status, a profile) whose answer names another value
    /// than `sent`; nil when it holds it, or says nothing of the field.
    static func error(field: String, sent: JSONValue, previous: JSONValue, answer: JSONValue, lead: String) -> BindingError? {
        guard answer[field] != nil else { return nil }
        return error(changes([JSONChange(path: [field], old: previous, new: sent)], heldBy: answer), answer: answer, lead: lead)
    }

    /// The script's error for `missing` (nil when empty): `lead` and the list, e.g. "queue q1 was
    /// written by this run (now version 4), but the server did not apply" "maxWaitTime (sent 61, it holds 60)".
    static func error(_ missing: [JSONChange], answer: JSONValue, lead: String) -> BindingError? {
        guard !missing.isEmpty else { return nil }
        // A secret's values never reach the message or the row (the audit log redacts by key name,
        // and here the key is "sent").
        func shown(_ value: JSONValue?, at path: [String]) -> JSONValue {
            guard let value, value != .null else { return .null }
            return path.contains(where: Redactor.isSensitiveKey) ? .string(Redactor.mask) : value
        }
        func text(_ value: JSONValue) -> String {
            guard value != .null else { return "nothing" }
            let s = value.jsonString()
            return s.count > 60 ? String(s.prefix(57)) + "..." : s
        }
        let entries = missing.map { change in
            (path: change.dotted, sent: shown(change.new, at: change.path), held: shown(answer.value(at: change.path), at: change.path))
        }
        let listed = entries.prefix(5).map { "\($0.path) (sent \(text($0.sent)), it holds \(text($0.held)))" }
        let more = missing.count > 5 ? " and \(missing.count - 5) more" : ""
        let details: JSONValue = [
            "version": answer["version"] ?? .null,
            "not_applied": .array(entries.map { ["path": .string($0.path), "sent": $0.sent, "held": $0.held] }),
        ]
        return BindingError(.invalid, message: "\(lead) " + listed.joined(separator: ", ") + more, details: details)
    }
}
