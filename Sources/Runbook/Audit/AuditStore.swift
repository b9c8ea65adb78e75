import CXShared
import Crypto
import Foundation
import JSONCore

/// The audit log: runs, calls, snapshots, plans and run leases (DESIGN.md §7), in SQLite (WAL)
/// on this machine or in a team's PostgreSQL; the same statements and guarantees in both. Every
/// write is a transaction, so a killed process leaves whole rows behind.
public final class AuditStore: Sendable {
    /// The file or URL it was opened from (for messages).
    public let path: String
    let database: any AuditDatabase
    /// Seals secret values in snapshots (the key is kept outside the database).
    let seal: SecretSeal

    /// Opens (creating and migrating) the log at a file path or `postgresql://` URL. Runs whose
    /// process is gone are finalized as `abandoned`. `readOnly`: for reading only (`cxrun
    /// audit`), which works on a read-only file and changes nothing; abandoned runs then only
    /// show as such.
    public init(path: String, readOnly: Bool = false, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.path = path
        switch try AuditLocation.parse(path, environment: environment) {
        case .sqlite(let file): database = try SQLiteAuditDatabase(path: file, readOnly: readOnly)
        case .postgres(let server): database = try PostgresAuditDatabase(server)
        }
        seal = SecretSeal(audit: path, environment: environment)
        guard !readOnly else { return }
        try finalizeAbandoned()
    }

    /// Marks this host's `running` runs whose process is gone as `abandoned`.
    private func finalizeAbandoned() throws {
        let gone = try database.read { db in
            try db.query("SELECT * FROM runs WHERE status = 'running'", []).map(Self.run).filter(Self.isAbandoned)
        }
        for r in gone {
            try database.transaction { db in
                try db.execute("UPDATE runs SET status = 'abandoned', error = ?, finished_at = ? WHERE id = ? AND status = 'running'",
                               [.text(Self.abandonedMessage(r)), .double(Date().timeIntervalSince1970), .text(r.id)])
                try db.execute("DELETE FROM leases WHERE run_id = ?", [.text(r.id)])
            }
        }
    }

    private static func isAbandoned(_ r: RunRecord) -> Bool {
        r.status == .running && (r.owner?.isGone(runStartedAt: r.startedAt) ?? false)
    }

    private static func abandonedMessage(_ r: RunRecord) -> String {
        "its process (pid \(r.owner?.pid ?? 0) on \(r.owner?.host ?? "?")) ended without finishing the run; calls left pending may or may not have happened"
    }

    // MARK: writing

