import Foundation

/// Why the audit store cannot be opened or written, with where it is.
public struct AuditStoreError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Where the audit log lives: a SQLite file (the default, `.cxrun/audit.sqlite`) or a team's
/// PostgreSQL, named by a `postgresql://user@host:port/db` URL (`--audit-db`, `CXRUN_AUDIT_URL`
/// or `[audit] url`). The password never comes from the URL: `PGPASSWORD`, or the variable the
/// URL's `password_env` parameter names (what `[audit] password_env` becomes).
public enum AuditLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(Postgres)

    public struct Postgres: Sendable, Equatable {
        public enum TLS: String, Sendable { case disable, prefer, require }
        public var host: String
        public var port: Int
        public var user: String
        public var database: String
        public var tls: TLS
        var password: String?
        /// The URL as given, for messages (it never holds a password).
        public var display: String
        /// Which database this is, whoever connects: a plan made with it must be applied in it.
        public var identity: String { "postgresql://\(host):\(port)/\(database)" }
    }

    /// Whether `text` names a PostgreSQL database rather than a file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgresql://") || text.hasPrefix("postgres://")
    }

    /// Parses a path or URL; a URL's password comes from `environment`.
    public static func parse(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(AuditStoreError) -> AuditLocation {
        guard isURL(text) else {
            // Another scheme is a mistyped team store, not a file name: taken as a path, a
            // directory 'mysql:' got a local log and the team's history missed the run.
            if let scheme = text.range(of: "://").map({ text[..<$0.lowerBound] }), !scheme.isEmpty,
                scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) })
            {
                throw AuditStoreError("'\(text)' is not an audit log: a team's is PostgreSQL (postgresql://USER@HOST:PORT/DB), "
                                      + "else give a SQLite file's path")
            }
            return .sqlite(path: text)
        }
        guard let parts = URLComponents(string: text), let host = parts.host, !host.isEmpty else {
            throw AuditStoreError("'\(text)' is not a PostgreSQL URL such as postgresql://cxrun@db.example.com:5432/cxrun")
        }
        guard parts.password == nil else {
            throw AuditStoreError("the audit URL must not hold a password (it would show in process lists and files): set PGPASSWORD, "
                                  + "or name a variable with [audit] password_env")
        }
        let query = Dictionary((parts.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        for key in query.keys where !["sslmode", "password_env"].contains(key) {
            throw AuditStoreError("unknown parameter '\(key)' in the audit URL (known: sslmode, password_env)")
        }
        let tls: Postgres.TLS
        switch query["sslmode"] ?? "prefer" {
        case "disable": tls = .disable
        case "allow", "prefer": tls = .prefer
        case "require", "verify-ca", "verify-full": tls = .require
        case let other: throw AuditStoreError("sslmode '\(other)' in the audit URL is not one of disable, prefer, require")
        }
        var password = environment["PGPASSWORD"]
        if let variable = query["password_env"] {
            guard let value = environment[variable], !value.isEmpty else {
                throw AuditStoreError("the audit database's password is to come from $\(variable), which is not set")
            }
            password = value
        }
        let database = String(parts.path.drop(while: { $0 == "/" }))
        let user = parts.user ?? environment["PGUSER"] ?? environment["USER"] ?? "postgres"
        return .postgres(Postgres(host: host, port: parts.port ?? 5432, user: user, database: database.isEmpty ? user : database, tls: tls,
                                  password: password, display: text))
    }
}
