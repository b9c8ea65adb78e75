import JSONCore

/// What a key holds while a document is read.
enum TOMLNode {
    case value(JSONValue)
    case table(TOMLTable)
    /// `[[name]]`: an array of tables, which later headers may extend.
    case tables([TOMLTable])

    var json: JSONValue {
        switch self {
        case .value(let v): return v
        case .table(let t): return t.json
        case .tables(let ts): return .array(ts.map(\.json))
        }
    }
}

/// A table while a document is read: how it was made decides what may extend it later.
final class TOMLTable {
    enum Kind {
        /// Made by a header on the way to another (`[a]` of `[a.b]`): a header of its own may still come.
        case implicit
        /// Defined by its own header, or the root.
        case header
        /// Made by a dotted key (`a.b = 1`): only dotted keys of the same table extend it.
        case dotted
        /// An inline table `{...}`: complete as written.
        case inline
    }

    var kind: Kind
    private(set) var entries: [String: TOMLNode] = [:]

    init(kind: Kind) { self.kind = kind }

    func set(_ key: String, _ node: TOMLNode) { entries[key] = node }

    /// An inline table and every table inside it are complete: nothing may extend them.
    func sealInline() {
        kind = .inline
        for case .table(let child) in entries.values { child.sealInline() }
    }

    var json: JSONValue { .object(entries.mapValues(\.json)) }
}
