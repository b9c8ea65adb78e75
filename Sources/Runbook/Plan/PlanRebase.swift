import JSONCore

/// A planned change laid over a document as it is now, field by field: a field still holding
/// the planned `old` value takes the planned `new` one; a field already holding `new` needs
/// nothing; a field holding anything else was changed by someone else since the plan (stale).
struct PlanRebase: Equatable {
    /// The document to write (`current` with every applicable change).
    var document: JSONValue
    /// Planned fields someone else changed since: the plan cannot be applied to these.
    var stale: [String]
    /// Planned fields that already hold the planned value.
    var alreadyDone: [String]

    init(_ changes: [JSONChange], onto current: JSONValue) {
        document = current
        stale = []
        alreadyDone = []
        for change in changes {
            let now = current.value(at: change.path)
            if now == change.old {
                document = document.applying(change)
            } else if now == change.new {
                alreadyDone.append(change.dotted)
            } else {
                stale.append(change.dotted)
            }
        }
    }
}
