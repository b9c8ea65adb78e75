import CXShared
import CXone
import Foundation
import JSONCore

/// A configuration problem: which file, which key, what is wrong (exit code 2).
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    public var key: String?
    public var message: String

    /// The error as printed: what it quotes of the file (a key, a value) is cut short and its
    /// control characters shown as escapes, so a runaway or hostile file cannot flood the terminal.
    public var description: String {
        var place = file ?? "configuration"
        if let key { place += ": \(Self.quoted(key))" }
        return "\(place): \(Self.quoted(message))"
    }

    static func quoted(_ text: String, limit: Int = 300) -> String {
        let cut = text.unicodeScalars.count > limit ? String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit))) + "…" : text
        return TerminalText.escaped(cut)
    }
}

/// Limits the validators hold payloads to, per tenant (defaults from the seeds).
public struct TenantLimits: Sendable, Equatable {
    public var maxWaiters: Int64 = 100
    public var maxSkillRequirements: Int64 = 10
    public var maxSkills: Int64 = 100
    public var maxHoldSeconds: Int64 = 300
    public var maxOverflowDepth: Int64 = 3
    public var maxPriorityLevel: Int64 = 10
    /// The tenant's pause reasons; nil: the defaults of stdlib/cx/rules.lua.
    public var pauseReasons: [String]?

    public init() {}

    /// The integer limits by their name in cxrun.toml and in Lua: one list for reading the file,
    /// refusing unknown keys, and the validators' view.
    static var integers: [(key: String, path: WritableKeyPath<TenantLimits, Int64>)] {
        [("max_waiters", \.maxWaiters), ("max_skill_requirements", \.maxSkillRequirements), ("max_skills", \.maxSkills),
         ("max_hold_seconds", \.maxHoldSeconds), ("max_overflow_depth", \.maxOverflowDepth), ("max_priority_level", \.maxPriorityLevel)]
    }

    /// Every key a `[tenants.NAME.limits]` table may hold.
    static var keys: [String] { integers.map(\.key) + ["pause_reasons"] }

    /// As the Lua validators read them (`cx.tenant.limits`).
    public var json: JSONValue {
        var fields: [String: JSONValue] = [:]
        for (key, path) in Self.integers { fields[key] = .int(self[keyPath: path]) }
        if let pauseReasons { fields["pause_reasons"] = .array(pauseReasons.map(JSONValue.string)) }
        return .object(fields)
    }
}

/// A configured webhook: where it goes and the secret it is signed with.
public struct WebhookTarget: Sendable, Equatable {
    public var url: String
    public var secret: String
    /// Why its secret could not be read (an environment variable not set in this shell, a file
    /// not readable): said when the webhook is used. It stopped every command, a rollback too.
    public var unavailable: String?

    public init(url: String, secret: String, unavailable: String? = nil) {
        self.url = url
        self.secret = secret
        self.unavailable = unavailable
    }
}

/// The tenant a run talks to, resolved from cxrun.toml and the environment.
public struct ResolvedTenant: Sendable {
    public var name: String
    /// nil for the built-in sandbox tenant, which the caller starts and then fills in.
    public var endpoint: TenantEndpoint?
    public var limits: TenantLimits
    public var webhooks: [String: WebhookTarget]

    public var isSandbox: Bool { endpoint == nil }

    /// What a plan names this tenant by: its API base URL, or for the built-in sandbox tenant
    /// (a new loopback port each time) its database file.
    public var identity: String {
        get { identityOverride ?? endpoint?.baseURL ?? "sandbox" }
        set { identityOverride = newValue }
    }
    private var identityOverride: String?

    public init(name: String, endpoint: TenantEndpoint?, limits: TenantLimits = TenantLimits(), webhooks: [String: WebhookTarget] = [:]) {
        self.name = name
        self.endpoint = endpoint
        self.limits = limits
        self.webhooks = webhooks
    }

    /// Points the built-in sandbox tenant at a server started on `baseURL`, with its `wfm` webhook sink.
    public mutating func attachSandbox(baseURL: String, clientID: String, clientSecret: String, webhookSecret: String) {
        endpoint = TenantEndpoint(baseURL: baseURL, clientID: clientID, clientSecret: clientSecret)
        webhooks["wfm"] = WebhookTarget(url: baseURL + "/_sim/webhooks/wfm", secret: webhookSecret)
    }

    /// Points the built-in sandbox tenant at a server that `start` starts (once, returning its
    /// base URL) on the first request that needs it: URLs are relative until then.
    public mutating func attachSandbox(
        starting start: @escaping @Sendable () async throws -> String, clientID: String, clientSecret: String, webhookSecret: String
    ) {
        attachSandbox(baseURL: "", clientID: clientID, clientSecret: clientSecret, webhookSecret: webhookSecret)
        endpoint?.lateBase = LateBaseURL(start: start)
    }

