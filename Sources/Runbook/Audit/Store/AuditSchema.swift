/// The audit log's schema: one list of migrations, applied in order by name, run by GRDB's
/// migrator on SQLite and by `PostgresAuditDatabase` on PostgreSQL. `{real}` and `{bigint}`
/// name the only column types the two dialects spell differently.
enum AuditSchema {
    static let migrations: [(name: String, sql: String)] = [
        ("v1", """
            CREATE TABLE runs (
                id TEXT PRIMARY KEY NOT NULL, script TEXT NOT NULL, script_sha256 TEXT NOT NULL, tenant TEXT NOT NULL,
                operator TEXT NOT NULL, args TEXT NOT NULL, dry_run BOOLEAN NOT NULL, started_at {real} NOT NULL,
                finished_at {real}, status TEXT NOT NULL, error TEXT, summary TEXT);
            CREATE TABLE calls (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, seq INTEGER NOT NULL, binding TEXT NOT NULL,
                target TEXT, args TEXT NOT NULL, result TEXT, status TEXT NOT NULL, error_code TEXT, http_status INTEGER,
                attempts INTEGER NOT NULL, started_at {real} NOT NULL, latency_ms {real}, PRIMARY KEY (run_id, seq));
            CREATE TABLE snapshots (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, seq INTEGER NOT NULL, queue_id TEXT NOT NULL,
                kind TEXT NOT NULL, version {bigint}, document TEXT NOT NULL, PRIMARY KEY (run_id, seq, kind));
            CREATE INDEX calls_binding ON calls (run_id, binding);
            """),
        // The process a run belongs to: a run left running by a process that is gone is abandoned.
        ("v3-owner", "ALTER TABLE runs ADD COLUMN pid INTEGER; ALTER TABLE runs ADD COLUMN host TEXT;"),
        // Plans (cxrun plan/apply): the applied plan is kept with the run that applied it.
        ("v2-plans", """
            ALTER TABLE runs ADD COLUMN plan_id TEXT;
            CREATE TABLE plans (id TEXT PRIMARY KEY NOT NULL, file TEXT NOT NULL, applied_run TEXT, applied_at {real});
            """),
        // Run locks: a writing run's lease on each target it writes, renewed while it runs.
        ("v4-leases", """
            CREATE TABLE leases (
                tenant TEXT NOT NULL, target TEXT NOT NULL, run_id TEXT NOT NULL, operator TEXT NOT NULL, host TEXT NOT NULL,
                pid INTEGER NOT NULL, since {real} NOT NULL, expires_at {real} NOT NULL, PRIMARY KEY (tenant, target));
            CREATE INDEX leases_run ON leases (run_id);
            CREATE TABLE lease_waits (run_id TEXT PRIMARY KEY NOT NULL, tenant TEXT NOT NULL, target TEXT NOT NULL, since {real} NOT NULL);
            """),
        // Every open looks for running runs whose process is gone: without this the search read
        // the whole runs table, at every start, in a log that only grows. Partial: a handful of
        // rows are ever running.
        ("v5-running-runs", "CREATE INDEX runs_running ON runs (status) WHERE status = 'running'"),
        // No query reads calls by binding; the index cost every audited write a page or three
        // (a batch of rows lands in one leaf per binding), a quarter of the log's page writes.
        ("v6-no-binding-index", "DROP INDEX IF EXISTS calls_binding"),
        // Runs are listed and exported newest first: a team's log of many runs is read in order
        // (a page at a time), not sorted whole at every `cxrun audit runs`.
        ("v7-runs-by-time", "CREATE INDEX runs_started ON runs (started_at, id)"),
    ]

    /// The migration's statements in `dialect`.
    static func statements(_ sql: String, _ dialect: SQLDialect) -> [String] {
        let typed = sql.replacingOccurrences(of: "{real}", with: dialect == .sqlite ? "DOUBLE" : "DOUBLE PRECISION")
            .replacingOccurrences(of: "{bigint}", with: dialect == .sqlite ? "INTEGER" : "BIGINT")
        return typed.split(separator: ";").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }
}
