import Foundation

/// How a sandbox tenant is started.
public struct SandboxConfiguration: Sendable {
    /// Loopback address to listen on.
    public var host = "127.0.0.1"
    /// Port; 0 picks a free one (read it back from the running server).
    public var port = 0
    /// SQLite file holding the tenant's state (created and seeded when new).
    public var databasePath: String
    /// Seed of the demo data and of the fault draws.
    public var seed: UInt64 = 1
    /// Queues in the seeded demo data (48 by default; benchmarks ask for more).
    public var queueCount = 48
    /// Agents (users) seeded into an empty tenant.
    public var agentCount = 480
    /// Requests per second per client; 0 = unlimited.
    public var rateLimit: Double = 100
    /// Lifetime of issued tokens, in seconds.
    public var tokenTTL: Double = 3600
    public var faults = Faults()
    /// Status changes the tenant takes at once (seed 004's concurrent status-change limit): one
    /// more while these are in flight is a 409.
    public var statusChangeLimit = 8
    /// Where the tenant's clock starts (traffic and shifts follow it); nil = the real clock.
    public var clock: Date?
    public var clients: [SimClient] = [.demo]
    /// Webhook sink names and the secret each verifies signatures with.
    public var webhookSecrets: [String: String] = ["wfm": "cxrun-sandbox-wfm-secret"]

    public init(databasePath: String) { self.databasePath = databasePath }
}
