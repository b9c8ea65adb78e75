/// An OAuth client the sandbox tenant accepts.
public struct SimClient: Sendable, Equatable {
    public var id: String
    public var secret: String
    /// Scopes this client may be granted.
    public var scopes: Set<String>

    public init(id: String, secret: String, scopes: Set<String> = SimClient.allScopes) {
        self.id = id
        self.secret = secret
        self.scopes = scopes
    }

    /// Every scope the tenant knows, in both the `view/update` and `read/write` spellings.
    public static let allScopes: Set<String> = [
        "routing:queue:view", "routing:queue:read", "routing:queue:update", "routing:queue:write",
        "routing:skill:view", "routing:skill:read", "routing:overflow:view",
        "users:read", "users:view", "users:write", "user:read",
        "user:status:read", "user:status:write", "user:status:update",
        "analytics:queue:view", "analytics:queue:read",
    ]

    /// The client `cxrun sim` accepts when none is configured.
    public static let demo = SimClient(id: "cxrun-demo", secret: "cxrun-demo-secret")

    /// Parses `ID:SECRET[:scope,scope...]`.
    public static func parse(_ spec: String) -> SimClient? {
        let parts = spec.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        // Scopes contain colons themselves, so they are comma-separated after the second colon.
        if parts.count == 3 {
            let scopes = Set(parts[2].split(separator: ",").map(String.init))
            return scopes.isEmpty ? nil : SimClient(id: parts[0], secret: parts[1], scopes: scopes)
        }
        return SimClient(id: parts[0], secret: parts[1])
    }
}
