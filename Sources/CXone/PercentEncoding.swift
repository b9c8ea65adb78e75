/// RFC 3986 percent-encoding of UTF-8 text. By hand: Foundation's `addingPercentEncoding` builds
/// a character set on every call (a measurable share of a request's CPU) and keeps non-ASCII
/// letters unencoded, which a URL must not carry.
enum PercentEncoding {
    /// `text` with every byte outside the unreserved set (ALPHA, DIGIT, `-._~`) and `keeping` encoded.
    static func encode(_ text: String, keeping: StaticString = "") -> String {
        let extra = UnsafeBufferPointer(start: keeping.utf8Start, count: keeping.utf8CodeUnitCount)
        func kept(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                return true
            default:
                return extra.contains(byte)
            }
        }
        if text.utf8.allSatisfy(kept) { return text }
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3)
        for byte in text.utf8 {
            if kept(byte) {
                out.append(byte)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
