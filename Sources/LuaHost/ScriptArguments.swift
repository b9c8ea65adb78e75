/// Script arguments as `cx.args` sees them: every one at its position, and a `KEY=VALUE` one
/// (KEY a Lua identifier) also under KEY — the prelude's rule (`Lua/prelude.lua`), here for hosts
/// that check arguments before a run starts.
public enum ScriptArguments {
    /// The KEY of a `KEY=VALUE` argument, nil for a positional one.
    public static func key(of argument: String) -> Substring? {
        guard let eq = argument.firstIndex(of: "=") else { return nil }
        let key = argument[..<eq]
        guard let first = key.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
            key.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) })
        else { return nil }
        return key
    }

    /// The first KEY given twice, with both arguments: one would win unseen.
    public static func repeatedKey(in arguments: [String]) -> (key: Substring, first: String, second: String)? {
        var seen: [Substring: String] = [:]
        for argument in arguments {
            guard let key = key(of: argument) else { continue }
            if let earlier = seen[key] { return (key, earlier, argument) }
            seen[key] = argument
        }
        return nil
    }
}
