import ArgumentParser
import Foundation
import Runbook
import SandboxTenant
import Synchronization

/// The tenant a command talks to: from cxrun.toml and the environment, or — with no
/// configuration — the sandbox tenant started in-process on a loopback port.
struct TenantSetup {
    var tenant: ResolvedTenant
    /// The in-process sandbox tenant, once a request has started it.
    var sandbox: LazySandbox?
    /// The audit log (file path or postgresql:// URL).
    var auditPath = ".cxrun/audit.sqlite"
    /// How long a write waits for another run's lock (`--lock-timeout`).
    var lockTimeout = RunbookRequest.defaultLockTimeout
    /// The process environment, read once for the configuration and handed on to the run.
    var environment: [String: String]
    /// Seconds the in-process sandbox tenant's pinned clock (CXRUN_SANDBOX_CLOCK) is ahead of this
    /// machine's: the script's os.time() and os.date() read the tenant's, as under `cxrun test`.
    var clockOffset: Double = 0

    static func resolve(
        config: String?, tenant name: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> TenantSetup {
        var tenant: ResolvedTenant
        do {
            tenant = try Configuration.resolve(configPath: config, tenant: name, environment: environment)
        } catch {
            throw CLIError.usage("configuration error: \(error.description)")
        }
        guard tenant.isSandbox else { return TenantSetup(tenant: tenant, sandbox: nil, environment: environment) }
        var configuration = SandboxConfiguration(databasePath: ".cxrun/sandbox.sqlite")
        var secret = ""
        for _ in 0..<4 { secret += String(UInt64.random(in: 0...UInt64.max), radix: 16) }
        configuration.webhookSecrets = ["wfm": secret]
        if let text = environment["CXRUN_SANDBOX_CLOCK"], !text.isEmpty {
            guard let clock = SimClock.parse(text) else {
                throw CLIError.usage("CXRUN_SANDBOX_CLOCK '\(text)' is not an ISO 8601 time such as 2026-01-05T03:00:00Z")
            }
            configuration.clock = clock
        }
        // The tenant pins its clock when it starts (at the first call that needs it), a few
        // milliseconds from now: the script's clock is that close to the tenant's.
        let clockOffset = configuration.clock.map { $0.timeIntervalSince1970 - Date().timeIntervalSince1970 } ?? 0
        // Started by the first request that needs it: a run that makes no call never opens it.
        let sandbox = LazySandbox(configuration)
        tenant.attachSandbox(starting: sandbox.start, clientID: SimClient.demo.id, clientSecret: SimClient.demo.secret, webhookSecret: secret)
        // The path joined as URL's standardized file path spells it (the path has no `.` or `..`),
        // without URL: its machinery was 2% of an empty run's start.
        tenant.identity = "sandbox:" + (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(configuration.databasePath)
        return TenantSetup(tenant: tenant, sandbox: sandbox, environment: environment, clockOffset: clockOffset)
    }

    func stop() async {
        await sandbox?.stop()
    }

    /// Runs `request` against this tenant, then stops the tenant and releases the stop signals
    /// whatever happened; a run that cannot start is a usage error (exit 2).
    func run(_ request: RunbookRequest) async throws -> RunbookResult {
        let result: RunbookResult
        var request = request
        request.lockTimeout = lockTimeout
        request.clockOffset = clockOffset
        if request.environment == nil { request.environment = environment }
        do {
            result = try await RunbookSession.run(request)
        } catch {
            await stop()
            Interrupts.uninstall()
            Console.err("cxrun: \(error)\n")
            throw ExitCode(2)
        }
        await stop()
        Interrupts.uninstall()
        return result
    }
}

/// `--tenant` and `--config`, shared by the commands that talk to a tenant.
struct TenantOptions: ParsableArguments {
    @Option(help: "Tenant from cxrun.toml (default: CXRUN_TENANT, the configured default, else the sandbox tenant).")
    var tenant: String?

    @Option(help: "Configuration file (default: ./cxrun.toml, then ~/.config/cxrun/cxrun.toml).")
    var config: String?

    @Option(name: .customLong("audit-db"), help: AuditLocationOption.help)
    var auditDB: String?

    @Option(name: .customLong("lock-timeout"), parsing: .unconditional,
            help: "Seconds a write waits while another run holds the lock on its queue or agent, before that write fails naming the holder (default: 30).")
    var lockTimeout: Double?  // TenantSetup's default when absent (see RunCommand's limits for why)

    /// The tenant these options name, started when it is the sandbox, and the audit log; a bad
    /// configuration exits 2.
    func resolve() async throws -> TenantSetup {
        do {
            if let lockTimeout, !(lockTimeout >= 0 && lockTimeout.isFinite) { throw CLIError.usage("--lock-timeout must be a finite number of seconds, 0 or more") }
            // One copy of the environment for the audit location, the configuration and the run
            // (ProcessInfo builds it anew at every use).
            let environment = ProcessInfo.processInfo.environment
            let auditPath = try AuditLocationOption.resolve(flag: auditDB, config: config, environment: environment)
            var setup = try await TenantSetup.resolve(config: config, tenant: tenant, environment: environment)
            setup.auditPath = auditPath
            if let lockTimeout { setup.lockTimeout = lockTimeout }
            return setup
        } catch {
            Console.err("cxrun: \(error)\n")
            throw ExitCode(2)
        }
    }
}

/// Errors the CLI reports with exit code 2.
enum CLIError: Error, CustomStringConvertible {
    case usage(String)

    var description: String {
        switch self {
        case .usage(let m): return m
        }
    }
}

/// The in-process sandbox tenant, started by the first request that needs it (at most once:
/// the tenant's endpoint calls `start` once) and stopped at the end if it was.
final class LazySandbox: Sendable {
    private let configuration: SandboxConfiguration
    private let server = Mutex<SandboxServer?>(nil)

    init(_ configuration: SandboxConfiguration) { self.configuration = configuration }

    @Sendable func start() async throws -> String {
        let started = try await SandboxServer.start(configuration)
        server.withLock { $0 = started }
        return started.baseURL
    }

    func stop() async {
        await server.withLock { $0 }?.stop()
    }
}
