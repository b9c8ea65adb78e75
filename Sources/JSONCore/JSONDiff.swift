/// One difference between two documents. Objects are compared field by field; any other value
/// (arrays included) is a leaf, replaced as a whole — as `build` and merge patches treat them.
public struct JSONChange: Sendable, Equatable {
    public var path: [String]
    /// nil when the field was added.
    public var old: JSONValue?
    /// nil when the field was removed.
    public var new: JSONValue?

    public init(path: [String], old: JSONValue?, new: JSONValue?) {
        self.path = path
        self.old = old
        self.new = new
    }

    /// `routing.priority.levels`. A key that is not a plain name is written quoted
    /// (`integration["api.token"]`, `[""]`), so no two paths read the same: a root field named
    /// `routing.strategy` is not shown as the routing's strategy.
    public var dotted: String { Self.dotted(path) }

    /// The path as `dotted` writes it.
    public static func dotted(_ path: [String]) -> String {
        var out = ""
        for key in path {
            if isPlainName(key) {
                if !out.isEmpty { out += "." }
                out += key
            } else {
                out += "[" + JSONValue.string(key).jsonString() + "]"
            }
        }
        return out
    }

    private static func isPlainName(_ key: String) -> Bool {
        guard let first = key.utf8.first, first == UInt8(ascii: "_") || (first | 0x20) >= UInt8(ascii: "a") && (first | 0x20) <= UInt8(ascii: "z")
        else { return false }
        return key.utf8.allSatisfy { c in
            c == UInt8(ascii: "_") || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || ((c | 0x20) >= UInt8(ascii: "a") && (c | 0x20) <= UInt8(ascii: "z"))
        }
    }
}

extension JSONValue {
    /// The leaf changes that turn `self` into `other`, sorted by path.
    public func changes(to other: JSONValue, ignoring ignored: Set<String> = []) -> [JSONChange] {
        var out: [JSONChange] = []
        Self.walk(self, other, [], ignored, &out)
        return out.sorted { $0.dotted < $1.dotted }
    }

    private static func walk(_ a: JSONValue?, _ b: JSONValue?, _ path: [String], _ ignored: Set<String>, _ out: inout [JSONChange]) {
        if a == b { return }
        if case .object(let x)? = a, case .object(let y)? = b {
            for key in Set(x.keys).union(y.keys) where !(path.isEmpty && ignored.contains(key)) {
                walk(x[key], y[key], path + [key], ignored, &out)
            }
            return
        }
        // A Lua float and the server's integer for one number (`300.0`, `-0.0`) are no change:
        // writing one would bump the version and show `300 -> 300` in a plan.
        if let a, let b, a.equalsByValue(b) { return }
        out.append(JSONChange(path: path, old: a, new: b))
    }

    /// The RFC 7396 merge patch that turns `self` into `other` (a removed field is `null`).
    public func mergePatch(to other: JSONValue, ignoring ignored: Set<String> = []) -> JSONValue {
        var patch = JSONValue.object([:])
        for change in changes(to: other, ignoring: ignored) { patch = patch.setting(change.new ?? .null, at: change.path) }
        return patch
    }

    /// A copy with the field at `path` removed (no-op when absent).
    public func removing(at path: [String]) -> JSONValue {
        guard let key = path.first, case .object(var fields) = self else { return self }
        if path.count == 1 {
            fields[key] = nil
        } else if let child = fields[key] {
            fields[key] = child.removing(at: Array(path.dropFirst()))
        }
        return .object(fields)
    }

    /// Applies a change's new value (or removal) at its path.
    public func applying(_ change: JSONChange) -> JSONValue {
        if let new = change.new { return setting(new, at: change.path) }
        return removing(at: change.path)
    }
}

extension Array where Element == String {
    /// True when one path is a prefix of the other (they touch the same part of a document).
    public func overlaps(_ other: [String]) -> Bool {
        let n = Swift.min(count, other.count)
        return Array(prefix(n)) == Array(other.prefix(n))
    }
}

extension JSONValue {
    /// The same value as `other`, numbers compared by value (a server may answer `30` as `30.0`);
    /// nil, a missing field, is the same as `null`.
    public func isSame(as other: JSONValue?) -> Bool {
        switch (self, other ?? .null) {
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.isSame(as: $1) }
        case (.object(let a), .object(let b)):
            return Set(a.keys).union(b.keys).allSatisfy { key in (a[key] ?? .null).isSame(as: b[key]) }
        case (let a, let b): return a.equalsByValue(b)  // numbers by value: the one rule for both
        }
    }
}

extension JSONValue {
    /// Equal, numbers compared by exact value: `30`, `30.0` are one number, and so are `0` and
    /// `-0.0`; 2^53 + 1 and the double 2^53 are two. A missing field and `null` still differ.
    public func equalsByValue(_ other: JSONValue) -> Bool {
        switch (self, other) {
        case (.int(let a), .double(let b)), (.double(let b), .int(let a)): return Int64(exactly: b) == a
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.equalsByValue($1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map(value.equalsByValue) ?? false }
        case (let a, let b): return a == b
        }
    }
}
