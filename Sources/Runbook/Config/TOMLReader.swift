import JSONCore

/// Reads the TOML subset cxrun.toml uses: `[table.headers]`, `key = value` with strings
/// (basic and literal), integers, floats, booleans and single-line arrays, `#` comments.
/// Every error names the line.
enum TOMLReader {
    struct Failure: Error, Equatable {
        var line: Int
        var message: String
    }

    static func parse(_ text: String) throws(Failure) -> JSONValue {
        var root = JSONValue.object([:])
        var table: [String] = []
        var seenTables = Set<[String]>()
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            var scanner = Scanner(Array(rawLine.unicodeScalars), line: lineNumber)
            scanner.skipSpace()
            if scanner.atEnd || scanner.peek == "#" { continue }
            if scanner.peek == "[" {
                scanner.advance()
                let path = try scanner.key()
                try scanner.expect("]")
                try scanner.endOfLine()
                guard seenTables.insert(path).inserted else { throw Failure(line: lineNumber, message: "table [\(path.joined(separator: "."))] is defined twice") }
                if let existing = root.value(at: path), existing.objectValue == nil {
                    throw Failure(line: lineNumber, message: "[\(path.joined(separator: "."))] is already a value")
                }
                if root.value(at: path) == nil { root = root.setting(.object([:]), at: path) }
                table = path
                continue
            }
            let key = try scanner.key()
            try scanner.expect("=")
            let value = try scanner.value()
            try scanner.endOfLine()
            let full = table + key
            if root.value(at: full) != nil { throw Failure(line: lineNumber, message: "key '\(full.joined(separator: "."))' is set twice") }
            root = root.setting(value, at: full)
        }
        return root
    }

    private struct Scanner {
        let chars: [Unicode.Scalar]
        var i = 0
        let line: Int

        init(_ chars: [Unicode.Scalar], line: Int) {
            self.chars = chars
            self.line = line
        }

        var atEnd: Bool { i >= chars.count }
        var peek: Unicode.Scalar? { atEnd ? nil : chars[i] }
        mutating func advance() { i += 1 }
        func fail(_ message: String) -> Failure { Failure(line: line, message: message) }

        mutating func skipSpace() { while let c = peek, c == " " || c == "\t" || c == "\r" { advance() } }

        mutating func expect(_ c: Unicode.Scalar) throws(Failure) {
            skipSpace()
            guard peek == c else { throw fail("expected '\(c)'") }
            advance()
            skipSpace()
        }

        mutating func endOfLine() throws(Failure) {
            skipSpace()
            if let c = peek, c != "#" { throw fail("unexpected '\(c)' after the value") }
        }

        /// A dotted key: bare (`A-Za-z0-9_-`) or quoted parts.
        mutating func key() throws(Failure) -> [String] {
            var parts: [String] = []
            repeat {
                skipSpace()
                if peek == "\"" || peek == "'" {
                    guard case .string(let s) = try value() else { throw fail("invalid key") }
                    parts.append(s)
                } else {
                    var s = ""
                    while let c = peek, c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "-" {
                        s.unicodeScalars.append(c)
                        advance()
                    }
                    guard !s.isEmpty else { throw fail("expected a key") }
                    parts.append(s)
                }
                skipSpace()
                guard peek == "." else { break }
                advance()
            } while true
            return parts
        }

        mutating func value() throws(Failure) -> JSONValue {
            skipSpace()
            guard let c = peek else { throw fail("expected a value") }
            switch c {
            case "\"": return .string(try basicString())
            case "'":
                advance()
                var s = ""
                while let c = peek, c != "'" {
                    s.unicodeScalars.append(c)
                    advance()
                }
                guard peek == "'" else { throw fail("unterminated string") }
                advance()
                return .string(s)
            case "[":
                advance()
                var items: [JSONValue] = []
                while true {
                    skipSpace()
                    if peek == "]" { advance(); return .array(items) }
                    items.append(try value())
                    skipSpace()
                    if peek == "," { advance(); continue }
                    guard peek == "]" else { throw fail("expected ',' or ']' in the array (arrays must fit on one line)") }
                }
            default:
                var token = ""
                while let c = peek, c != " " && c != "\t" && c != "," && c != "]" && c != "#" && c != "\r" {
                    token.unicodeScalars.append(c)
                    advance()
                }
                if token == "true" { return .bool(true) }
                if token == "false" { return .bool(false) }
                let digits = token.replacingOccurrences(of: "_", with: "")
                if let i = Int64(digits) { return .int(i) }
                if let d = Double(digits), d.isFinite { return .double(d) }
                throw fail(token.isEmpty ? "expected a value" : "'\(token)' is not a TOML value (strings need quotes)")
            }
        }

        mutating func basicString() throws(Failure) -> String {
            advance()
            var s = ""
            while let c = peek, c != "\"" {
                advance()
                guard c == "\\" else { s.unicodeScalars.append(c); continue }
                guard let e = peek else { break }
                advance()
                switch e {
                case "n": s += "\n"
                case "t": s += "\t"
                case "r": s += "\r"
                case "\"": s += "\""
                case "\\": s += "\\"
                case "u", "U":
                    let n = e == "u" ? 4 : 8
                    guard i + n <= chars.count, let v = UInt32(String(String.UnicodeScalarView(chars[i..<i + n])), radix: 16),
                        let scalar = Unicode.Scalar(v)
                    else { throw fail("invalid \\\(e) escape") }
                    s.unicodeScalars.append(scalar)
                    i += n
                default: throw fail("invalid escape '\\\(e)'")
                }
            }
            guard peek == "\"" else { throw fail("unterminated string") }
            advance()
            return s
        }
    }
}
