import JSONCore

/// A TOML 1.0 parser into JSON values (dates and times become their TOML text). Hand-written
/// because the one TOML package here (TOMLKit over toml++ 3.4) aborts the process, or is
/// undefined behaviour without assertions, on malformed input that `make fuzz` found in minutes
/// (a table header not starting with a key, a date whose time part is not a digit). This one
/// only ever throws: every input gives a value or an error naming the line.
struct TOMLParser {
    struct Failure: Error, Equatable {
        var line: Int
        var message: String
    }

    /// Deeper nesting of arrays and inline tables is refused (the recursion is bounded).
    static let maxDepth = 128

    private let b: [UInt8]
    private var i = 0
    private var line = 1
    private let root = TOMLTable(kind: .header)
    /// The table `key = value` lines go into: the last header's.
    private var current: TOMLTable

    init(_ text: String) {
        b = Array(text.utf8)
        current = root
    }

    /// Parses a whole document.
    static func parse(_ text: String) throws(Failure) -> JSONValue {
        var parser = TOMLParser(text)
        try parser.document()
        return parser.root.json
    }

    // MARK: - The document

    private mutating func document() throws(Failure) {
        while true {
            skipBlank()
            guard let c = peek else { return }
            switch c {
            case 0x23: try comment()
            case 0x0A, 0x0D: try newline()
            case 0x5B: try header()
            default:
                try keyValue(into: current)
                try endOfLine()
            }
        }
    }

    /// After a value or header: blanks, maybe a comment, then a newline or the end.
    private mutating func endOfLine() throws(Failure) {
        skipBlank()
        if peek == 0x23 { try comment() }
        guard let c = peek else { return }
        guard c == 0x0A || c == 0x0D else { throw fail("expected the end of the line, found \(describe(c))") }
        try newline()
    }

