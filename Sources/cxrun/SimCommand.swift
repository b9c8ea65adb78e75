import ArgumentParser
import Foundation
import SandboxTenant

/// `cxrun sim`: serves the sandbox tenant over HTTP on loopback until interrupted.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Serve the sandbox tenant: a local emulation of the contact-center API.",
        discussion: """
            State lives in SQLite and survives restarts; the same --seed gives the same demo data \
            and the same sequence of injected faults. Control endpoints live under /_sim/ \
            (faults, reset, another admin's edit, the webhook sink, the request log); the API is \
            described at /openapi.yaml.

            Example:
              cxrun sim --port 8080 --fault status429=0.2,latencyMs=30
              curl -s -u cxrun-demo:cxrun-demo-secret -d grant_type=client_credentials \\
                   http://127.0.0.1:8080/oauth/token
            """
    )

    @Option(parsing: .unconditional, help: "Port to listen on (0 picks a free one).")
    var port: Int = 8080

    @Option(help: "Loopback address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "SQLite file with the tenant's state.")
    var db: String = ".cxrun/sandbox.sqlite"

    @Option(parsing: .unconditional, help: "Seed of the demo data and of injected faults.")
    var seed: UInt64 = 1

    @Option(parsing: .unconditional, help: "Queues to seed into an empty state file (an existing one keeps its data).")
    var queues: Int = 48

    @Option(parsing: .unconditional, help: "Agents to seed into an empty state file.")
    var agents: Int = 480

    @Option(name: .customLong("rate-limit"), parsing: .unconditional, help: "Requests per second per client (0 = unlimited).")
    var rateLimit: Double = 100

    @Option(name: .customLong("token-ttl"), parsing: .unconditional, help: "Lifetime of issued tokens, in seconds.")
    var tokenTTL: Double = 3600

    @Option(help: "Faults to inject: KEY=VALUE,... with status429, status500, status503, reset, concurrentEdit, webhook500 (probabilities); latencyMs, jitterMs, writeLatencyMs (API writes only), statusChangeHoldMs (milliseconds); holdWrites (the next N API writes wait until PUT /_sim/faults).")
    var fault: String?

    @Option(help: "Pin the tenant's clock (traffic and shifts follow it) at an ISO 8601 time, e.g. 2026-01-05T03:00:00Z; it advances from there. Default: the real clock.")
    var clock: String?

    @Option(name: .customLong("webhook"), help: "A webhook sink to serve at /_sim/webhooks/NAME, verifying signatures with SECRET: NAME:SECRET (repeatable; default: wfm with a fixed demo secret). Use the secret your cxrun.toml's secret_env holds.")
    var webhooks: [String] = []

    @Option(name: .customLong("client"), help: "A client to accept: ID:SECRET[:scope,scope...] (repeatable; default: the demo client).")
    var clients: [String] = []

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0-65535") }
        guard host == "localhost" || host.hasPrefix("127.") || host == "::1" else {
            throw ValidationError("--host must be a loopback address (127.x.x.x, ::1 or localhost): the sandbox tenant is local only")
        }
        guard (1...100_000).contains(queues) else { throw ValidationError("--queues must be between 1 and 100000") }
        guard (1...1_000_000).contains(agents) else { throw ValidationError("--agents must be between 1 and 1000000") }
        guard rateLimit >= 0 else { throw ValidationError("--rate-limit must be 0 or more") }
        guard tokenTTL >= 1 else { throw ValidationError("--token-ttl must be at least 1 second") }
        if let fault, case .failure(let error) = Faults.parse(fault) { throw ValidationError("--fault: \(error.description)") }
        if let clock, SimClock.parse(clock) == nil {
            throw ValidationError("--clock '\(clock)' is not an ISO 8601 time such as 2026-01-05T03:00:00Z")
        }
        for spec in webhooks where Self.webhook(spec) == nil {
            throw ValidationError("--webhook '\(spec)' is not NAME:SECRET (a name of letters, digits, - or _, and a secret)")
        }
        for spec in clients where SimClient.parse(spec) == nil {
            throw ValidationError("--client '\(spec)' is not ID:SECRET[:scope,scope...]")
        }
    }

    func run() async throws {
        var configuration = SandboxConfiguration(databasePath: db)
        configuration.host = host
        configuration.port = port
        configuration.seed = seed
        configuration.rateLimit = rateLimit
        configuration.queueCount = queues
        configuration.agentCount = agents
        configuration.tokenTTL = tokenTTL
        if let fault, case .success(let faults) = Faults.parse(fault) { configuration.faults = faults }
        configuration.clock = clock.flatMap(SimClock.parse)
        if !clients.isEmpty { configuration.clients = clients.compactMap(SimClient.parse) }
        if !webhooks.isEmpty { configuration.webhookSecrets = Dictionary(webhooks.compactMap(Self.webhook), uniquingKeysWith: { _, last in last }) }
        let shown = configuration
        let server: SandboxServer
        do { server = try await SandboxServer.start(shown, handleSignals: true) } catch {
            // The state file of another kind, a port taken, a folder not writable: said as cxrun says errors.
            Console.err("cxrun: cannot start the sandbox tenant: \(error)\n")
            throw ExitCode(2)
        }
        var text = "cxrun sandbox tenant listening on \(server.baseURL)\n"
        text += "  state:   \(shown.databasePath) (seed \(shown.seed))\n"
        if let clock = shown.clock { text += "  clock:   pinned at \(ISO8601DateFormatter().string(from: clock))\n" }
        for client in shown.clients { text += "  client:  \(client.id) / \(client.secret)\n" }
        for name in shown.webhookSecrets.keys.sorted() { text += "  webhook: \(server.baseURL)/_sim/webhooks/\(name) (verifies X-Cxrun-Signature)\n" }
        text += "  token:   POST \(server.baseURL)/oauth/token (client credentials)\n"
        text += "  api:     \(server.baseURL)/openapi.yaml\n"
        text += "Press Ctrl-C to stop.\n"
        Console.out(text)
        try await server.wait()
        Console.err("cxrun: sandbox tenant stopped\n")
    }

    /// `NAME:SECRET` (the secret may itself contain colons).
    static func webhook(_ spec: String) -> (String, String)? {
        guard let colon = spec.firstIndex(of: ":") else { return nil }
        let name = String(spec[..<colon]), secret = String(spec[spec.index(after: colon)...])
        guard !name.isEmpty, !secret.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { return nil }
        return (name, secret)
    }
}