    public func insert(run: RunRecord) throws {
        try database.write([(
                """
                INSERT INTO runs (id, script, script_sha256, tenant, operator, args, dry_run, started_at, status, plan_id, pid, host)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(run.id), .text(run.script), .text(run.scriptSHA256), .text(run.tenant), .text(run.operatorName), .text(run.args.jsonString()),
                 .bool(run.dryRun), .double(run.startedAt), .text(run.status.rawValue), SQLValue(run.planID), SQLValue(run.owner?.pid),
                 SQLValue(run.owner?.host)])])
    }

    public func finish(run id: String, status: RunStatus, error: String?, summary: JSONValue?, at time: Double) throws {
        try database.write([("UPDATE runs SET status = ?, error = ?, summary = ?, finished_at = ? WHERE id = ? AND finished_at IS NULL",
                             [.text(status.rawValue), SQLValue(error), SQLValue(summary?.jsonString()), .double(time), .text(id)])])
    }

    /// Inserts calls and snapshots atomically (a write's pending row with its pre-image): the
    /// calls as multi-row statements where the backend wants them (a batch of rows costs one
    /// round trip to PostgreSQL).
    public func insert(calls: [CallRecord], snapshots: [SnapshotRecord] = []) throws {
        try commit(inserting: calls, updating: [], snapshots: snapshots)
    }

    /// One transaction: new rows, then outcomes of rows already written, then snapshots.
    public func commit(inserting calls: [CallRecord], updating outcomes: [CallRecord], snapshots: [SnapshotRecord]) throws {
        guard !calls.isEmpty || !outcomes.isEmpty || !snapshots.isEmpty else { return }
        try database.write(statements(inserting: calls, updating: outcomes, snapshots: snapshots))
    }

    /// As `commit`, taking `lease` first in the same transaction: before a run's first write to a
    /// target its lease and its pending row cost one commit, not two (on a team's PostgreSQL, a
    /// round trip less). False, with nothing written, when another run holds the lease.
    public func commit(inserting calls: [CallRecord], updating outcomes: [CallRecord], snapshots: [SnapshotRecord],
                       taking lease: LeaseRecord, now: Double = Date().timeIntervalSince1970) throws -> Bool {
        try database.write(statements(inserting: calls, updating: outcomes, snapshots: snapshots),
                           onlyIf: (Self.takeLease, Self.takeArguments(lease, now: now)))
    }

    /// The batch's statements, no two touching one row (PostgreSQL runs a batch as one statement,
    /// where no part sees another's rows): an outcome of a row the batch inserts is folded into
    /// that row, and of a row given twice the last counts — what running them in turn leaves.
    private func statements(inserting calls: [CallRecord], updating outcomes: [CallRecord], snapshots: [SnapshotRecord]) -> [SQLStatement] {
        let (calls, outcomes) = Self.disjoint(calls, outcomes)
        var statements: [SQLStatement] = []
        let perStatement = max(1, database.rowsPerStatement)
        for start in stride(from: 0, to: calls.count, by: perStatement) {
            let chunk = calls[start..<min(start + perStatement, calls.count)]
            var arguments: [SQLValue] = []
            arguments.reserveCapacity(chunk.count * 12)
            for c in chunk {
                arguments += [.text(c.runID), SQLValue(c.seq), .text(c.binding), SQLValue(c.target), .text(Self.bounded(c.args)),
                              SQLValue(c.result.map(Self.bounded)), .text(c.status.rawValue), SQLValue(c.errorCode), SQLValue(c.httpStatus),
                              SQLValue(c.attempts), .double(c.startedAt), SQLValue(c.latencyMs)]
            }
            statements.append((Self.insertCalls(rows: chunk.count), arguments))
        }
        statements += outcomes.map(Self.outcome)
        statements += Self.upsert(snapshots)
        return statements
    }

    /// The most of a call's arguments or result kept as they were, in bytes of JSON.
    public static let maxFieldBytes = 256 << 10

    /// A call's arguments or result as the log keeps them: past `maxFieldBytes` (a script handing
    /// a webhook 40 MB) by size and SHA-256, so one call cannot put megabytes into every reader's
    /// log, the team's shared one included. Snapshots are kept whole: a rollback needs them exact.
    static func bounded(_ value: JSONValue) -> String {
        let text = value.jsonString()
        guard text.utf8.count > maxFieldBytes else { return text }
        let omitted: JSONValue = ["omitted": .string("\(text.utf8.count) bytes of JSON; the audit log keeps at most \(maxFieldBytes) per field"),
                                  "sha256": .string(Hex.encode(SHA256.hash(data: Array(text.utf8))))]
        return omitted.jsonString()
    }

    /// The INSERT of `rows` calls (one row's made once: SQLite's is run for every call).
    private static func insertCalls(rows: Int) -> String { rows == 1 ? insertOneCall : insertCallsText(rows: rows) }
    private static let insertOneCall = insertCallsText(rows: 1)
    private static func insertCallsText(rows: Int) -> String {
        let tuple = "(" + Array(repeating: "?", count: 12).joined(separator: ", ") + ")"
        return "INSERT INTO calls (run_id, seq, binding, target, args, result, status, error_code, http_status, attempts, started_at, latency_ms) VALUES "
            + Array(repeating: tuple, count: rows).joined(separator: ", ")
    }

    /// `calls` with the outcomes of their own rows applied, and the other outcomes, one a row.
    static func disjoint(_ calls: [CallRecord], _ outcomes: [CallRecord]) -> (calls: [CallRecord], outcomes: [CallRecord]) {
        guard !outcomes.isEmpty else { return (calls, outcomes) }
        struct Row: Hashable { let run: String, seq: Int }
        var inserted: [Row: Int] = [:]
        for (i, c) in calls.enumerated() { inserted[Row(run: c.runID, seq: c.seq)] = i }
        var calls = calls
        var updated: [Row: Int] = [:]
        var rest: [CallRecord] = []
        for o in outcomes {
            let row = Row(run: o.runID, seq: o.seq)
            if let i = inserted[row] {
                (calls[i].result, calls[i].status, calls[i].errorCode) = (o.result, o.status, o.errorCode)
                (calls[i].httpStatus, calls[i].attempts, calls[i].latencyMs) = (o.httpStatus, o.attempts, o.latencyMs)
            } else if let i = updated[row] {
                rest[i] = o
            } else {
                updated[row] = rest.count
                rest.append(o)
            }
        }
        return (calls, rest)
    }

    /// Completes a call (a pending write's outcome), optionally replacing its snapshots.
    public func update(call c: CallRecord, snapshots: [SnapshotRecord] = []) throws {
        try commit(inserting: [], updating: [c], snapshots: snapshots)
    }

    /// The UPDATE that completes a written row with its outcome.
    private static func outcome(_ c: CallRecord) -> SQLStatement {
        ("UPDATE calls SET result = ?, status = ?, error_code = ?, http_status = ?, attempts = ?, latency_ms = ? WHERE run_id = ? AND seq = ?",
         [SQLValue(c.result.map(Self.bounded)), .text(c.status.rawValue), SQLValue(c.errorCode), SQLValue(c.httpStatus), SQLValue(c.attempts),
          SQLValue(c.latencyMs), .text(c.runID), SQLValue(c.seq)])
    }

    /// The snapshots as one upsert (empty: none). One row per (seq, kind): a statement may not
    /// touch one row twice, so the last snapshot of a key wins, as it would one by one.
    private static func upsert(_ snapshots: [SnapshotRecord]) -> [SQLStatement] {
        var latest: [String: SnapshotRecord] = [:]
        var order: [String] = []
        for s in snapshots {
            let key = "\(s.runID)|\(s.seq)|\(s.kind.rawValue)"
            if latest.updateValue(s, forKey: key) == nil { order.append(key) }
        }
        guard !order.isEmpty else { return [] }
        let rows = order.compactMap { latest[$0] }
        let sql = "INSERT INTO snapshots (run_id, seq, queue_id, kind, version, document) VALUES "
            + Array(repeating: "(?, ?, ?, ?, ?, ?)", count: rows.count).joined(separator: ", ")
            + " ON CONFLICT (run_id, seq, kind) DO UPDATE SET queue_id = excluded.queue_id, version = excluded.version, document = excluded.document"
        return [(sql, rows.flatMap { s -> [SQLValue] in
            [.text(s.runID), SQLValue(s.seq), .text(s.queueID), .text(s.kind.rawValue), SQLValue(s.version), .text(s.document.jsonString())]
        })]
    }

    /// Records that `run` applies the plan `id` (its file kept with it); false when the plan was
    /// already applied, by this or any earlier run. The claim is one conditional update, so two
    /// applies at once (from two machines) cannot both win.
    public func claim(plan id: String, file: String, run: String, at time: Double) throws -> (claimed: Bool, appliedBy: String?) {
        try database.transaction { db in
            try db.execute("INSERT INTO plans (id, file) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", [.text(id), .text(file)])
            try db.execute("UPDATE plans SET file = ?, applied_run = ?, applied_at = ? WHERE id = ? AND applied_run IS NULL",
                           [.text(file), .text(run), .double(time), .text(id)])
            let by = try db.one("SELECT applied_run FROM plans WHERE id = ?", [.text(id)])?["applied_run"]?.string
            return by == run ? (true, nil) : (false, by)
        }
    }

    /// The run that applied plan `id`, if one did.
    public func appliedRun(plan id: String) throws -> String? {
        try database.read { db in try db.one("SELECT applied_run FROM plans WHERE id = ?", [.text(id)])?["applied_run"]?.string }
    }

    /// The plan file a run applied, if it applied one.
    public func planFile(appliedBy run: String) throws -> String? {
        try database.read { db in try db.one("SELECT file FROM plans WHERE applied_run = ?", [.text(run)])?["file"]?.string }
    }

    // MARK: reading

    /// The newest `limit` runs that pass `filter`, newest first.
    public func runs(limit: Int = 50, where filter: RunFilter = RunFilter()) throws -> [RunRecord] {
        var found: [RunRecord] = []
        try eachRun(pageSize: min(limit, 500), where: filter) { run in
            found.append(run)
            return found.count < limit
        }
        return found
    }

    /// Every run that passes `filter`, newest first, a page at a time (a team's log holds more
    /// than memory should): `body` sees each once, and stops the walk by returning false.
    public func eachRun(pageSize: Int = 500, where filter: RunFilter = RunFilter(), _ body: (RunRecord) throws -> Bool) throws {
        let (conditions, arguments) = filter.conditions
        var after: (startedAt: Double, id: String)?
        while true {
            var sql = conditions, values = arguments
            if let after {
                sql.append("(started_at < ? OR (started_at = ? AND id < ?))")
                values += [.double(after.startedAt), .double(after.startedAt), .text(after.id)]
            }
            let text = "SELECT * FROM runs" + (sql.isEmpty ? "" : " WHERE " + sql.joined(separator: " AND "))
                + " ORDER BY started_at DESC, id DESC LIMIT ?"
            let page = try database.read { db in try db.query(text, values + [SQLValue(pageSize)]) }.map(Self.run)
            for r in page.map(Self.judged) where filter.admits(r) {
                guard try body(r) else { return }
            }
            guard page.count == pageSize, let last = page.last else { return }
            after = (last.startedAt, last.id)
        }
    }

    /// How many calls each run made and how many failed, counted by the database (a run of
    /// 200,000 calls is not read row by row to be counted).
    public func callCounts(runs ids: [String]) throws -> [String: (calls: Int, errors: Int)] {
        var out: [String: (calls: Int, errors: Int)] = [:]
        // In groups: a statement takes at most 32,766 parameters (SQLite), 65,535 (PostgreSQL).
        for start in stride(from: 0, to: ids.count, by: 500) {
            let group = ids[start..<min(start + 500, ids.count)]
            let marks = Array(repeating: "?", count: group.count).joined(separator: ", ")
            let rows = try database.read { db in
                try db.query("""
                    SELECT run_id, COUNT(*) AS calls, SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END) AS errors
                    FROM calls WHERE run_id IN (\(marks)) GROUP BY run_id
                    """, group.map(SQLValue.text))
            }
            for row in rows { out[row.text("run_id")] = (Int(row["calls"]?.int ?? 0), Int(row["errors"]?.int ?? 0)) }
        }
        return out
    }

    public func run(_ id: String) throws -> RunRecord? {
        try database.read { db in try db.one("SELECT * FROM runs WHERE id = ?", [.text(id)]).map(Self.run).map(Self.judged) }
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
        try database.read { db in try db.query("SELECT * FROM calls WHERE run_id = ? ORDER BY seq", [.text(id)]).map(Self.call) }
    }

    public func snapshots(run id: String) throws -> [SnapshotRecord] {
        try database.read { db in
            try db.query("SELECT * FROM snapshots WHERE run_id = ? ORDER BY seq, kind", [.text(id)]).map { row in
                SnapshotRecord(runID: row.text("run_id"), seq: row.integer("seq"), queueID: row.text("queue_id"),
                               kind: SnapshotKind(rawValue: row.text("kind")) ?? .pre, version: row["version"]?.int,
                               document: Self.json(row["document"]?.string) ?? .null)
            }
        }
    }

    private static func json(_ text: String?) -> JSONValue? { text.flatMap { try? JSONValue.parse($0) } }

    static func run(_ row: SQLRow) -> RunRecord {
        RunRecord(id: row.text("id"), script: row.text("script"), scriptSHA256: row.text("script_sha256"), tenant: row.text("tenant"),
                  operatorName: row.text("operator"), args: json(row["args"]?.string) ?? .null, dryRun: row["dry_run"]?.bool ?? false,
                  startedAt: row["started_at"]?.double ?? 0, finishedAt: row["finished_at"]?.double,
                  status: RunStatus(rawValue: row.text("status")) ?? .failed, error: row["error"]?.string,
                  summary: json(row["summary"]?.string), planID: row["plan_id"]?.string,
                  owner: row["pid"]?.int.map { RunOwner(pid: Int32(truncatingIfNeeded: $0), host: row["host"]?.string ?? "") })
    }

    private static func call(_ row: SQLRow) -> CallRecord {
        CallRecord(runID: row.text("run_id"), seq: row.integer("seq"), binding: row.text("binding"), target: row["target"]?.string,
                   args: json(row["args"]?.string) ?? .null, result: json(row["result"]?.string),
                   status: CallStatus(rawValue: row.text("status")) ?? .error, errorCode: row["error_code"]?.string,
                   httpStatus: row["http_status"]?.int.map(Int.init), attempts: row.integer("attempts"), startedAt: row["started_at"]?.double ?? 0,
                   latencyMs: row["latency_ms"]?.double)
    }
}

extension SQLRow {
    /// A NOT NULL text column.
    func text(_ column: String) -> String { self[column]?.string ?? "" }
    /// A NOT NULL integer column.
    func integer(_ column: String) -> Int { Int(self[column]?.int ?? 0) }
}
