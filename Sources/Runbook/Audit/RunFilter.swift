/// Which runs `cxrun audit runs` and `export` read: by whom, where, which script, since when,
/// in which state, and which target they wrote. Every field narrows; none set means every run.
public struct RunFilter: Sendable, Equatable {
    public var operatorName: String?
    public var tenant: String?
    /// Part of the script's path as recorded, any case (`rebalance` finds `scripts/rebalance.lua`).
    public var script: String?
    /// Runs started at or after this time (seconds since 1970).
    public var since: Double?
    public var status: RunStatus?
    /// A queue or agent id the run wrote, or may have (a write left pending).
    public var target: String?

    public init(operatorName: String? = nil, tenant: String? = nil, script: String? = nil, since: Double? = nil, status: RunStatus? = nil,
                target: String? = nil) {
        self.operatorName = operatorName
        self.tenant = tenant
        self.script = script
        self.since = since
        self.status = status
        self.target = target
    }

    /// The bindings whose calls change a tenant.
    static let writingBindings = ["deploy", "patch", "rollback", "reassign", "agent_status"]

    /// The SQL conditions on `runs` and their arguments (`?` placeholders, both dialects).
    /// `abandoned` is judged from a `running` row's process, so both are read for either.
    var conditions: (sql: [String], arguments: [SQLValue]) {
        var sql: [String] = [], arguments: [SQLValue] = []
        if let operatorName { sql.append("operator = ?"); arguments.append(.text(operatorName)) }
        if let tenant { sql.append("tenant = ?"); arguments.append(.text(tenant)) }
        if let script {
            // LIKE's own characters taken literally; lower() on both sides: SQLite's LIKE ignores
            // ASCII case, PostgreSQL's does not.
            let escaped = script.lowercased().reduce(into: "") { out, c in
                if c == "%" || c == "_" || c == "!" { out.append("!") }
                out.append(c)
            }
            sql.append("lower(script) LIKE ? ESCAPE '!'")
            arguments.append(.text("%" + escaped + "%"))
        }
        if let since { sql.append("started_at >= ?"); arguments.append(.double(since)) }
        switch status {
        case nil: break
        case .running?, .abandoned?: sql.append("status IN ('running', 'abandoned')")
        case let other?: sql.append("status = ?"); arguments.append(.text(other.rawValue))
        }
        if let target {
            let bindings = Self.writingBindings.map { "'\($0)'" }.joined(separator: ", ")
            sql.append("id IN (SELECT run_id FROM calls WHERE target = ? AND binding IN (\(bindings)) AND status IN ('ok', 'pending'))")
            arguments.append(.text(target))
        }
        return (sql, arguments)
    }

    /// Whether a run read back (and judged) passes: what SQL cannot tell, running from abandoned.
    func admits(_ run: RunRecord) -> Bool { status.map { run.status == $0 } ?? true }
}
