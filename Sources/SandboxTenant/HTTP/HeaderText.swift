/// Header values read over their bytes: Foundation's `trimmingCharacters` and `lowercased` on
/// every request's `Authorization` and `If-Match` were a tenth of the tenant's CPU per request.
extension Substring {
    /// Without the spaces and tabs HTTP allows around a header value.
    var withoutOptionalWhitespace: Substring {
        let bytes = utf8
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, Self.isOptionalWhitespace(bytes[start]) { start = bytes.index(after: start) }
        while start < end {
            let last = bytes.index(before: end)
            guard Self.isOptionalWhitespace(bytes[last]) else { break }
            end = last
        }
        return Substring(bytes[start..<end])
    }

    /// The rest after `prefix` (ASCII, any case), or nil when it does not start with it.
    func afterPrefix(ignoringCase prefix: String) -> Substring? {
        var index = utf8.startIndex
        for expected in prefix.utf8 {
            guard index < utf8.endIndex, Self.lowercasedASCII(utf8[index]) == Self.lowercasedASCII(expected) else { return nil }
            index = utf8.index(after: index)
        }
        return Substring(utf8[index...])
    }

    private static func isOptionalWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    private static func lowercasedASCII(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
}
