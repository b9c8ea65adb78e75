import CXShared
import JSONCore

/// TOML's numbers, dates and times, checked whole (the parser hands over the run of characters).
/// Dates and times stay their TOML text: nothing in cxrun.toml needs them as times.
enum TOMLScalar {
    static func parse(_ text: ArraySlice<UInt8>) -> JSONValue? {
        let t = Array(text)
        if let v = integer(t) { return .int(v) }
        if let v = float(t) { return .double(v) }
        if isDateTime(t) { return .string(String(decoding: t, as: UTF8.self)) }
        return nil
    }

    // MARK: Integers

    static func integer(_ t: [UInt8]) -> Int64? {
        if t.count > 2 && t[0] == 0x30 {
            switch t[1] {
            case 0x78: return radix(t.dropFirst(2), 16)
            case 0x6F: return radix(t.dropFirst(2), 8)
            case 0x62: return radix(t.dropFirst(2), 2)
            default: break
            }
        }
        var digits = t[...]
        var negative = false
        if let s = digits.first, s == 0x2B || s == 0x2D {
            negative = s == 0x2D
            digits = digits.dropFirst()
        }
        guard let clean = underscored(digits, isDigit: isDecimal), !(clean.count > 1 && clean[0] == 0x30) else { return nil }
        var value: Int64 = 0
        for d in clean {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(Int64(d - 0x30)) : m.addingReportingOverflow(Int64(d - 0x30))
            guard !o1 && !o2 else { return nil }
            value = a
        }
        return value
    }

    private static func radix(_ t: ArraySlice<UInt8>, _ base: Int64) -> Int64? {
        guard let clean = underscored(t, isDigit: { c in TOMLParser.hexValue(c).map { Int64($0) < base } ?? false }) else { return nil }
        var value: Int64 = 0
        for d in clean {
            let (m, o1) = value.multipliedReportingOverflow(by: base)
            let (a, o2) = m.addingReportingOverflow(Int64(TOMLParser.hexValue(d)!))
            guard !o1 && !o2 else { return nil }
            value = a
        }
        return value
    }

    /// The digits with underscores removed, when each underscore sits between two digits.
    private static func underscored(_ t: ArraySlice<UInt8>, isDigit: (UInt8) -> Bool) -> [UInt8]? {
        guard let first = t.first, let last = t.last, isDigit(first), isDigit(last) else { return nil }
        var out: [UInt8] = []
        var previousUnderscore = false
        for c in t {
            if c == 0x5F {
                guard !previousUnderscore else { return nil }
                previousUnderscore = true
                continue
            }
            guard isDigit(c) else { return nil }
            previousUnderscore = false
            out.append(c)
        }
        return out
    }

    private static func isDecimal(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    // MARK: Floats

    static func float(_ t: [UInt8]) -> Double? {
        var body = t[...]
        var sign = ""
        if let s = body.first, s == 0x2B || s == 0x2D {
            sign = s == 0x2D ? "-" : ""
            body = body.dropFirst()
        }
        if Array(body) == Array("inf".utf8) { return sign == "-" ? -.infinity : .infinity }
        if Array(body) == Array("nan".utf8) { return .nan }
        let exponentAt = body.firstIndex { $0 == 0x65 || $0 == 0x45 }
        let mantissa = body[..<(exponentAt ?? body.endIndex)]
        let dot = mantissa.firstIndex(of: 0x2E)
        guard dot != nil || exponentAt != nil else { return nil }
        guard let whole = underscored(mantissa[..<(dot ?? mantissa.endIndex)], isDigit: isDecimal),
              !(whole.count > 1 && whole[0] == 0x30) else { return nil }
        var text = sign + String(decoding: whole, as: UTF8.self)
        if let dot {
            guard let fraction = underscored(mantissa[(dot + 1)...], isDigit: isDecimal) else { return nil }
            text += "." + String(decoding: fraction, as: UTF8.self)
        }
        if let exponentAt {
            var exponent = body[(exponentAt + 1)...]
            var expSign = ""
            if let s = exponent.first, s == 0x2B || s == 0x2D {
                expSign = s == 0x2D ? "-" : ""
                exponent = exponent.dropFirst()
            }
            guard let digits = underscored(exponent, isDigit: isDecimal) else { return nil }
            text += "e" + expSign + String(decoding: digits, as: UTF8.self)
        }
        return Double(text)
    }

    // MARK: Dates and times

    /// `YYYY-MM-DD` with a real day of that month (the reader `--since` and the sandbox clock use).
    static func isDate(_ t: ArraySlice<UInt8>) -> Bool { RFC3339.date(String(decoding: t, as: UTF8.self)) != nil }

    /// `HH:MM:SS` with an optional fraction.
    static func isTime(_ t: ArraySlice<UInt8>) -> Bool {
        let d = Array(t)
        guard d.count >= 8, d[2] == 0x3A, d[5] == 0x3A, let h = number(d[0..<2]), let m = number(d[3..<5]), let s = number(d[6..<8]),
              h <= 23, m <= 59, s <= 60 else { return false }
        if d.count == 8 { return true }
        return d[8] == 0x2E && d.count > 9 && d[9...].allSatisfy(isDecimal)
    }

    /// A local date, a local time, or a date and time with an optional offset.
    static func isDateTime(_ t: [UInt8]) -> Bool {
        if t.count >= 8 && t[2] == 0x3A { return isTime(t[...]) }
        guard t.count >= 10, isDate(t[0..<10]) else { return false }
        if t.count == 10 { return true }
        guard t.count >= 19, [0x54, 0x74, 0x20].contains(t[10]) else { return false }
        var rest = t[11...]
        if let last = rest.last, last == 0x5A || last == 0x7A {
            rest = rest.dropLast()
        } else if rest.count >= 14, let sign = rest.dropLast(5).last, sign == 0x2B || sign == 0x2D {
            let offset = Array(rest.suffix(5))
            guard offset[2] == 0x3A, let oh = number(offset[0..<2]), let om = number(offset[3..<5]), oh <= 23, om <= 59 else { return false }
            rest = rest.dropLast(6)
        }
        return isTime(rest)
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.allSatisfy(isDecimal) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }
}
