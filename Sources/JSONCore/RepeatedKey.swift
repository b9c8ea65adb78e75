/// The first key given again in a JSON object's members, as a Swift dictionary sees it: the same
/// bytes (or, from Lua, 1 and "1"), or "é" and "e" + U+0301, which are two byte strings but one
/// dictionary key. What the parser and the Lua bridge say when they refuse such an object.
public struct RepeatedKey: Sendable, Equatable {
    /// The later of the two, as given.
    public var key: String
    /// Whether the two differ in their bytes (two Unicode normalizations of one text).
    public var otherBytes: Bool

    /// The first repeat in `keys`, or nil when each key is given once.
    public static func first(in keys: some Sequence<String>) -> RepeatedKey? {
        var seen: [String: String] = [:]
        for key in keys {
            guard let earlier = seen.updateValue(key, forKey: key) else { continue }
            return RepeatedKey(key: key, otherBytes: !earlier.utf8.elementsEqual(key.utf8))
        }
        return nil
    }
}
