/// An absolute `http` or `https` URL split for a request: where to connect and what to ask for.
/// By hand, over the URL's UTF-8 bytes: Foundation's URL parsing, and then String's
/// Character-by-Character searching, each cost more than the rest of a request's client work.
struct RequestURL: Sendable {
    /// Where a connection goes; connections are pooled by it.
    struct Origin: Hashable, Sendable {
        var tls: Bool
        /// Without brackets for an IPv6 literal.
        var host: String
        var port: Int
    }

    var origin: Origin
    /// Path and query, as sent on the request line.
    var target: String
    /// The `Host` header's value.
    var hostHeader: String

    /// Parses `text`, or says why it cannot be requested.
    static func parse(_ text: String) throws(HTTPFailure) -> RequestURL {
        var contiguous = text  // withUTF8 may make the text contiguous: a copy of our own
        return try contiguous.withUTF8 { bytes in Result { () throws(HTTPFailure) in try parse(bytes, text: text) } }.get()
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, text: String) throws(HTTPFailure) -> RequestURL {
        func refuse(_ why: String) -> HTTPFailure { HTTPFailure(.badURL, "\(why): \(String(text.prefix(200)))") }
        func string(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
        // Visible ASCII only: anything else could end the request line or smuggle a header.
        guard bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else { throw refuse("the URL has characters a request line cannot carry") }
        let tls: Bool
        var i: Int
        if bytes.starts(with: "http://".utf8) {
            (tls, i) = (false, 7)
        } else if bytes.starts(with: "https://".utf8) {
            (tls, i) = (true, 8)
        } else {
            throw refuse("not an http or https URL")
        }
        let authorityStart = i
        while i < bytes.count, bytes[i] != UInt8(ascii: "/"), bytes[i] != UInt8(ascii: "?"), bytes[i] != UInt8(ascii: "#") { i += 1 }
        let authority = authorityStart..<i
        let end = bytes[i...].firstIndex(of: UInt8(ascii: "#")) ?? bytes.count
        let rest = i..<end
        guard !bytes[authority].contains(UInt8(ascii: "@")) else { throw refuse("a URL with credentials in it") }
        var host: Range<Int>
        var portText: Range<Int>?
        if bytes[authority].first == UInt8(ascii: "[") {
            guard let close = bytes[authority].firstIndex(of: UInt8(ascii: "]")) else { throw refuse("an unclosed IPv6 address") }
            host = authority.lowerBound + 1..<close
            if close + 1 < authority.upperBound {
                guard bytes[close + 1] == UInt8(ascii: ":") else { throw refuse("text after the IPv6 address") }
                portText = close + 2..<authority.upperBound
            }
        } else if let colon = bytes[authority].lastIndex(of: UInt8(ascii: ":")) {
            host = authority.lowerBound..<colon
            portText = colon + 1..<authority.upperBound
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw refuse("a URL without a host") }
        var port = tls ? 443 : 80
        if let portText, !portText.isEmpty {
            guard portText.count <= 5, bytes[portText].allSatisfy({ (0x30...0x39).contains($0) }) else { throw refuse("a bad port") }
            let number = bytes[portText].reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard (1...65_535).contains(number) else { throw refuse("a bad port") }
            port = number
        }
        let target = rest.isEmpty ? "/" : (bytes[rest.lowerBound] == UInt8(ascii: "?") ? "/" + string(rest) : string(rest))
        let hostText = string(host)
        let shownHost = bytes[host].contains(UInt8(ascii: ":")) ? "[\(hostText)]" : hostText
        let defaultPort = port == (tls ? 443 : 80)
        return RequestURL(origin: Origin(tls: tls, host: hostText, port: port), target: target,
                          hostHeader: defaultPort ? shownHost : "\(shownHost):\(port)")
    }
}
