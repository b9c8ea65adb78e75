import Foundation
import GRDB
import SQLiteSupport

/// The audit log in a SQLite file (WAL), through GRDB: the default, one machine.
struct SQLiteAuditDatabase: AuditDatabase {
    let rowsPerStatement = 1
    /// One connection (a read-only one for readers): see DatabaseFile.openLog.
    private let connection: any DatabaseWriter

    /// Opens (creating and migrating) the file; `readOnly` works on a read-only file and changes nothing.
    init(path: String, readOnly: Bool) throws {
        connection = readOnly ? try DatabaseFile.openReadOnly(path, kind: .auditLog)
            : try DatabaseFile.openMigrated(path, Self.migrator, kind: .auditLog, with: DatabaseFile.openLog)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (name, sql) in AuditSchema.migrations {
            migrator.registerMigration(name) { db in
                for statement in AuditSchema.statements(sql, .sqlite) { try db.execute(sql: statement) }
            }
        }
        return migrator
    }

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try connection.read { db in try body(Session(db: db)) }
    }

    func transaction<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try connection.writeWithoutTransaction { db in try db.immediateTransaction { try body(Session(db: db)) } }
    }

    /// One statement is atomic by itself: no transaction around it.
    func autocommit(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        try connection.writeWithoutTransaction { db in try Session(db: db).query(sql, arguments) }
    }

    func write(_ statements: [SQLStatement]) throws {
        try connection.writeWithoutTransaction { db in
            try db.immediateTransaction {
                let session = Session(db: db)
                for s in statements { try session.execute(s.sql, s.arguments) }
            }
        }
    }

    private struct Session: SQLSession {
        let db: Database

        func execute(_ sql: String, _ arguments: [SQLValue]) throws {
            try db.run(sql, arguments.map { $0.binding })
        }

        func count(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
            try db.run(sql, arguments.map { $0.binding })
        }

        /// GRDB's arguments for a query, given as existentials: its initializer for a sequence of
        /// concrete values maps them through a key path, instantiated at every call and applied
        /// to every value (when every statement went through it, a tenth of a deploy's client CPU).
        private static func arguments(_ values: [SQLValue]) -> StatementArguments {
            var out: [(any DatabaseValueConvertible)?] = []
            out.reserveCapacity(values.count)
            for v in values { out.append(v.convertible) }
            return StatementArguments(out)
        }

        func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
            try Row.fetchAll(db.cachedStatement(sql: sql), arguments: Self.arguments(arguments)).map { row in
                var out: SQLRow = [:]
                for (name, value) in zip(row.columnNames, row.databaseValues) {
                    switch value.storage {
                    case .null: out[name] = .null
                    case .int64(let i): out[name] = .int(i)
                    case .double(let d): out[name] = .double(d)
                    case .string(let s): out[name] = .text(s)
                    case .blob(let b): out[name] = .text(String(decoding: b, as: UTF8.self))
                    }
                }
                return out
            }
        }
    }
}

extension SQLValue {
    fileprivate var binding: SQLiteBinding {
        switch self {
        case .null: return .null
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .text(let s): return .text(s)
        case .bool(let b): return .int(b ? 1 : 0)
        }
    }

    fileprivate var convertible: (any DatabaseValueConvertible)? {
        switch self {
        case .null: return nil
        case .int(let i): return i
        case .double(let d): return d
        case .text(let s): return s
        case .bool(let b): return b
        }
    }
}
