/// Reading the `chunk:LINE: ` prefix Lua puts on error messages.
enum ErrorPosition {
    /// The message without the host prelude's position when it has none of the script's;
    /// nil when the message already names a script position.
    static func withoutPosition(_ message: String) -> String? {
        if message.hasPrefix("[cx]:") {
            let rest = message.dropFirst(5).drop(while: \.isNumber)
            return String(rest.hasPrefix(": ") ? rest.dropFirst(2) : rest)
        }
        return hasPosition(message) ? nil : message
    }

    /// True when the message starts with `something:DIGITS:` (Lua's `chunk:LINE:`). A colon and a
    /// space before that ends the search: `locked: ... since 2026-11-27T18:26:24Z` is a message
    /// of its own whose clock time is no position.
    static func hasPosition(_ message: String) -> Bool {
        guard let firstLine = message.split(separator: "\n", maxSplits: 1).first else { return false }
        var rest = firstLine[...]
        while let colon = rest.firstIndex(of: ":") {
            let after = rest[rest.index(after: colon)...]
            let digits = after.prefix(while: \.isNumber)
            if !digits.isEmpty, after.dropFirst(digits.count).hasPrefix(":") { return colon != firstLine.startIndex }
            if after.hasPrefix(" ") { return false }
            rest = after
        }
        return false
    }
}
