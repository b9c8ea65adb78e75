/// An absolute `http` or `https` URL split for a request: where to connect and what to ask for.
/// By hand: Foundation's URL parsing cost more than the rest of a request's client work here.
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
        func refuse(_ why: String) -> HTTPFailure { HTTPFailure(.badURL, "\(why): \(String(text.prefix(200)))") }
        // Visible ASCII only: anything else could end the request line or smuggle a header.
        guard text.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else { throw refuse("the URL has characters a request line cannot carry") }
        let tls: Bool
        var rest: Substring
        if text.hasPrefix("http://") {
            tls = false
            rest = text.dropFirst(7)
        } else if text.hasPrefix("https://") {
            tls = true
            rest = text.dropFirst(8)
        } else {
            throw refuse("not an http or https URL")
        }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }
        guard !authority.contains("@") else { throw refuse("a URL with credentials in it") }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw refuse("an unclosed IPv6 address") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw refuse("text after the IPv6 address") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw refuse("a URL without a host") }
        var port = tls ? 443 : 80
        if let portText, !portText.isEmpty {
            guard portText.count <= 5, let number = Int(portText), (1...65_535).contains(number) else { throw refuse("a bad port") }
            port = number
        }
        let target = rest.isEmpty ? "/" : (rest.hasPrefix("?") ? "/" + rest : String(rest))
        let shownHost = host.contains(":") ? "[\(host)]" : String(host)
        let defaultPort = port == (tls ? 443 : 80)
        return RequestURL(origin: Origin(tls: tls, host: String(host), port: port), target: target,
                          hostHeader: defaultPort ? shownHost : "\(shownHost):\(port)")
    }
}
