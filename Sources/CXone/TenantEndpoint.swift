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

    public init(baseURL: String, tokenURL: String? = nil, clientID: String, clientSecret: String, scopes: [String] = [], rateLimit: Double = 0) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.tokenURL = tokenURL ?? self.baseURL + "/oauth/token"
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.scopes = scopes
        self.rateLimit = rateLimit
    }
}