    private mutating func header() throws(Failure) {
        i += 1
        let isArray = peek == 0x5B
        if isArray { i += 1 }
        skipBlank()
        let keys = try key()
        skipBlank()
        guard peek == 0x5D else { throw fail("a table header must end with ]\(isArray ? "]" : "")") }
        i += 1
        if isArray {
            guard peek == 0x5D else { throw fail("an array of tables header must end with ]]") }
            i += 1
        }
        var table = root
        for (n, k) in keys.enumerated() {
            let last = n == keys.count - 1
            switch table.entries[k] {
            case nil:
                if last && isArray {
                    let element = TOMLTable(kind: .header)
                    table.set(k, .tables([element]))
                    table = element
                } else {
                    let child = TOMLTable(kind: last ? .header : .implicit)
                    table.set(k, .table(child))
                    table = child
                }
            case .table(let child)?:
                if last {
                    guard !isArray else { throw fail("\(path(keys)) is already a table, not an array of tables") }
                    guard child.kind == .implicit else { throw fail("table \(path(keys)) is defined twice") }
                    child.kind = .header
                }
                guard child.kind != .inline else { throw fail("\(path(keys)) is an inline table, which cannot be extended") }
                table = child
            case .tables(let elements)?:
                if last {
                    guard isArray else { throw fail("\(path(keys)) is an array of tables, not a table") }
                    let element = TOMLTable(kind: .header)
                    table.set(k, .tables(elements + [element]))
                    table = element
                } else {
                    guard let lastElement = elements.last else { throw fail("\(path(keys)) is empty") }
                    table = lastElement
                }
            case .value?:
                throw fail("\(path(Array(keys[...n]))) is already a value, not a table")
            }
        }
        current = table
        try endOfLine()
    }

    /// `key = value` into `table`; dotted keys create tables on the way, and may go on only
    /// through tables that dotted keys of the same table made.
    private mutating func keyValue(into table: TOMLTable, depth: Int = 0) throws(Failure) {
        let keys = try key()
        skipBlank()
        guard peek == 0x3D else { throw fail("expected = after the key \(path(keys))") }
        i += 1
        skipBlank()
        let v = try value(depth: depth)
        var target = table
        for k in keys.dropLast() {
            switch target.entries[k] {
            case nil:
                let child = TOMLTable(kind: .dotted)
                target.set(k, .table(child))
                target = child
            case .table(let child)? where child.kind == .dotted:
                target = child
            default:
                throw fail("\(path(keys)) extends \(k), which is already defined")
            }
        }
        let last = keys[keys.count - 1]
        guard target.entries[last] == nil else { throw fail("\(path(keys)) is defined twice") }
        target.set(last, v)
    }

    // MARK: - Keys

    /// A dotted key: its parts.
    private mutating func key() throws(Failure) -> [String] {
        var parts: [String] = []
        while true {
            skipBlank()
            guard let c = peek else { throw fail("expected a key, found the end of the file") }
            switch c {
            case 0x22:
                guard !(at(1) == 0x22 && at(2) == 0x22) else { throw fail("a key cannot be a multi-line string") }
                parts.append(try basicString())
            case 0x27:
                guard !(at(1) == 0x27 && at(2) == 0x27) else { throw fail("a key cannot be a multi-line string") }
                parts.append(try literalString())
            default:
                let start = i
                while let d = peek, Self.isBare(d) { i += 1 }
                guard i > start else { throw fail("expected a key, found \(describe(c))") }
                parts.append(String(decoding: b[start..<i], as: UTF8.self))
            }
            skipBlank()
            guard peek == 0x2E else { return parts }
            i += 1
        }
    }

    static func isBare(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
    }

    // MARK: - Values

    private mutating func value(depth: Int) throws(Failure) -> TOMLNode {
        guard depth < Self.maxDepth else { throw fail("arrays and inline tables nest deeper than \(Self.maxDepth) levels") }
        guard let c = peek else { throw fail("expected a value, found the end of the file") }
        switch c {
        case 0x22:
            if at(1) == 0x22 && at(2) == 0x22 { return .value(.string(try multilineString(quote: 0x22))) }
            return .value(.string(try basicString()))
        case 0x27:
            if at(1) == 0x27 && at(2) == 0x27 { return .value(.string(try multilineString(quote: 0x27))) }
            return .value(.string(try literalString()))
        case 0x5B: return .value(try array(depth: depth))
        case 0x7B: return .table(try inlineTable(depth: depth))
        case 0x74, 0x66:
            if matches("true") { i += 4; return .value(.bool(true)) }
            if matches("false") { i += 5; return .value(.bool(false)) }
            throw fail("expected a value, found \(describe(c))")
        default:
            return .value(try scalar())
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSONValue {
        i += 1
        var items: [JSONValue] = []
        while true {
            try skipBlankLinesAndComments()
            guard let c = peek else { throw fail("an array is not closed with ]") }
            if c == 0x5D { i += 1; return .array(items) }
            switch try value(depth: depth + 1) {
            case .value(let v): items.append(v)
            case .table(let t): items.append(t.json)
            case .tables: throw fail("an array of tables cannot be a value")
            }
            try skipBlankLinesAndComments()
            guard let d = peek else { throw fail("an array is not closed with ]") }
            if d == 0x2C { i += 1; continue }
            guard d == 0x5D else { throw fail("expected , or ] in an array, found \(describe(d))") }
        }
    }

    private mutating func inlineTable(depth: Int) throws(Failure) -> TOMLTable {
        i += 1
        let table = TOMLTable(kind: .inline)
        skipBlank()
        if peek == 0x7D { i += 1; return table }
        while true {
            skipBlank()
            try keyValue(into: table, depth: depth + 1)  // its value is held to maxDepth
            skipBlank()
            guard let c = peek else { throw fail("an inline table is not closed with }") }
            if c == 0x7D { i += 1; break }
            guard c == 0x2C else { throw fail("expected , or } in an inline table, found \(describe(c))") }
            i += 1
        }
        table.sealInline()
        return table
    }

    // MARK: - Strings

    private mutating func basicString() throws(Failure) -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw fail("a string is not closed with \"") }
            switch c {
            case 0x22: i += 1; return String(decoding: out, as: UTF8.self)
            case 0x5C: try escape(into: &out)
            case 0x0A, 0x0D: throw fail("a string is not closed on its line (use \"\"\" for several lines)")
            default:
                try checkStringByte(c)
                out.append(c)
                i += 1
            }
        }
    }

    /// `"""…"""` (with escapes and line-ending backslashes) or `'''…'''` (raw), by its quote.
    private mutating func multilineString(quote q: UInt8) throws(Failure) -> String {
        let closing = q == 0x22 ? "\"\"\"" : "'''"
        i += 3
        try skipFirstNewline()
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw fail("a multi-line string is not closed with \(closing)") }
            if c == q && at(1) == q && at(2) == q {
                // Up to two quotes may end the content right before the closing three.
                var extra = 0
                while extra < 2 && at(3 + extra) == q { extra += 1 }
                out.append(contentsOf: [UInt8](repeating: q, count: extra))
                i += 3 + extra
                return String(decoding: out, as: UTF8.self)
            }
            if c == 0x5C && q == 0x22 {
                // A backslash at the end of a line trims the newline and the blanks after it.
                var k = i + 1
                while k < b.count && (b[k] == 0x20 || b[k] == 0x09) { k += 1 }
                if k < b.count && (b[k] == 0x0A || (b[k] == 0x0D && k + 1 < b.count && b[k + 1] == 0x0A)) {
                    i = k
                    while let d = peek, d == 0x20 || d == 0x09 || d == 0x0A || d == 0x0D {
                        if d == 0x0A || d == 0x0D { try newline() } else { i += 1 }
                    }
                    continue
                }
                try escape(into: &out)
                continue
            }
            if c == 0x0A || c == 0x0D {
                try newline()
                out.append(0x0A)
                continue
            }
            try checkStringByte(c)
            out.append(c)
            i += 1
        }
    }

    private mutating func literalString() throws(Failure) -> String {
        i += 1
        let start = i
        while true {
            guard let c = peek else { throw fail("a string is not closed with '") }
            if c == 0x27 { i += 1; return String(decoding: b[start..<(i - 1)], as: UTF8.self) }
            if c == 0x0A || c == 0x0D { throw fail("a string is not closed on its line (use ''' for several lines)") }
            try checkStringByte(c)
            i += 1
        }
    }

    private mutating func skipFirstNewline() throws(Failure) {
        if peek == 0x0A || peek == 0x0D { try newline() }
    }

    /// Control characters other than tab are not allowed in strings.
    private func checkStringByte(_ c: UInt8) throws(Failure) {
        if (c < 0x20 && c != 0x09) || c == 0x7F { throw fail("a control character (\(describe(c))) in a string must be escaped") }
    }

    private mutating func escape(into out: inout [UInt8]) throws(Failure) {
        guard let c = at(1) else { throw fail("a string ends in the middle of an escape") }
        i += 2
        switch c {
        case 0x62: out.append(0x08)
        case 0x74: out.append(0x09)
        case 0x6E: out.append(0x0A)
        case 0x66: out.append(0x0C)
        case 0x72: out.append(0x0D)
        case 0x22: out.append(0x22)
        case 0x5C: out.append(0x5C)
        case 0x75, 0x55:
            let count = c == 0x75 ? 4 : 8
            var scalar: UInt32 = 0
            for _ in 0..<count {
                guard let d = peek, let v = Self.hexValue(d) else { throw fail("\\\(c == 0x75 ? "u" : "U") needs \(count) hex digits") }
                scalar = scalar << 4 | UInt32(v)
                i += 1
            }
            guard let u = Unicode.Scalar(scalar) else { throw fail("\\u\(String(scalar, radix: 16)) is not a Unicode scalar value") }
            out.append(contentsOf: Array(String(Character(u)).utf8))
        default:
            throw fail("\\\(String(decoding: [c], as: UTF8.self)) is not an escape TOML knows")
        }
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    // MARK: - Numbers, dates and times

    /// A number, date or time: the run of characters up to a blank, `,`, `]`, `}`, `#` or the end
    /// of the line (a date and time may hold one space), then checked whole.
    private mutating func scalar() throws(Failure) -> JSONValue {
        let start = i
        while let c = peek, !Self.endsScalar(c) { i += 1 }
        // "1979-05-27 07:32:00": a date, one space, then a time.
        if peek == 0x20, i - start == 10, let c = at(1), c >= 0x30 && c <= 0x39, TOMLScalar.isDate(b[start..<i]) {
            i += 1
            while let c = peek, !Self.endsScalar(c) { i += 1 }
        }
        let text = b[start..<i]
        guard !text.isEmpty else { throw fail("expected a value, found \(peek.map(describe) ?? "the end of the file")") }
        guard let v = TOMLScalar.parse(text) else {
            throw fail("'\(String(decoding: text, as: UTF8.self))' is not a TOML value (string, number, boolean, date or time)")
        }
        return v
    }

    private static func endsScalar(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x2C || c == 0x5D || c == 0x7D || c == 0x23
    }

    // MARK: - Reading

    private var peek: UInt8? { i < b.count ? b[i] : nil }
    private func at(_ offset: Int) -> UInt8? { i + offset < b.count ? b[i + offset] : nil }

    private func matches(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard i + w.count <= b.count, Array(b[i..<(i + w.count)]) == w else { return false }
        return i + w.count == b.count || Self.endsScalar(b[i + w.count])
    }

    private mutating func skipBlank() {
        while let c = peek, c == 0x20 || c == 0x09 { i += 1 }
    }

    private mutating func newline() throws(Failure) {
        if peek == 0x0D {
            guard at(1) == 0x0A else { throw fail("a carriage return must be followed by a newline") }
            i += 1
        }
        i += 1
        line += 1
    }

    private mutating func comment() throws(Failure) {
        while let c = peek, c != 0x0A {
            if c == 0x0D && at(1) == 0x0A { return }
            if (c < 0x20 && c != 0x09) || c == 0x7F { throw fail("a control character (\(describe(c))) in a comment") }
            i += 1
        }
    }

    private mutating func skipBlankLinesAndComments() throws(Failure) {
        while let c = peek {
            switch c {
            case 0x20, 0x09: i += 1
            case 0x0A, 0x0D: try newline()
            case 0x23: try comment()
            default: return
            }
        }
    }

    private func describe(_ c: UInt8) -> String {
        c >= 0x21 && c < 0x7F ? "'\(String(decoding: [c], as: UTF8.self))'" : "byte 0x" + String(c, radix: 16, uppercase: true)
    }

    private func path(_ keys: [String]) -> String {
        keys.map { k in k.utf8.allSatisfy(Self.isBare) && !k.isEmpty ? k : "\"\(k)\"" }.joined(separator: ".")
    }

    private func fail(_ message: String) -> Failure { Failure(line: line, message: message) }
}
