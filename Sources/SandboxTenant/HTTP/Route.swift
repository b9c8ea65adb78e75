import HTTPTypes

/// One endpoint of the tenant: method, path pattern (`{name}` segments capture), who may call it.
struct Route: Sendable {
    enum Access: Sendable {
        /// Public API: a bearer token holding one of these scopes; rate limited; faults apply.
        case api(anyOf: Set<String>)
        /// The OAuth token endpoint: client credentials; faults apply.
        case token
        /// Control plane and documents: no auth, no faults, no rate limit.
        case control
    }

    let method: HTTPRequest.Method
    let pattern: String
    let access: Access
    let handler: @Sendable (APIRequest) async throws(APIFailure) -> APIResponse
    /// The pattern's segments: a literal, or a parameter's name (`{id}`).
    private let segments: [Segment]

    private enum Segment: Sendable {
        case literal(String)
        case parameter(String)
    }

    init(method: HTTPRequest.Method, pattern: String, access: Access, handler: @escaping @Sendable (APIRequest) async throws(APIFailure) -> APIResponse) {
        (self.method, self.pattern, self.access, self.handler) = (method, pattern, access, handler)
        segments = pattern.pieces(separatedBy: UInt8(ascii: "/")).map { s in
            s.hasPrefix("{") && s.hasSuffix("}") ? .parameter(String(s.dropFirst().dropLast())) : .literal(s)
        }
    }

    /// The captured parameters when the path's segments (split once per request, matched
    /// against every route) match the pattern.
    func match(_ path: [String]) -> [String: String]? {
        guard path.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (p, s) in zip(segments, path) {
            switch p {
            // Foundation's decoding only where there is something to decode (most ids have nothing).
            case .parameter(let name): parameters[name] = s.utf8.contains(UInt8(ascii: "%")) ? (s.removingPercentEncoding ?? s) : s
            case .literal(let text): if text != s { return nil }
            }
        }
        return parameters
    }
}
