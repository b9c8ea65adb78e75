extension JSONValue {
    /// RFC 7396 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces.
    public func mergePatched(with patch: JSONValue) -> JSONValue {
        guard case .object(let fields) = patch else { return patch }
        var target: [String: JSONValue]
        if case .object(let existing) = self { target = existing } else { target = [:] }
        for (key, value) in fields {
            if value == .null {
                target[key] = nil
            } else {
                target[key] = (target[key] ?? .null).mergePatched(with: value)
            }
        }
        return .object(target)
    }

    /// The value at a path of object keys, or nil.
    public func value(at path: [String]) -> JSONValue? {
        var current = self
        for key in path {
            guard case .object(let o) = current, let next = o[key] else { return nil }
            current = next
        }
        return current
    }

    /// A copy with `value` set at a path of object keys (intermediate objects created).
    public func setting(_ value: JSONValue, at path: [String]) -> JSONValue {
        guard let key = path.first else { return value }
        var fields: [String: JSONValue]
        if case .object(let o) = self { fields = o } else { fields = [:] }
        fields[key] = (fields[key] ?? .null).setting(value, at: Array(path.dropFirst()))
        return .object(fields)
    }

    /// The object's fields, or nil when this is not an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The array's items, or nil when this is not an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The boolean payload, or nil.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }
}
