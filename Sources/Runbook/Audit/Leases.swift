import Foundation
import JSONCore

/// A run's lease on one target (a queue or an agent) of one tenant: held from before the run's
/// first write to it until the run ends, renewed while the run lives. A holder that crashed
/// loses its lease when it expires, or at once when its process is seen gone on this host.
public struct LeaseRecord: Sendable, Equatable {
    public var tenant: String
    /// `queue:ID` or `agent:ID`.
    public var target: String
    public var runID: String
    public var operatorName: String
    public var owner: RunOwner
    public var since: Double
    public var expiresAt: Double

    public init(tenant: String, target: String, runID: String, operatorName: String, owner: RunOwner, since: Double, expiresAt: Double) {
        (self.tenant, self.target, self.runID, self.operatorName, self.owner, self.since, self.expiresAt) =
            (tenant, target, runID, operatorName, owner, since, expiresAt)
    }

    /// How a holder is named in errors and `cxrun locks`.
    public var holderDescription: String {
        "run \(runID) (operator \(operatorName), pid \(owner.pid) on \(owner.host), since \(Self.time(since)))"
    }

    /// The lease as one JSON object (`cxrun locks --json`).
    public var exportLine: String {
        JSONValue.object([
            "tenant": .string(tenant), "target": .string(target), "run": .string(runID), "operator": .string(operatorName),
            "host": .string(owner.host), "pid": .int(Int64(owner.pid)), "since": .string(Self.time(since)), "expires": .string(Self.time(expiresAt)),
        ]).jsonString()
    }

    static func time(_ t: Double) -> String {
        let f = ISO8601DateFormatter()
        return f.string(from: Date(timeIntervalSince1970: t.rounded(.down)))
    }
}

extension AuditStore {
    /// Takes the lease on `target` for `lease.runID`, or tells who holds it. One statement when
    /// the lease is free, expired or already this run's (the common case: one round trip); of
    /// two runs asking at once, from any machine, one gets it. A holder whose process is gone
    /// from this host loses the lease at once.
    public func acquire(_ lease: LeaseRecord, now: Double = Date().timeIntervalSince1970) throws -> LeaseRecord? {
        guard try database.autocommit(Self.takeLease, Self.takeArguments(lease, now: now)).isEmpty else { return nil }
        return try database.transaction { db in
            guard let row = try db.one("SELECT * FROM leases WHERE tenant = ? AND target = ?", [.text(lease.tenant), .text(lease.target)]) else {
                try db.execute(Self.insertLease, Self.arguments(lease))
                return nil
            }
            let holder = Self.lease(row)
            guard holder.runID != lease.runID else { return nil }
            guard holder.owner.isGone(runStartedAt: holder.since) else { return holder }
            // Its process is gone (this host): the lease is free now, not when it expires.
            try db.execute("DELETE FROM leases WHERE tenant = ? AND target = ? AND run_id = ?", [.text(lease.tenant), .text(lease.target), .text(holder.runID)])
            try db.execute(Self.insertLease, Self.arguments(lease))
            return nil
        }
    }

    /// Records that `run` waits for `target` (held by another run), and tells whether that
    /// wait closes a cycle of runs each waiting for the next one's lease: a deadlock, which no
    /// wait ends. The cycle's runs, from the holder on, are returned (empty: no deadlock).
    public func wait(run: String, tenant: String, target: String, now: Double = Date().timeIntervalSince1970) throws -> [String] {
        try database.transaction { db in
            try db.execute(
                "INSERT INTO lease_waits (run_id, tenant, target, since) VALUES (?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET tenant = excluded.tenant, target = excluded.target",
                [.text(run), .text(tenant), .text(target), .double(now)])
            var chain: [String] = []
            var wanted = (tenant, target)
            for _ in 0..<64 {
                guard let holder = try db.one("SELECT run_id FROM leases WHERE tenant = ? AND target = ? AND expires_at >= ?",
                                              [.text(wanted.0), .text(wanted.1), .double(now)])?["run_id"]?.string else { return [] }
                if holder == run { return chain }
                guard !chain.contains(holder) else { return [] }
                chain.append(holder)
                guard let next = try db.one("SELECT tenant, target FROM lease_waits WHERE run_id = ?", [.text(holder)]) else { return [] }
                wanted = (next.text("tenant"), next.text("target"))
            }
            return []
        }
    }

    /// `run` no longer waits for a lease.
    public func stopWaiting(run: String) throws {
        try database.transaction { db in try db.execute("DELETE FROM lease_waits WHERE run_id = ?", [.text(run)]) }
    }

    /// Extends every lease of `run` to `expiresAt`; how many it holds.
    @discardableResult
    public func renewLeases(run: String, until expiresAt: Double) throws -> Int {
        try database.autocommit("UPDATE leases SET expires_at = ? WHERE run_id = ? RETURNING target", [.double(expiresAt), .text(run)]).count
    }

    /// Frees every lease of `run`; the leases it held.
    @discardableResult
    public func releaseLeases(run: String) throws -> [LeaseRecord] {
        // One statement: a wait row the run may have left is cleared by LeaseKeeper when its wait ends.
        try database.autocommit("DELETE FROM leases WHERE run_id = ? RETURNING *", [.text(run)]).map(Self.lease).sorted { $0.target < $1.target }
    }

    /// Leases held now (expired ones are not listed).
    public func leases(now: Double = Date().timeIntervalSince1970) throws -> [LeaseRecord] {
        try database.read { db in
            try db.query("SELECT * FROM leases WHERE expires_at >= ? ORDER BY since, target", [.double(now)]).map(Self.lease)
        }
    }

    /// Takes a lease that is free, expired or already the run's, in one statement; returns a row
    /// when taken, none when another run holds it.
    static let takeLease = insertLease + """
         ON CONFLICT (tenant, target) DO UPDATE SET
            since = CASE WHEN leases.run_id = excluded.run_id THEN leases.since ELSE excluded.since END,
            run_id = excluded.run_id, operator = excluded.operator, host = excluded.host, pid = excluded.pid, expires_at = excluded.expires_at
        WHERE leases.run_id = excluded.run_id OR leases.expires_at < ?
        RETURNING run_id
        """
    static func takeArguments(_ lease: LeaseRecord, now: Double) -> [SQLValue] { arguments(lease) + [.double(now)] }

    private static let insertLease = "INSERT INTO leases (tenant, target, run_id, operator, host, pid, since, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

    /// A lease's row, in the order of `insertLease`.
    private static func arguments(_ l: LeaseRecord) -> [SQLValue] {
        [.text(l.tenant), .text(l.target), .text(l.runID), .text(l.operatorName), .text(l.owner.host), SQLValue(l.owner.pid), .double(l.since),
         .double(l.expiresAt)]
    }

    private static func lease(_ row: SQLRow) -> LeaseRecord {
        LeaseRecord(tenant: row.text("tenant"), target: row.text("target"), runID: row.text("run_id"), operatorName: row.text("operator"),
                    owner: RunOwner(pid: Int32(truncatingIfNeeded: row["pid"]?.int ?? 0), host: row.text("host")),
                    since: row["since"]?.double ?? 0, expiresAt: row["expires_at"]?.double ?? 0)
    }
}
