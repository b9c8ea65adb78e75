/// RFC 3339 times and dates read by hand: ISO8601DateFormatter loads ICU's time-zone and locale
/// data, 2 ms of the start-up of every run that pins the sandbox's clock (the tests, the bench).
/// The sandbox's clock and `cxrun audit runs --since` read times with it.
public enum RFC3339 {
    /// `2026-01-05T12:00:00Z`, with or without fractional seconds, `Z` or an offset (`+02:00`):
    /// seconds since 1970, or nil when it is not such a time.
    public static func time(_ text: String) -> Double? {
        var scanner = DigitScanner(Array(text.utf8))
        guard let (year, month, day) = scanner.date(), scanner.skip("T") || scanner.skip("t"), let hour = scanner.number(2), scanner.skip(":"),
            let minute = scanner.number(2), scanner.skip(":"), let second = scanner.number(2)
        else { return nil }
        var fraction = 0.0
        if scanner.skip(".") {
            let digits = scanner.digits()
            guard !digits.isEmpty else { return nil }
            fraction = Double("0." + digits) ?? 0
        }
        var offset = 0
        if !(scanner.skip("Z") || scanner.skip("z")) {
            let sign: Int
            if scanner.skip("+") { sign = 1 } else if scanner.skip("-") { sign = -1 } else { return nil }
            guard let hours = scanner.number(2), scanner.skip(":"), let minutes = scanner.number(2), hours <= 23, minutes <= 59 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        }
        guard scanner.atEnd, hour <= 23, minute <= 59, second <= 59 else { return nil }
        let seconds = CivilDate.daysSince1970(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Double(seconds) + fraction
    }

    /// `2026-01-05`: the start of that day in UTC, in seconds since 1970.
    public static func date(_ text: String) -> Double? {
        var scanner = DigitScanner(Array(text.utf8))
        guard let (year, month, day) = scanner.date(), scanner.atEnd else { return nil }
        return Double(CivilDate.daysSince1970(year, month, day) * 86_400)
    }

    private struct DigitScanner {
        let bytes: [UInt8]
        var at = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        var atEnd: Bool { at == bytes.count }

        mutating func skip(_ c: Unicode.Scalar) -> Bool {
            guard at < bytes.count, bytes[at] == UInt8(ascii: c) else { return false }
            at += 1
            return true
        }

        /// `YYYY-MM-DD`, a day that exists.
        mutating func date() -> (Int, Int, Int)? {
            guard let year = number(4), skip("-"), let month = number(2), skip("-"), let day = number(2),
                (1...12).contains(month), (1...CivilDate.days(inMonth: month, of: year)).contains(day)
            else { return nil }
            return (year, month, day)
        }

        /// Exactly `count` digits.
        mutating func number(_ count: Int) -> Int? {
            guard at + count <= bytes.count else { return nil }
            var value = 0
            for b in bytes[at..<at + count] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) else { return nil }
                value = value * 10 + Int(b - UInt8(ascii: "0"))
            }
            at += count
            return value
        }

        /// The digits from here on (a fraction's).
        mutating func digits() -> String {
            let start = at
            while at < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[at]) { at += 1 }
            return String(decoding: bytes[start..<at], as: UTF8.self)
        }
    }
}
