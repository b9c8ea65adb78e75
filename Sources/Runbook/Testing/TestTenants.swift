/// A fresh sandbox tenant for one runbook test. Runbook cannot start one itself (the sandbox
/// tenant stands alone); the CLI provides them through `TestTenants`.
public struct TestTenant: Sendable {
    public var baseURL: String
    public var clientID: String
    public var clientSecret: String
    /// The secret the tenant's `wfm` webhook sink verifies.
    public var webhookSecret: String
    /// Stops the tenant and removes its state.
    public var stop: @Sendable () async -> Void

    public init(baseURL: String, clientID: String, clientSecret: String, webhookSecret: String, stop: @escaping @Sendable () async -> Void) {
        self.baseURL = baseURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.webhookSecret = webhookSecret
        self.stop = stop
    }
}

/// Starts isolated, seeded sandbox tenants with their clock pinned.
public protocol TestTenants: Sendable {
    func start() async throws -> TestTenant
}
