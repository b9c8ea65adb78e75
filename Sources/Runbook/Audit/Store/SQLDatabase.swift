import Foundation

/// A value bound to or read from SQL, the same in every backend.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case bool(Bool)

    init(_ v: String?) { self = v.map(SQLValue.text) ?? .null }
    init(_ v: Int?) { self = v.map { .int(Int64($0)) } ?? .null }
    init(_ v: Int64?) { self = v.map(SQLValue.int) ?? .null }
    init(_ v: Int32?) { self = v.map { .int(Int64($0)) } ?? .null }
    init(_ v: Double?) { self = v.map(SQLValue.double) ?? .null }

    var string: String? { if case .text(let s) = self { return s }; return nil }
    var int: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int64(exactly: d.rounded())
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
    var double: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }
    /// SQLite keeps booleans as integers; PostgreSQL as booleans.
    var bool: Bool? {
        switch self {
        case .bool(let b): return b
        case .int(let i): return i != 0
        default: return nil
        }
    }
}

/// One result row, by column name.
public typealias SQLRow = [String: SQLValue]

/// The statements the audit store runs inside one read or transaction. SQL is written with `?`
/// placeholders and the dialect-neutral subset both backends speak (upserts as `ON CONFLICT`).
protocol SQLSession {
    func execute(_ sql: String, _ arguments: [SQLValue]) throws
    func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// How many rows the statement returned, their values unread (`RETURNING`: whether it wrote).
    func count(_ sql: String, _ arguments: [SQLValue]) throws -> Int
}

/// Which SQL a backend speaks, where the two differ (column types in the schema).
enum SQLDialect: Sendable {
    case sqlite, postgres
}

/// A database holding the audit log: SQLite (GRDB) on this machine, or a team's PostgreSQL.
/// Calls are synchronous: the audit trail's ordering guarantees (a pending row committed before
/// its request is sent) are simplest to keep when a write has finished when its call returns.
protocol AuditDatabase: Sendable {
    /// How many rows one INSERT carries: many where a statement is a network round trip
    /// (PostgreSQL), one where a statement is a prepared-once call (SQLite; a statement of n
    /// rows is prepared anew for every n, and costs more per row).
    var rowsPerStatement: Int { get }
    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T
    /// Runs `body` in one transaction: all of it is committed, or none.
    func transaction<T>(_ body: (any SQLSession) throws -> T) throws -> T
    /// Runs one statement, atomic on its own (no BEGIN/COMMIT round trips); its rows (RETURNING).
    func autocommit(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// Runs statements that need no answer between them atomically: all of them, or none.
    func write(_ statements: [SQLStatement]) throws
    /// Runs `first`, then, when it returned a row, `statements`, atomically; when it returned
    /// none (a run lock another run holds), nothing is kept and the answer is false.
    func write(_ statements: [SQLStatement], onlyIf first: SQLStatement) throws -> Bool
}

extension AuditDatabase {
    func write(_ statements: [SQLStatement], onlyIf first: SQLStatement) throws -> Bool {
        try transaction { db in
            guard try db.count(first.sql, first.arguments) > 0 else { return false }
            for s in statements { try db.execute(s.sql, s.arguments) }
            return true
        }
    }
}

/// One statement of a write.
typealias SQLStatement = (sql: String, arguments: [SQLValue])

extension SQLSession {
    func one(_ sql: String, _ arguments: [SQLValue]) throws -> SQLRow? { try query(sql, arguments).first }
}
