import Foundation
import GRDB
import SQLiteSupport

/// The audit log in a SQLite file (WAL), through GRDB: the default, one machine.
struct SQLiteAuditDatabase: AuditDatabase {
    /// One connection (a read-only one for readers): see DatabaseFile.openLog.
    private let connection: any DatabaseWriter

    /// Opens (creating and migrating) the file; `readOnly` works on a read-only file and changes nothing.
    init(path: String, readOnly: Bool) throws {
        connection = readOnly ? try DatabaseFile.openReadOnly(path) : try DatabaseFile.openMigrated(path, Self.migrator, with: DatabaseFile.openLog)
    }

    private static var migrator: DatabaseMigrator {
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
        try connection.write { db in try body(Session(db: db)) }
    }

    func autocommit(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        try connection.write { db in try Session(db: db).query(sql, arguments) }
    }

    func write(_ statements: [SQLStatement]) throws {
        try connection.write { db in
            let session = Session(db: db)
            for s in statements { try session.execute(s.sql, s.arguments) }
        }
    }

    private struct Session: SQLSession {
        let db: Database

        func execute(_ sql: String, _ arguments: [SQLValue]) throws {
            try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(arguments.map(\.database)))
        }

        func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
            try Row.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments.map(\.database))).map { row in
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
    fileprivate var database: DatabaseValue {
        switch self {
        case .null: return .null
        case .int(let i): return i.databaseValue
        case .double(let d): return d.databaseValue
        case .text(let s): return s.databaseValue
        case .bool(let b): return b.databaseValue
        }
    }
}
