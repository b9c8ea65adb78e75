/// A direct JSON reader and writer for JSONValue (no Codable detours: every API request and
/// audit row goes through here). Nesting is bounded, so hostile input is an error, not a crash.
enum JSONParser {
    static let maxDepth = 512

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONError) -> JSONValue {
        var reader = Reader(bytes: bytes)
        reader.skipSpace()
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.i == bytes.count else { throw reader.fail("unexpected data after the JSON value") }
        return value
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0
        /// Members and items of the objects and arrays being read, innermost last: one buffer
        /// for the whole document instead of an array grown per object (a growing array per
        /// object was a seventh of a parse).
        var members: [(String, JSONValue)] = []
        var items: [JSONValue] = []

        func fail(_ message: String) -> JSONError { JSONError("\(message) at byte \(i)") }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        mutating func expect(_ literal: StaticString) throws(JSONError) {
            let n = literal.utf8CodeUnitCount
            guard i + n <= bytes.count else { throw fail("unexpected end") }
            let p = literal.utf8Start
            for k in 0..<n where bytes[i + k] != p[k] { throw fail("invalid literal") }
            i += n
        }

        mutating func value(depth: Int) throws(JSONError) -> JSONValue {
            guard depth < JSONParser.maxDepth else { throw fail("nesting deeper than \(JSONParser.maxDepth) levels") }
            guard i < bytes.count else { throw fail("unexpected end") }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object([:]) }
                // Members are collected first and the dictionary made once at its size: growing it
                // member by member rehashed it several times per document.
                let base = members.count
                defer { members.removeSubrange(base...) }
                while true {
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
                    let key = try string()
                    skipSpace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                    i += 1
                    skipSpace()
                    let member = try value(depth: depth + 1)
                    members.append((key, member))
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "}") {
                        let object = try object(members[base...])
                        i += 1
                        return .object(object)
                    }
                    throw fail("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                i += 1
                skipSpace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array([]) }
                let base = items.count
                defer { items.removeSubrange(base...) }
                while true {
                    skipSpace()
                    let item = try value(depth: depth + 1)
                    items.append(item)
                    skipSpace()
                    guard i < bytes.count else { throw fail("unexpected end") }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(Array(items[base...])) }
                    throw fail("expected ',' or ']'")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"):
                try expect("true")
                return .bool(true)
            case UInt8(ascii: "f"):
                try expect("false")
                return .bool(false)
            case UInt8(ascii: "n"):
                try expect("null")
                return .null
            default:
                return try number()
            }
        }

        /// An object's members as its dictionary. A key given twice is refused: JSON readers
        /// disagree on which value counts (first, last, or an error), so a document holding one
        /// can read as one thing to its reviewer and another to cxrun (RFC 7493 forbids it).
        func object(_ members: ArraySlice<(String, JSONValue)>) throws(JSONError) -> [String: JSONValue] {
            struct Repeated: Error {}
            do {
                return try Dictionary(members, uniquingKeysWith: { _, _ in throw Repeated() })
            } catch {
                // "é" and "e" + U+0301 are one key to a Swift dictionary: named as such.
                let repeated = RepeatedKey.first(in: members.lazy.map(\.0)) ?? RepeatedKey(key: "", otherBytes: false)
                throw fail("the key \(JSONValue.string(repeated.key).jsonString()) is given twice"
                           + (repeated.otherBytes ? " (in two Unicode normalizations)" : "") + " in the object that ends")
            }
        }

        mutating func number() throws(JSONError) -> JSONValue {
            let start = i
            var integral = true
            let negative = i < bytes.count && bytes[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            // Up to 18 digits cannot overflow: summed here, no String made (most numbers are small
            // integers). Anything else is read from its text below.
            var magnitude: Int64 = 0
            let digitsStart = i
            while i < bytes.count, Self.isDigit(bytes[i]), i - digitsStart < 18 {
                magnitude = magnitude * 10 + Int64(bytes[i] - 0x30)
                i += 1
            }
            if i > digitsStart, i == bytes.count || !(Self.isDigit(bytes[i]) || Self.isFractionOrExponent(bytes[i])) {
                // JSON has no leading zeros ("01"), but Int64("01") read them: kept as it was.
                return .int(negative ? -magnitude : magnitude)
            }
            while i < bytes.count {
                let c = bytes[i]
                if Self.isDigit(c) { i += 1; continue }
                if Self.isFractionOrExponent(c) {
                    integral = false
                    i += 1
                    continue
                }
                break
            }
            guard i > start else { throw fail("unexpected character") }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            if integral, let n = Int64(text) { return .int(n) }
            guard let d = Double(text), d.isFinite else { throw fail("invalid number '\(text)'") }
            return .double(d)
        }

        static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

        /// A byte of a number's fraction or exponent: such a number is read from its text.
        static func isFractionOrExponent(_ c: UInt8) -> Bool {
            c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-")
        }

        mutating func string() throws(JSONError) -> String {
            i += 1  // opening quote
            let start = i
            // Fast path: no escapes.
            var high: UInt8 = 0
            while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\") {
                guard bytes[i] >= 0x20 else { throw fail("control character in a string") }
                high |= bytes[i]
                i += 1
            }
            guard i < bytes.count else { throw fail("unterminated string") }
            var out = try text(UnsafeBufferPointer(rebasing: bytes[start..<i]), ascii: high < 0x80, at: start)
            if bytes[i] == UInt8(ascii: "\"") { i += 1; return out }
            var scalars: [UInt8] = []
            while i < bytes.count {
                let c = bytes[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    out += try scalars.withUnsafeBufferPointer { b throws(JSONError) in try text(b, ascii: false, at: start) }
                    return out
                }
                guard c == UInt8(ascii: "\\") else {
                    guard c >= 0x20 else { throw fail("control character in a string") }
                    scalars.append(c)
                    i += 1
                    continue
                }
                i += 1
                guard i < bytes.count else { break }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append(0x22)
                case UInt8(ascii: "\\"): scalars.append(0x5C)
                case UInt8(ascii: "/"): scalars.append(0x2F)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    // A surrogate pair is two escapes; a half of one alone is no character, and
                    // is refused rather than repaired (found by fuzzing: a high half followed by
                    // another escape overflowed the arithmetic).
                    if code >= 0xD800 && code < 0xDC00 {
                        guard i + 6 <= bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired surrogate escape")
                        }
                        i += 2
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw fail("unpaired surrogate escape") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw fail("unpaired surrogate escape") }
                    scalars.append(contentsOf: Array(String(scalar).utf8))
                default: throw fail("invalid escape")
                }
            }
            throw fail("unterminated string")
        }

        /// A string's bytes as text. Invalid UTF-8 is refused, not repaired: a document read with
        /// U+FFFD in place of bytes it held would be written back changed where nobody edited it.
        func text(_ utf8: UnsafeBufferPointer<UInt8>, ascii: Bool, at start: Int) throws(JSONError) -> String {
            if ascii { return String(decoding: utf8, as: UTF8.self) }
            guard let valid = String(validating: utf8, as: UTF8.self) else { throw JSONError("invalid UTF-8 in the string at byte \(start)") }
            return valid
        }

        mutating func hex4() throws(JSONError) -> UInt32 {
            guard i + 4 <= bytes.count else { throw fail("short \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[i]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw fail("invalid \\u escape")
                }
                v = v * 16 + d
                i += 1
            }
            return v
        }
    }

    /// Writes JSON with sorted keys; non-finite doubles are an error that names their path.
    static func write(_ value: JSONValue, into out: inout [UInt8], pretty: Bool, indent: Int = 0) throws(JSONError) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let n): writeInteger(n, into: &out)
        case .double(let d):
            guard d.isFinite else { throw JSONError("cannot encode \(d.isNaN ? "nan" : d > 0 ? "inf" : "-inf") as JSON") }
            if d == d.rounded(.towardZero) && abs(d) < 1e15 {
                writeInteger(Int64(d), into: &out)  // 2.0 is written 2, as JSONEncoder does
            } else {
                out.append(contentsOf: "\(d)".utf8)
            }
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(&out, pretty, indent + 1)
                // 1-based, as the script counts.
                do { try write(item, into: &out, pretty: pretty, indent: indent + 1) } catch { throw error.within("[\(n + 1)]") }
            }
            if !items.isEmpty { newline(&out, pretty, indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            // Sorted as pairs (sorting the keys and then looking each one up hashed every key
            // again), in a buffer on the stack: an array per object was a third of writing one.
            try withUnsafeTemporaryAllocation(of: (key: String, value: JSONValue).self, capacity: fields.count) { (buffer) throws(JSONError) in
                var pairs = buffer
                _ = pairs.initialize(from: fields)
                defer { pairs.deinitialize() }
                pairs.sort { $0.key < $1.key }
                for n in pairs.indices {
                    if n > 0 { out.append(UInt8(ascii: ",")) }
                    newline(&out, pretty, indent + 1)
                    writeString(pairs[n].key, into: &out)
                    if pretty { out.append(contentsOf: " : ".utf8) } else { out.append(UInt8(ascii: ":")) }
                    do throws(JSONError) { try write(pairs[n].value, into: &out, pretty: pretty, indent: indent + 1) } catch { throw error.within(pairs[n].key) }
                }
            }
            if !fields.isEmpty { newline(&out, pretty, indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// An integer's decimal digits (`String(n)` went through a generic description per number).
    private static func writeInteger(_ n: Int64, into out: inout [UInt8]) {
        if n < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = n.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var count = 0
            repeat {
                digits[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[(20 - count)...]))
        }
    }

    private static func newline(_ out: inout [UInt8], _ pretty: Bool, _ indent: Int) {
        guard pretty else { return }
        out.append(0x0A)
        out.append(contentsOf: [UInt8](repeating: 0x20, count: indent * 2))
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        // Most strings need no escape: copied whole, not byte by byte.
        let plain = s.withUTF8 { bytes in
            guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if plain {
            out.append(0x22)
            return
        }
        for b in s.utf8 {
            switch b {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20: out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: out.append(b)
            }
        }
        out.append(0x22)
    }
}
