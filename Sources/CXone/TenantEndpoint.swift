/// Where a tenant's API is and how to authenticate against it.
public struct TenantEndpoint: Sendable {
    public var baseURL: String
    public var tokenURL: String
    public var clientID: String
    public var clientSecret: String
    public var scopes: [String]
    /// Client-side requests per second (0 = unpaced).
    public var rateLimit: Double
    /// With `rateLimit` 0: learn the tenant's limit from its 429s (false: stay unpaced).
    public var learnsRateLimit = true
    /// Seconds one request may take.
    public var requestTimeout: Double = 30
    public var retry = RetryPolicy()
    /// A server started on first use (the built-in sandbox tenant): URLs that start with `/`
    /// (an empty `baseURL` makes every API and token URL one) are relative to its base URL.
    public var lateBase: LateBaseURL?

    /// `url` made absolute: a relative one against the late base, starting its server if needed.
    public func resolve(_ url: String) async throws(APIError) -> String {
        guard let lateBase, url.hasPrefix("/") else { return url }
        return try await lateBase.url() + url
    }

    public init(baseURL: String, tokenURL: String? = nil, clientID: String, clientSecret: String, scopes: [String] = [], rateLimit: Double = 0) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.tokenURL = tokenURL ?? self.baseURL + "/oauth/token"
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.scopes = scopes
        self.rateLimit = rateLimit
    }
}

extension TenantEndpoint {
    /// The host of `url` when it is plain `http` to a host other than this machine, where a client
    /// secret, tokens and every document would cross a network unencrypted; nil for `https`, a
    /// loopback host, or a URL that cannot be requested (that fails on its own, naming it).
    public static func cleartextRemoteHost(_ url: String) -> String? {
        guard let parsed = try? RequestURL.parse(url), !parsed.origin.tls else { return nil }
        let host = parsed.origin.host.lowercased()
        if host == "localhost" || host.hasSuffix(".localhost") || host == "::1" { return nil }
        // 127.0.0.0/8, written as a dotted IPv4 literal.
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        if octets.count == 4, octets.first == "127", octets.allSatisfy({ UInt8($0) != nil }) { return nil }
        return parsed.origin.host
    }
}
