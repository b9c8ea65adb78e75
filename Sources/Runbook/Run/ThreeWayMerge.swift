import CXone
import JSONCore

/// Merges a script's change with someone else's (DESIGN.md §6): base = what the script built
/// from, mine = its payload, theirs = the current document. Disjoint changes merge; changes to
/// the same part of the document with different values are a conflict naming the paths.
enum ThreeWayMerge {
    static let serverFields: Set<String> = ["version", "id"]

    /// `ownWrite`: `theirs` is what this run's own earlier write of the queue left (so the error
    /// does not blame "someone else" for it).
    static func merge(base: JSONValue, mine: JSONValue, theirs: JSONValue, queueID: String, ownWrite: Bool = false) throws(BindingError) -> JSONValue {
        let ours = base.changes(to: mine, ignoring: serverFields)
        let others = base.changes(to: theirs, ignoring: serverFields)
        var conflicts: [String] = []
        for change in ours {
            for other in others where change.path.overlaps(other.path) {
                // The same change made twice is no conflict.
                if change.path == other.path && same(change.new, other.new) { continue }
                conflicts.append(change.dotted)
            }
        }
        if !conflicts.isEmpty {
            let paths = Array(Set(conflicts)).sorted()
            let by = ownWrite
                ? "queue \(queueID) was changed by this run's own earlier write (now version \(theirs["version"]?.jsonString() ?? "?")) in the fields "
                    + "this payload changes, and it was built from the version before that: \(paths.joined(separator: ", ")) "
                    + "(fetch the queue again and build from that)"
                : "queue \(queueID) was changed by someone else in the fields this run changes: \(paths.joined(separator: ", "))"
            throw BindingError(
                .conflict, status: 409,
                message: by,
                details: ["paths": .array(paths.map(JSONValue.string)), "current_version": theirs["version"] ?? .null])
        }
        var merged = theirs
        for change in ours { merged = merged.applying(change) }
        return merged
    }

    /// Both removed, or both set to one value (numbers by value: the server may answer `30.0`).
    private static func same(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (let a?, let b?): a.equalsByValue(b)
        default: false
        }
    }
}
