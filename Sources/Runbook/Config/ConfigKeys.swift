import JSONCore

/// The keys cxrun.toml may hold. Any other key or section is an error naming the closest known
/// one: a misspelt `rate_limt` must not quietly turn client-side pacing off.
enum ConfigKeys {
    static let root = ["default_tenant", "tenants", "webhooks", "audit"]
    static let audit = ["url", "password_env"]
    // `client_secret` and `secret` are known so that their own, clearer error is the one raised.
    static let tenant = ["base_url", "token_url", "client_id", "client_secret", "client_secret_env", "client_secret_file", "scopes",
                         "rate_limit", "timeout", "limits", "allow_insecure_http"]
    static var limits: [String] { TenantLimits.keys }
    static let webhook = ["url", "secret", "secret_env", "secret_file"]

    /// Throws for the first unknown key, in file order of sections (sorted keys within one).
    static func check(_ root: JSONValue, file: String?) throws(ConfigError) {
        try unknown(in: root, known: Self.root, prefix: "", file: file)
        for section in ["tenants", "webhooks"] where root[section] != nil && root[section]?.objectValue == nil {
            throw ConfigError(file: file, key: section, message: "must be a table of tables ([\(section).NAME])")
        }
        for (name, tenant) in (root["tenants"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard tenant.objectValue != nil else {
                throw ConfigError(file: file, key: "tenants.\(name)", message: "must be a table ([tenants.\(name)])")
            }
            try unknown(in: tenant, known: Self.tenant, prefix: "tenants.\(name).", file: file)
            if let limits = tenant["limits"], limits.objectValue != nil {
                try unknown(in: limits, known: Self.limits, prefix: "tenants.\(name).limits.", file: file)
            }
        }
        if let audit = root["audit"], audit.objectValue != nil {
            try unknown(in: audit, known: Self.audit, prefix: "audit.", file: file)
        }
        for (name, webhook) in (root["webhooks"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard webhook.objectValue != nil else {
                throw ConfigError(file: file, key: "webhooks.\(name)", message: "must be a table ([webhooks.\(name)])")
            }
            try unknown(in: webhook, known: Self.webhook, prefix: "webhooks.\(name).", file: file)
        }
    }

    private static func unknown(in table: JSONValue, known: [String], prefix: String, file: String?) throws(ConfigError) {
        for key in (table.objectValue?.keys.sorted() ?? []) where !known.contains(key) {
            var message = "unknown key"
            if let guess = closest(to: key, in: known) { message += "; did you mean '\(prefix)\(guess)'?" }
            message += " (known here: \(known.joined(separator: ", ")))"
            throw ConfigError(file: file, key: prefix + key, message: message)
        }
    }

    /// The known key nearest to `key` (`-` read as `_`), when it is near enough to be a slip.
    static func closest(to key: String, in known: [String]) -> String? {
        NearestName.nearest(to: key.replacingOccurrences(of: "-", with: "_"), in: known)
    }
}