    /// Every secret this tenant uses, for redaction.
    public var secrets: [String] {
        ([endpoint?.clientSecret].compactMap { $0 } + webhooks.values.map(\.secret)).filter { !$0.isEmpty }
    }
}

/// cxrun.toml: `--config`, else `./cxrun.toml`, else `~/.config/cxrun/cxrun.toml` (DESIGN.md §8).
/// Secrets come only from the environment (`*_env` keys) or a 0600 file (`*_file` keys).
public enum Configuration {
    /// Resolves the tenant for a run. With no configuration at all it is the sandbox tenant.
    public static func resolve(
        configPath: String?, tenant requested: String?, environment given: [String: String], workingDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(ConfigError) -> ResolvedTenant {
        // A variable set empty (`export CXRUN_TENANT=` to clear it) is as good as unset.
        let overrides = ["CXRUN_TENANT", "CXONE_BASE_URL", "CXONE_TOKEN_URL", "CXONE_CLIENT_ID", "CXONE_CLIENT_SECRET"]
        let environment = given.filter { !($0.value.isEmpty && overrides.contains($0.key)) }
        let (file, root) = try load(configPath, environment: environment, workingDirectory: workingDirectory)
        let webhooks = try readWebhooks(root, file: file, environment: environment)
        let name = requested ?? environment["CXRUN_TENANT"] ?? root["default_tenant"]?.stringValue
        let envURL = environment["CXONE_BASE_URL"]
        if name == nil || name == "sandbox", envURL == nil {
            guard root["tenants"]?["sandbox"] == nil else { return try readTenant("sandbox", root, file: file, environment: environment, webhooks: webhooks) }
            if name == nil, let only = root["tenants"]?.objectValue, only.count == 1, let single = only.keys.first {
                return try readTenant(single, root, file: file, environment: environment, webhooks: webhooks)
            }
            return ResolvedTenant(name: "sandbox", endpoint: nil, webhooks: webhooks)
        }
        if let name, root["tenants"]?[name] != nil {
            return try readTenant(name, root, file: file, environment: environment, webhooks: webhooks)
        }
        if envURL != nil {
            return try readTenant(name ?? "env", .object(["tenants": [name ?? "env": [:]]]), file: file, environment: environment, webhooks: webhooks)
        }
        let known = (root["tenants"]?.objectValue?.keys.sorted() ?? []) + ["sandbox"]
        throw ConfigError(file: file, key: "tenants.\(name ?? "")", message: "no such tenant; configured: \(known.joined(separator: ", "))")
    }

    /// The most a configuration file may hold: a few tenants take a few KiB.
    static let maxConfigBytes = 1 << 20
    /// The most a secret file may hold.
    static let maxSecretBytes = 64 << 10

    /// The configuration file found (if any) and its checked contents.
    private static func load(_ configPath: String?, environment: [String: String], workingDirectory: String) throws(ConfigError) -> (String?, JSONValue) {
        guard let file = try locate(configPath, environment: environment, workingDirectory: workingDirectory) else { return (nil, .object([:])) }
        // Read with read(2), not Foundation, which leaks its 4 KiB read buffer on an empty file
        // (LeakSanitizer, make fuzz).
        let data: Data
        do { data = try BoundedFile.read(file, limit: maxConfigBytes) } catch { throw ConfigError(file: file, key: nil, message: error.description) }
        let root: JSONValue
        do {
            root = try TOMLFile.parse(data)
        } catch {
            throw ConfigError(file: error.line.map { "\(file):\($0)" } ?? file, key: nil, message: error.message)
        }
        try ConfigKeys.check(root, file: file)
        return (file, root)
    }

    /// Where the audit log is: `--audit-db`, else `CXRUN_AUDIT_URL`, else `[audit] url` (its
    /// `password_env` carried as the URL's parameter), else `.cxrun/audit.sqlite`. A URL in the
    /// file must not hold a password.
    public static func auditLocation(
        flag: String?, configPath: String?, environment: [String: String], workingDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(ConfigError) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let url = environment["CXRUN_AUDIT_URL"], !url.isEmpty { return url }
        let (file, root) = try load(configPath, environment: environment, workingDirectory: workingDirectory)
        guard let audit = root["audit"] else { return ".cxrun/audit.sqlite" }
        guard audit.objectValue != nil else { throw ConfigError(file: file, key: "audit", message: "must be a table ([audit])") }
        guard case .string(let url)? = audit["url"] else { throw ConfigError(file: file, key: "audit.url", message: "is required (a postgresql:// URL or a file path)") }
        if AuditLocation.isURL(url), URLComponents(string: url)?.password != nil {
            throw ConfigError(file: file, key: "audit.url", message: "must not hold a password: set PGPASSWORD, or name a variable with password_env")
        }
        guard let variable = audit["password_env"] else { return url }
        guard case .string(let name) = variable, !name.isEmpty else { throw ConfigError(file: file, key: "audit.password_env", message: "must be a variable name") }
        guard AuditLocation.isURL(url) else { throw ConfigError(file: file, key: "audit.password_env", message: "applies to a postgresql:// url only") }
        return url + (url.contains("?") ? "&" : "?") + "password_env=" + name
    }

    static func locate(_ explicit: String?, environment: [String: String], workingDirectory: String) throws(ConfigError) -> String? {
        if let explicit {
            guard FileManager.default.fileExists(atPath: explicit) else { throw ConfigError(file: explicit, key: nil, message: "does not exist") }
            return explicit
        }
        let local = (workingDirectory as NSString).appendingPathComponent("cxrun.toml")
        if FileManager.default.fileExists(atPath: local) { return local }
        if let home = environment["HOME"] {
            let global = (home as NSString).appendingPathComponent(".config/cxrun/cxrun.toml")
            if FileManager.default.fileExists(atPath: global) { return global }
        }
        return nil
    }

    private static func readTenant(
        _ name: String, _ root: JSONValue, file: String?, environment: [String: String], webhooks: [String: WebhookTarget]
    ) throws(ConfigError) -> ResolvedTenant {
        let table = root["tenants"]?[name] ?? .object([:])
        let prefix = "tenants.\(name)"
        func string(_ key: String) throws(ConfigError) -> String? {
            guard let v = table[key] else { return nil }
            guard let s = v.stringValue else { throw ConfigError(file: file, key: "\(prefix).\(key)", message: "must be a string") }
            return s
        }
        let fileBaseURL = try string("base_url"), fileClientID = try string("client_id"), fileTokenURL = try string("token_url")
        guard let baseURL = environment["CXONE_BASE_URL"] ?? fileBaseURL else {
            throw ConfigError(file: file, key: "\(prefix).base_url", message: "is required (or set CXONE_BASE_URL)")
        }
        guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
            throw ConfigError(file: file, key: "\(prefix).base_url", message: "must be an http(s) URL, got '\(baseURL)'")
        }
        guard let clientID = environment["CXONE_CLIENT_ID"] ?? fileClientID else {
            throw ConfigError(file: file, key: "\(prefix).client_id", message: "is required (or set CXONE_CLIENT_ID)")
        }
        if table["client_secret"] != nil {
            throw ConfigError(file: file, key: "\(prefix).client_secret", message: "secrets are never written in the file: use client_secret_env or client_secret_file")
        }
        let secret = try secretValue(direct: environment["CXONE_CLIENT_SECRET"], envKey: try string("client_secret_env"),
                                     fileKey: try string("client_secret_file"), key: "\(prefix).client_secret", file: file, environment: environment)
        var scopes: [String] = []
        if let raw = table["scopes"] {
            guard let items = raw.arrayValue?.compactMap(\.stringValue), items.count == raw.arrayValue?.count else {
                throw ConfigError(file: file, key: "\(prefix).scopes", message: "must be an array of strings")
            }
            scopes = items
        }
        var rateLimit = 0.0
        if let raw = table["rate_limit"] {
            guard let r = raw.doubleValue, r >= 0, r <= 100_000 else {
                throw ConfigError(file: file, key: "\(prefix).rate_limit", message: "must be a number from 0 to 100000 (requests per second; 0 = unpaced; absent = learned from 429s)")
            }
            rateLimit = r
        }
        var endpoint = TenantEndpoint(
            baseURL: baseURL, tokenURL: environment["CXONE_TOKEN_URL"] ?? fileTokenURL, clientID: clientID, clientSecret: secret,
            scopes: scopes, rateLimit: rateLimit)
        try refuseCleartext(endpoint, table: table, prefix: prefix, file: file, environment: environment)
        // No rate_limit key: the limit is learned from the tenant's 429s; an explicit 0 stays unpaced.
        endpoint.learnsRateLimit = table["rate_limit"] == nil
        if let raw = table["timeout"] {
            guard let t = raw.doubleValue, t > 0, t <= 3600 else {
                throw ConfigError(file: file, key: "\(prefix).timeout", message: "must be a number of seconds above 0 and at most 3600")
            }
            endpoint.requestTimeout = t
        }
        var limits = TenantLimits()
        if let raw = table["limits"] {
            guard let fields = raw.objectValue else { throw ConfigError(file: file, key: "\(prefix).limits", message: "must be a table") }
            for (key, value) in fields {
                let path = "\(prefix).limits.\(key)"
                if let integer = TenantLimits.integers.first(where: { $0.key == key }) {
                    guard let n = value.intValue, n >= 0 else { throw ConfigError(file: file, key: path, message: "must be a non-negative integer") }
                    limits[keyPath: integer.path] = n
                } else if key == "pause_reasons" {
                    guard let items = value.arrayValue?.compactMap(\.stringValue), !items.isEmpty else {
                        throw ConfigError(file: file, key: path, message: "must be a non-empty array of strings")
                    }
                    limits.pauseReasons = items
                } else {
                    throw ConfigError(file: file, key: path, message: "unknown limit")
                }
            }
        }
        return ResolvedTenant(name: name, endpoint: endpoint, limits: limits, webhooks: webhooks)
    }

