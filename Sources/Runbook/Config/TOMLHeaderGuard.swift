/// Finds table headers that toml++ 3.4 (under TOMLKit) cannot parse safely. Its parser asserts
/// (abort in a debug build, undefined behaviour with NDEBUG) when a `[` or `[[` header is followed
/// by anything other than a key, a quote or `]`, such as `[{a = 1}` — found by `make fuzz`.
/// Such a file is refused here first with a line number, like any other syntax error. The scan
/// knows just enough TOML to tell a header from a value: strings, comments and bracket depth.
enum TOMLHeaderGuard {
    /// The 1-based line of the first header toml++ would choke on, or nil.
    static func badHeaderLine(in text: String) -> Int? {
        let b = Array(text.utf8)
        var i = 0, line = 1, depth = 0
        var statementStart = true
        func at(_ k: Int) -> UInt8? { k < b.count ? b[k] : nil }
        func isBareKey(_ c: UInt8) -> Bool {
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
        }
        func isBlank(_ c: UInt8?) -> Bool { c == 0x20 || c == 0x09 }
        /// Skips a string starting at i (its quote `q`, tripled when multi-line); counts lines.
        func skipString(_ q: UInt8) {
            let multi = at(i + 1) == q && at(i + 2) == q
            i += multi ? 3 : 1
            while i < b.count {
                let c = b[i]
                if c == 0x5C && q == 0x22 { i += 2; continue }  // an escape in a basic string
                if c == 0x0A { line += 1; if !multi { i += 1; return } }
                if c == q && (!multi || (at(i + 1) == q && at(i + 2) == q)) { i += multi ? 3 : 1; return }
                i += 1
            }
        }
        while i < b.count {
            let c = b[i]
            switch c {
            case 0x0A:
                line += 1
                if depth == 0 { statementStart = true }
                i += 1
            case 0x20, 0x09, 0x0D:
                i += 1
            case 0x23:  // a comment runs to the end of the line
                while i < b.count && b[i] != 0x0A { i += 1 }
            case 0x22, 0x27:
                statementStart = false
                skipString(c)
            case 0x5B where depth == 0 && statementStart:
                var k = i + 1
                if at(k) == 0x5B { k += 1 }
                while isBlank(at(k)) { k += 1 }
                if let next = at(k), !(isBareKey(next) || next == 0x22 || next == 0x27 || next == 0x5D) {
                    // `[ [` is refused by toml++ itself; anything else here makes it assert.
                    if !(k > i + 1 && next == 0x5B && at(i + 1) != 0x5B) { return line }
                }
                while i < b.count && b[i] != 0x0A { i += 1 }  // a header holds one line
            case 0x5B, 0x7B:
                statementStart = false
                depth += 1
                i += 1
            case 0x5D, 0x7D:
                depth = max(0, depth - 1)
                i += 1
            default:
                statementStart = false
                i += 1
            }
        }
        return nil
    }
}
