/// Text cxrun did not write itself (a server's names and messages, a plan file) made safe to
/// show on a terminal: an escape sequence in a queue name could clear the screen, retitle the
/// window or hide a line of a plan under review, and a bidirectional override could reorder one.
public enum TerminalText {
    /// Whether `scalar` can change what a terminal shows instead of showing itself: C0 and C1
    /// controls (escape sequences, carriage returns), DEL, format characters (bidirectional
    /// overrides and isolates, zero-width characters), and the Unicode line and paragraph
    /// separators, which some terminals break a line at.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: return true
        default: return false
        }
    }

    /// `text` with every unsafe scalar but the tab written out as a visible `\u{…}` escape, so a
    /// reviewer sees that it is there (a tab only moves to the next column, as a traceback uses it).
    public static func escaped(_ text: String) -> String {
        func hidden(_ scalar: Unicode.Scalar) -> Bool { scalar != "\t" && isUnsafe(scalar) }
        guard text.unicodeScalars.contains(where: hidden) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if hidden(scalar) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
