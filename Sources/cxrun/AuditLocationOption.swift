import ArgumentParser
import Foundation
import Runbook

/// `--audit-db`: where the audit log is, shared by every command that reads or writes it.
enum AuditLocationOption {
    static let help = ArgumentHelp(
        "The audit log: a SQLite file, or a team's postgresql://USER@HOST:PORT/DB (password from PGPASSWORD). "
            + "Default: CXRUN_AUDIT_URL, else [audit] url in cxrun.toml, else .cxrun/audit.sqlite.")

    /// The flag, the environment, the configuration file or the default; a bad one is a usage error.
    static func resolve(flag: String?, config: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let location: String
        do { location = try Configuration.auditLocation(flag: flag, configPath: config, environment: environment) } catch {
            throw CLIError.usage("configuration error: \(error.description)")
        }
        do { _ = try AuditLocation.parse(location, environment: environment) } catch { throw CLIError.usage(error.description) }
        return location
    }
}