    /// Plain http to another machine would send the client secret and the tokens unencrypted: it
    /// is refused unless the tenant says `allow_insecure_http = true` (loopback needs no leave).
    private static func refuseCleartext(
        _ endpoint: TenantEndpoint, table: JSONValue, prefix: String, file: String?, environment: [String: String]
    ) throws(ConfigError) {
        if let raw = table["allow_insecure_http"] {
            guard let allowed = raw.boolValue else { throw ConfigError(file: file, key: "\(prefix).allow_insecure_http", message: "must be true or false") }
            if allowed { return }
        }
        for (key, variable, url) in [("base_url", "CXONE_BASE_URL", endpoint.baseURL), ("token_url", "CXONE_TOKEN_URL", endpoint.tokenURL)] {
            guard let host = TenantEndpoint.cleartextRemoteHost(url) else { continue }
            let from = environment[variable] != nil ? " (from \(variable))" : ""
            throw ConfigError(file: file, key: "\(prefix).\(key)", message: "is plain http to \(host)\(from): the client secret and tokens would cross "
                              + "the network unencrypted; use https, or set \(prefix).allow_insecure_http = true")
        }
    }

    private static func readWebhooks(_ root: JSONValue, file: String?, environment: [String: String]) throws(ConfigError) -> [String: WebhookTarget] {
        guard let raw = root["webhooks"] else { return [:] }
        guard let tables = raw.objectValue else { throw ConfigError(file: file, key: "webhooks", message: "must be a table of webhooks") }
        var out: [String: WebhookTarget] = [:]
        for (name, table) in tables {
            let prefix = "webhooks.\(name)"
            guard let url = table["url"]?.stringValue, url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ConfigError(file: file, key: "\(prefix).url", message: "is required and must be an http(s) URL")
            }
            if table["secret"] != nil {
                throw ConfigError(file: file, key: "\(prefix).secret", message: "secrets are never written in the file: use secret_env or secret_file")
            }
            let (envKey, fileKey) = (table["secret_env"]?.stringValue, table["secret_file"]?.stringValue)
            guard envKey != nil || fileKey != nil else {
                throw ConfigError(file: file, key: "\(prefix).secret_env", message: "is required: name the environment variable holding the secret")
            }
            do {
                let secret = try secretValue(direct: nil, envKey: envKey, fileKey: fileKey, key: "\(prefix).secret", file: file, environment: environment)
                out[name] = WebhookTarget(url: url, secret: secret)
            } catch {
                out[name] = WebhookTarget(url: url, secret: "", unavailable: error.description)
            }
        }
        return out
    }

    private static func secretValue(
        direct: String?, envKey: String?, fileKey: String?, key: String, file: String?, environment: [String: String]
    ) throws(ConfigError) -> String {
        if let direct, !direct.isEmpty { return direct }
        if let envKey {
            guard let value = environment[envKey], !value.isEmpty else {
                throw ConfigError(file: file, key: key + "_env", message: "environment variable \(envKey) is not set")
            }
            return value
        }
        if let fileKey {
            let attributes = try? FileManager.default.attributesOfItem(atPath: fileKey)
            guard let permissions = attributes?[.posixPermissions] as? NSNumber else {
                throw ConfigError(file: file, key: key + "_file", message: "\(fileKey) cannot be read")
            }
            guard permissions.intValue & 0o077 == 0 else {
                throw ConfigError(file: file, key: key + "_file", message: "\(fileKey) must not be readable by group or others (chmod 600)")
            }
            let data: Data
            do { data = try BoundedFile.read(fileKey, limit: maxSecretBytes) } catch {
                throw ConfigError(file: file, key: key + "_file", message: "\(fileKey) \(error.description)")
            }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        throw ConfigError(file: file, key: key + "_env", message: "is required: name the environment variable holding the secret")
    }
}
