import JSONCore

/// What a dry run would have done to one target.
public struct PlannedChange: Sendable {
    public var kind: String
    public var target: String
    public var title: String
    public var changes: [JSONChange]
    public var note: String?

    /// Readable lines: `~ path: old -> new`, `+ path: new`, `- path: old`.
    public var text: String {
        var lines = ["\(kind) \(target)\(title.isEmpty ? "" : " (\(title))"):"]
        if let note { lines.append("  \(note)") }
        for c in changes {
            switch (c.old, c.new) {
            case (nil, let new?): lines.append("  + \(c.dotted): \(new.jsonString())")
            case (let old?, nil): lines.append("  - \(c.dotted): \(old.jsonString())")
            case (let old?, let new?): lines.append("  ~ \(c.dotted): \(old.jsonString()) -> \(new.jsonString())")
            default: break
            }
        }
        if changes.isEmpty && note == nil { lines.append("  (no change)") }
        return lines.joined(separator: "\n")
    }
}
