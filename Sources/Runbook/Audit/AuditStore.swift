import Foundation
import GRDB
import JSONCore
import SQLiteSupport

/// The audit log in SQLite (WAL): runs, calls, snapshots (DESIGN.md §7). Every write is a
/// transaction, so a killed process leaves whole rows behind.
public final class AuditStore: Sendable {
    public let path: String
    private let pool: any DatabaseWriter
    /// Seals secret values in snapshots (the key is kept outside the database).
    let seal: SecretSeal

    /// Opens (creating and migrating) the log. Runs whose process is gone are finalized as
    /// `abandoned`. `readOnly`: for reading only (`cxrun audit`), which works on a read-only
    /// file and changes nothing; abandoned runs then only show as such.
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        seal = SecretSeal(auditPath: path)
        pool = readOnly ? try DatabaseFile.openReadOnly(path) : try DatabaseFile.openMigrated(path, Self.migrator)
        guard !readOnly else { return }
        try finalizeAbandoned()
    }

    /// Marks this host's `running` runs whose process is gone as `abandoned`.
    private func finalizeAbandoned() throws {
        let gone = try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM runs WHERE status = 'running'").map(Self.run).filter(Self.isAbandoned)
        }
        for r in gone {
            try pool.write { db in
                try db.execute(sql: "UPDATE runs SET status = 'abandoned', error = ?, finished_at = ? WHERE id = ? AND status = 'running'",
                               arguments: [Self.abandonedMessage(r), Date().timeIntervalSince1970, r.id])
            }
        }
    }

    private static func isAbandoned(_ r: RunRecord) -> Bool {
        r.status == .running && (r.owner?.isGone(runStartedAt: r.startedAt) ?? false)
    }

    private static func abandonedMessage(_ r: RunRecord) -> String {
        "its process (pid \(r.owner?.pid ?? 0) on \(r.owner?.host ?? "?")) ended without finishing the run; calls left pending may or may not have happened"
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "runs") { t in
                t.primaryKey("id", .text)
                t.column("script", .text).notNull()
                t.column("script_sha256", .text).notNull()
                t.column("tenant", .text).notNull()
                t.column("operator", .text).notNull()
                t.column("args", .text).notNull()
                t.column("dry_run", .boolean).notNull()
                t.column("started_at", .double).notNull()
                t.column("finished_at", .double)
                t.column("status", .text).notNull()
                t.column("error", .text)
                t.column("summary", .text)
            }
            try db.create(table: "calls") { t in
                t.column("run_id", .text).notNull().references("runs", onDelete: .cascade)
                t.column("seq", .integer).notNull()
                t.column("binding", .text).notNull()
                t.column("target", .text)
                t.column("args", .text).notNull()
                t.column("result", .text)
                t.column("status", .text).notNull()
                t.column("error_code", .text)
                t.column("http_status", .integer)
                t.column("attempts", .integer).notNull()
                t.column("started_at", .double).notNull()
                t.column("latency_ms", .double)
                t.primaryKey(["run_id", "seq"])
            }
            try db.create(table: "snapshots") { t in
                t.column("run_id", .text).notNull().references("runs", onDelete: .cascade)
                t.column("seq", .integer).notNull()
                t.column("queue_id", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("version", .integer)
                t.column("document", .text).notNull()
                t.primaryKey(["run_id", "seq", "kind"])
            }
            try db.create(index: "calls_binding", on: "calls", columns: ["run_id", "binding"])
        }
        // The process a run belongs to: a run left running by a process that is gone is abandoned.
        migrator.registerMigration("v3-owner") { db in
            try db.alter(table: "runs") { t in
                t.add(column: "pid", .integer)
                t.add(column: "host", .text)
            }
        }
        // Plans (cxrun plan/apply): the applied plan is kept with the run that applied it.
        migrator.registerMigration("v2-plans") { db in
            try db.alter(table: "runs") { t in t.add(column: "plan_id", .text) }
            try db.create(table: "plans") { t in
                t.primaryKey("id", .text)
                t.column("file", .text).notNull()
                t.column("applied_run", .text)
                t.column("applied_at", .double)
            }
        }
        return migrator
    }

    // MARK: writing

    public func insert(run: RunRecord) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO runs (id, script, script_sha256, tenant, operator, args, dry_run, started_at, status, plan_id, pid, host)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [run.id, run.script, run.scriptSHA256, run.tenant, run.operatorName, run.args.jsonString(), run.dryRun,
                            run.startedAt, run.status.rawValue, run.planID, run.owner?.pid, run.owner?.host])
        }
    }

    public func finish(run id: String, status: RunStatus, error: String?, summary: JSONValue?, at time: Double) throws {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE runs SET status = ?, error = ?, summary = ?, finished_at = ? WHERE id = ? AND finished_at IS NULL",
                arguments: [status.rawValue, error, summary?.jsonString(), time, id])
        }
    }

    /// Inserts calls and snapshots in one transaction (a write's pending row with its pre-image).
    public func insert(calls: [CallRecord], snapshots: [SnapshotRecord] = []) throws {
        guard !calls.isEmpty || !snapshots.isEmpty else { return }
        try pool.write { db in
            for c in calls {
                try db.cachedStatement(sql: """
                    INSERT INTO calls (run_id, seq, binding, target, args, result, status, error_code, http_status, attempts, started_at, latency_ms)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(
                    arguments: [c.runID, c.seq, c.binding, c.target, c.args.jsonString(), c.result?.jsonString(), c.status.rawValue, c.errorCode,
                                c.httpStatus, c.attempts, c.startedAt, c.latencyMs])
            }
            for s in snapshots { try Self.upsert(s, db) }
        }
    }

    /// Completes a call (a pending write's outcome), optionally replacing its snapshots.
    public func update(call c: CallRecord, snapshots: [SnapshotRecord] = []) throws {
        try pool.write { db in
            try db.cachedStatement(sql: """
                UPDATE calls SET result = ?, status = ?, error_code = ?, http_status = ?, attempts = ?, latency_ms = ?
                WHERE run_id = ? AND seq = ?
                """).execute(
                arguments: [c.result?.jsonString(), c.status.rawValue, c.errorCode, c.httpStatus, c.attempts, c.latencyMs, c.runID, c.seq])
            for s in snapshots { try Self.upsert(s, db) }
        }
    }

    private static func upsert(_ s: SnapshotRecord, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO snapshots (run_id, seq, queue_id, kind, version, document) VALUES (?, ?, ?, ?, ?, ?)")
            .execute(arguments: [s.runID, s.seq, s.queueID, s.kind.rawValue, s.version, s.document.jsonString()])
    }

    /// Records that `run` applies the plan `id` (its file kept with it); false when the plan was
    /// already applied, by this or any earlier run (the check and the claim are one transaction).
    public func claim(plan id: String, file: String, run: String, at time: Double) throws -> (claimed: Bool, appliedBy: String?) {
        try pool.write { db in
            if let by = try String.fetchOne(db, sql: "SELECT applied_run FROM plans WHERE id = ? AND applied_run IS NOT NULL", arguments: [id]) {
                return (false, by)
            }
            try db.execute(sql: "INSERT OR REPLACE INTO plans (id, file, applied_run, applied_at) VALUES (?, ?, ?, ?)", arguments: [id, file, run, time])
            return (true, nil)
        }
    }

    /// The run that applied plan `id`, if one did.
    public func appliedRun(plan id: String) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT applied_run FROM plans WHERE id = ?", arguments: [id]) }
    }

    /// The plan file a run applied, if it applied one.
    public func planFile(appliedBy run: String) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT file FROM plans WHERE applied_run = ?", arguments: [run]) }
    }

    // MARK: reading

    public func runs(limit: Int = 50) throws -> [RunRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM runs ORDER BY started_at DESC LIMIT ?", arguments: [limit]).map(Self.run).map(Self.judged)
        }
    }

    public func run(_ id: String) throws -> RunRecord? {
        try pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM runs WHERE id = ?", arguments: [id]).map(Self.run).map(Self.judged) }
    }

    /// A run still `running` whose process is gone reads as `abandoned` (a read-only open, or
    /// one that ended since this store was opened, has not finalized it).
    private static func judged(_ r: RunRecord) -> RunRecord {
        guard isAbandoned(r) else { return r }
        var copy = r
        copy.status = .abandoned
        copy.error = abandonedMessage(r)
        return copy
    }

    public func calls(run id: String) throws -> [CallRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM calls WHERE run_id = ? ORDER BY seq", arguments: [id]).map(Self.call)
        }
    }

    public func snapshots(run id: String) throws -> [SnapshotRecord] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM snapshots WHERE run_id = ? ORDER BY seq, kind", arguments: [id]).map { row in
                SnapshotRecord(runID: row["run_id"], seq: row["seq"], queueID: row["queue_id"], kind: SnapshotKind(rawValue: row["kind"]) ?? .pre, version: row["version"],
                               document: (try? JSONValue.parse(row["document"] as String)) ?? .null)
            }
        }
    }

    private static func json(_ text: String?) -> JSONValue? { text.flatMap { try? JSONValue.parse($0) } }

    private static func run(_ row: Row) -> RunRecord {
        RunRecord(id: row["id"], script: row["script"], scriptSHA256: row["script_sha256"], tenant: row["tenant"], operatorName: row["operator"],
                  args: json(row["args"]) ?? .null, dryRun: row["dry_run"], startedAt: row["started_at"], finishedAt: row["finished_at"],
                  status: RunStatus(rawValue: row["status"]) ?? .failed, error: row["error"], summary: json(row["summary"]), planID: row["plan_id"],
                  owner: (row["pid"] as Int32?).map { RunOwner(pid: $0, host: row["host"] ?? "") })
    }

    private static func call(_ row: Row) -> CallRecord {
        CallRecord(runID: row["run_id"], seq: row["seq"], binding: row["binding"], target: row["target"], args: json(row["args"]) ?? .null,
                   result: json(row["result"]), status: CallStatus(rawValue: row["status"]) ?? .error, errorCode: row["error_code"], httpStatus: row["http_status"],
                   attempts: row["attempts"], startedAt: row["started_at"], latencyMs: row["latency_ms"])
    }
}
