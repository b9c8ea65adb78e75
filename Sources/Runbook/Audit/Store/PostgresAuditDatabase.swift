import CXone
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization

/// The audit log in a team's PostgreSQL (postgres-nio): every operator and CI job that points
/// at it shares one history. One connection, used by one operation at a time (the audit trail
/// is written in order anyway); a lost connection is opened again on the next operation, and
/// the operation that lost it fails (so a write whose pending row could not be committed is
/// never sent).
final class PostgresAuditDatabase: AuditDatabase {
    let rowsPerStatement = 256
    let location: AuditLocation.Postgres
    private let configuration: PostgresConnection.Configuration
    private let connection = Mutex<PostgresConnection?>(nil)
    private static let logger = Logger(label: "cxrun.audit", factory: { _ in SwiftLogNoOpLogHandler() })

    init(_ location: AuditLocation.Postgres) throws(AuditStoreError) {
        self.location = location
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch location.tls {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
        } catch {
            throw AuditStoreError("\(location.display): TLS cannot be set up: \(error)")
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password, database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        self.configuration = configuration
        try migrate()
    }

    deinit {
        // A connection must be closed before it is released (postgres-nio asserts it).
        guard let open = connection.withLock({ $0 }), !open.isClosed else { return }
        let closing: EventLoopFuture<Void> = open.close()
        if !closing.eventLoop.inEventLoop { _ = try? closing.blockingResult() }
    }

    /// Applies the migrations this database has not had, under an advisory lock so that two
    /// first runs at once do not both create the tables.
    private func migrate() throws(AuditStoreError) {
        do {
            try transaction { db in
                try db.execute("SELECT pg_advisory_xact_lock(7362100)", [])
                try db.execute("CREATE TABLE IF NOT EXISTS cxrun_migrations (name TEXT PRIMARY KEY NOT NULL)", [])
                let done = Set(try db.query("SELECT name FROM cxrun_migrations", []).compactMap { $0["name"]?.string })
                for (name, sql) in AuditSchema.migrations where !done.contains(name) {
                    for statement in AuditSchema.statements(sql, .postgres) { try db.execute(statement, []) }
                    try db.execute("INSERT INTO cxrun_migrations (name) VALUES (?)", [.text(name)])
                }
            }
        } catch let error as AuditStoreError {
            throw error
        } catch {
            throw AuditStoreError("\(location.display): \(Self.describe(error))")
        }
    }

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try withConnection { try body(Session(connection: $0)) }
    }

