extension JSONValue {
    /// `items` with `transform` applied to each, or nil when it changed none (`transform`
    /// returns nil for an item it leaves as is): a walk that usually changes nothing copies nothing.
    public static func rebuilt(_ items: [JSONValue], _ transform: (JSONValue) -> JSONValue?) -> [JSONValue]? {
        var out: [JSONValue]?
        for (i, item) in items.enumerated() {
            guard let new = transform(item) else { continue }
            if out == nil { out = items }
            out![i] = new
        }
        return out
    }

    /// `fields` with `transform` applied to each, or nil when it changed none (as for arrays).
    public static func rebuilt(_ fields: [String: JSONValue], _ transform: (String, JSONValue) -> JSONValue?) -> [String: JSONValue]? {
        var out: [String: JSONValue]?
        for (key, value) in fields {
            guard let new = transform(key, value) else { continue }
            if out == nil { out = fields }
            out![key] = new
        }
        return out
    }
}
