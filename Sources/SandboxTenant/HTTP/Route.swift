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

    private var segments: [Substring] { pattern.split(separator: "/") }

    /// The captured parameters when `path` matches the pattern.
    func match(_ path: String) -> [String: String]? {
        let pathSegments = path.split(separator: "/")
        let patternSegments = segments
        guard pathSegments.count == patternSegments.count else { return nil }
        var parameters: [String: String] = [:]
        for (p, s) in zip(patternSegments, pathSegments) {
            if p.hasPrefix("{") && p.hasSuffix("}") {
                parameters[String(p.dropFirst().dropLast())] = String(s).removingPercentEncoding ?? String(s)
            } else if p != s {
                return nil
            }
        }
        return parameters
    }
}