    func transaction<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try withConnection { connection in
            let session = Session(connection: connection)
            try session.execute("BEGIN", [])
            do {
                let value = try body(session)
                try session.execute("COMMIT", [])
                return value
            } catch {
                try? session.execute("ROLLBACK", [])
                throw error
            }
        }
    }

    func autocommit(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        try withConnection { try Session(connection: $0).query(sql, arguments) }
    }

    /// One statement (`combined`); past its parameters, all the statements in a transaction,
    /// handed to the connection at once and only then waited for: the event loop sends each as
    /// the last completes, without a wake-up of this thread in between. A failed statement aborts
    /// the transaction, and the server answers its COMMIT by rolling back: nothing of it is kept.
    func write(_ statements: [SQLStatement]) throws {
        guard !statements.isEmpty else { return }
        try withConnection { connection in
            let session = Session(connection: connection)
            if statements.count > 1, let one = Self.combined(statements, onlyIf: nil) { return try session.execute(one.sql, one.arguments) }
            try session.sendAll(statements.count == 1 ? statements : [("BEGIN", [])] + statements + [("COMMIT", [])])
        }
    }

    /// The statements as one: each a data-modifying WITH query, so the batch is one round trip to
    /// the server (postgres-nio sends a statement only once the one before has answered: a
    /// write's commit was six round trips) and atomic on its own, no BEGIN or COMMIT. With
    /// `first`, the statement ends dividing by the rows `first` returned: none (a run lock
    /// another run holds) fails it with SQLSTATE 22012 and nothing of it is kept — plain SQL
    /// has no other way to abort a statement on a condition. Nil where the batch's parameters
    /// are too many for one statement. The store hands over batches whose statements touch no
    /// row twice (`AuditStore.disjoint`): no part of one statement sees another's rows.
    static func combined(_ statements: [SQLStatement], onlyIf first: SQLStatement?) -> SQLStatement? {
        let parameters = statements.reduce(first?.arguments.count ?? 0) { $0 + $1.arguments.count }
        guard parameters <= maxParameters else { return nil }
        var parts: [String] = []
        var arguments: [SQLValue] = []
        arguments.reserveCapacity(parameters)
        if let first {
            parts.append("first AS (\(first.sql))")
            arguments += first.arguments
        }
        for (i, statement) in statements.enumerated() {
            parts.append("w\(i) AS (\(statement.sql))")
            arguments += statement.arguments
        }
        return ("WITH " + parts.joined(separator: ", ") + (first == nil ? " SELECT 1" : " SELECT 1 / (SELECT count(*) FROM first)"), arguments)
    }

    /// Below PostgreSQL's limit of 65,535 parameters a statement, with room to spare.
    static let maxParameters = 30_000

    /// Whether `error` is the division that `combined` makes fail when `first` returned no row.
    static func refusedFirst(_ error: any Error) -> Bool {
        // postgres-nio's future API reports a server's error as PostgresError, its newer one as PSQLError.
        if case .server(let message)? = error as? PostgresError { return message.fields[.sqlState] == "22012" }
        return (error as? PSQLError)?.serverInfo?[.sqlState] == "22012"
    }

    /// One statement (`combined`): one round trip. Past its parameters, a transaction where the
    /// run's thread waits twice: BEGIN and `first` handed to the connection together and `first`'s
    /// answer awaited; then the statements and COMMIT together (or a ROLLBACK).
    func write(_ statements: [SQLStatement], onlyIf first: SQLStatement) throws -> Bool {
        try withConnection { connection in
            let session = Session(connection: connection)
            if let one = Self.combined(statements, onlyIf: first) {
                do { try session.execute(one.sql, one.arguments) } catch where Self.refusedFirst(error) { return false }
                return true
            }
            let begun = session.send("BEGIN", []), taken = session.send(first.sql, first.arguments)
            var failure: (any Error)?
            do { _ = try begun.blockingResult() } catch { failure = error }
            var rows = 0
            do { rows = try taken.blockingResult().rows.count } catch { failure = failure ?? error }
            guard failure == nil, rows > 0 else {
                try? session.execute("ROLLBACK", [])
                if let failure { throw failure }
                return false
            }
            // A failed statement aborts the transaction, and the server answers its COMMIT by
            // rolling back: nothing of it is kept.
            try session.sendAll(statements + [("COMMIT", [])])
            return true
        }
    }

    /// Runs `body` on the open connection (opening it first if there is none or it was lost).
    private func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try connection.withLock { open in
            if open == nil || open?.isClosed == true {
                do {
                    open = try PostgresConnection.connect(
                        on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 1, logger: Self.logger
                    ).blockingResult()
                } catch {
                    throw AuditStoreError("cannot connect to \(location.display): \(Self.describe(error))")
                }
            }
            guard let live = open else { throw AuditStoreError("cannot connect to \(location.display)") }
            do { return try body(live) } catch let error as PSQLError {
                throw AuditStoreError("\(location.display): \(Self.describe(error))")
            }
        }
    }

    /// The server's message for a failed statement (PSQLError's own description hides it).
    static func describe(_ error: any Error) -> String {
        guard let psql = error as? PSQLError else { return "\(error)" }
        if let message = psql.serverInfo?[.message] {
            return "\(message)" + (psql.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        }
        if psql.code == .sslUnsupported { return "the server offers no TLS, and sslmode=require asks for it" }
        if let underlying = psql.underlying { return NetworkFailure.describe(underlying) ?? "\(psql.code): \(underlying)" }
        return "\(psql.code)"
    }

    private struct Session: SQLSession {
        let connection: PostgresConnection

        func execute(_ sql: String, _ arguments: [SQLValue]) throws {
            _ = try run(sql, arguments)
        }

        func count(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
            try run(sql, arguments).rows.count
        }

        func query(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
            try run(sql, arguments).rows.map { row in
                var out: SQLRow = [:]
                for cell in row { out[cell.columnName] = try Self.value(cell) }
                return out
            }
        }

        private func run(_ sql: String, _ arguments: [SQLValue]) throws -> PostgresQueryResult {
            try send(sql, arguments).blockingResult()
        }

        /// Hands every statement to the connection at once, then waits for each; the first
        /// failure, once all have answered.
        func sendAll(_ statements: [SQLStatement]) throws {
            let pending = statements.map { send($0.sql, $0.arguments) }
            var failure: (any Error)?
            for result in pending {
                do { _ = try result.blockingResult() } catch { failure = failure ?? error }
            }
            if let failure { throw failure }
        }

        /// Hands a statement to the connection; its result when it completes.
        func send(_ sql: String, _ arguments: [SQLValue]) -> EventLoopFuture<PostgresQueryResult> {
            connection.query(Self.numbered(sql), arguments.map(\.postgres))
        }

        /// `?` placeholders as PostgreSQL's `$1, $2, …` (the store's SQL has no `?` in literals).
        static func numbered(_ sql: String) -> String {
            var out = ""
            var n = 0
            for ch in sql {
                if ch == "?" {
                    n += 1
                    out += "$\(n)"
                } else {
                    out.append(ch)
                }
            }
            return out
        }

        static func value(_ cell: PostgresCell) throws -> SQLValue {
            guard cell.bytes != nil else { return .null }
            switch cell.dataType {
            case .int2: return .int(Int64(try cell.decode(Int16.self)))
            case .int4: return .int(Int64(try cell.decode(Int32.self)))
            case .int8: return .int(try cell.decode(Int64.self))
            case .float4, .float8, .numeric: return .double(try cell.decode(Double.self))
            case .bool: return .bool(try cell.decode(Bool.self))
            default: return .text(try cell.decode(String.self))
            }
        }
    }
}

extension SQLValue {
    fileprivate var postgres: PostgresData {
        switch self {
        case .null: return .null
        case .int(let i): return PostgresData(int64: i)
        case .double(let d): return PostgresData(double: d)
        case .text(let s): return PostgresData(string: s)
        case .bool(let b): return PostgresData(bool: b)
        }
    }
}
