import Foundation
import GRDB
import JSONCore
import SQLiteSupport
import Synchronization

/// The tenant's state in SQLite (WAL): queues, skills, users, tokens, webhook deliveries.
/// Every queue write is one transaction that checks and bumps `version`.
final class TenantStore: Sendable {
    let pool: DatabasePool

    private let queueCount: Int
    private let agentCount: Int
    private let clock: SimClock
    /// Tokens already read from the file. A token row never changes once written and is deleted
    /// only a day after it expired, so a remembered one is still right; every API request asks
    /// (a read transaction each, a quarter of the tenant's CPU per request).
    private let knownTokens = Mutex<[String: TokenRecord]>([:])

    /// What a bearer token grants, until when.
    typealias TokenRecord = (clientID: String, scopes: Set<String>, expiresAt: Double)

    init(path: String, seed: UInt64, queueCount: Int = 48, agentCount: Int = 480, clock: SimClock = SimClock()) throws {
        self.queueCount = queueCount
        self.agentCount = agentCount
        self.clock = clock
        pool = try DatabaseFile.openMigrated(path, Self.migrator, kind: .sandboxState)
        try reset(seed: seed, onlyIfEmpty: true)
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "queue") { t in
                t.primaryKey("id", .text)
                t.column("position", .integer).notNull()
                t.column("version", .integer).notNull()
                t.column("document", .text).notNull()
            }
            try db.create(table: "skill") { t in
                t.primaryKey("id", .text)
                t.column("position", .integer).notNull()
                t.column("document", .text).notNull()
            }
            try db.create(table: "user") { t in
                t.primaryKey("id", .text)
                t.column("position", .integer).notNull()
                t.column("document", .text).notNull()
            }
            try db.create(table: "token") { t in
                t.primaryKey("token", .text)
                t.column("clientId", .text).notNull()
                t.column("scopes", .text).notNull()
                t.column("expiresAt", .double).notNull()
            }
            try db.create(table: "delivery") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("document", .text).notNull()
            }
            try db.create(table: "meta") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
        }
        // Pages read in seeded order: an index keeps a page of 50,000 rows from sorting them all.
        migrator.registerMigration("v2-position-index") { db in
            try db.create(index: "queue_position", on: "queue", columns: ["position"])
            try db.create(index: "user_position", on: "user", columns: ["position"])
        }
        // Which queues overflow into a queue, without reading every document on each write.
        migrator.registerMigration("v3-overflow-index") { db in
            try db.execute(sql: "CREATE INDEX queue_overflow_target ON queue (json_extract(document, '$.overflow.targetQueueId'))")
        }
        // Wrap-ups due to settle are looked up on every read of users: by this index, not by
        // reading every document (50,000 agents made each page of a listing read them all).
        migrator.registerMigration("v4-due-wrapup-index") { db in
            try db.execute(sql: """
                CREATE INDEX user_due_wrapup ON user (json_extract(document, '$.wrapUpUntil'))
                WHERE json_extract(document, '$.autoAvailable') = 1
                """)
        }
        // A queue's document holds its version (the column mirrors it for the If-Match check), so
        // a read serves the stored text as it is.
        migrator.registerMigration("v5-version-in-document") { db in
            try db.execute(sql: "UPDATE queue SET document = json_set(document, '$.version', version)")
        }
        return migrator
    }

    /// Replaces all tenant data with the seeded demo data (tokens are kept).
    /// With `onlyIfEmpty`, seeds a fresh file and leaves one with data alone — decided inside the
    /// write transaction, so a second process opening the same file never wipes the first's work.
    func reset(seed: UInt64, onlyIfEmpty: Bool = false) throws {
        let now = clock.seconds
        try pool.writeWithoutTransaction { db in try db.inTransaction(.immediate) {
            if onlyIfEmpty, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM queue") ?? 0 > 0 { return .commit }
            let data = DemoData.generate(seed: seed, queueCount: queueCount, userCount: agentCount)
            for table in ["queue", "skill", "user", "delivery"] { try db.execute(sql: "DELETE FROM \(table)") }
            for (i, queue) in data.queues.enumerated() {
                try db.execute(
                    sql: "INSERT INTO queue (id, position, version, document) VALUES (?, ?, 1, ?)",
                    arguments: [queue["id"]?.stringValue, i, queue.setting(.int(1), at: ["version"]).jsonString()])
            }
            for (i, skill) in data.skills.enumerated() {
                try db.execute(sql: "INSERT INTO skill (id, position, document) VALUES (?, ?, ?)",
                               arguments: [skill["id"]?.stringValue, i, skill.jsonString()])
            }
            for (i, user) in data.users.enumerated() {
                // Wrap-up offsets become absolute times at seeding.
                let offset = user["wrapUpSeconds"]?.intValue ?? 0
                var fields = user.objectValue ?? [:]
                fields["wrapUpSeconds"] = nil
                fields["wrapUpUntil"] = offset > 0 ? .double(now + Double(offset)) : .null
                try db.execute(sql: "INSERT INTO user (id, position, document) VALUES (?, ?, ?)",
                               arguments: [user["id"]?.stringValue, i, JSONValue.object(fields).jsonString()])
            }
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('seed', ?)", arguments: [String(seed)])
            return .commit
        } }
    }

    // MARK: queues

    private static func queueDocument(_ row: Row) -> JSONValue {
        (try? JSONValue.parse(row["document"] as String)) ?? .object([:])
    }

    /// A queue's document as stored (its version inside): a GET serves it without parsing and
    /// writing it again, which were a third of a GET's CPU.
    func queueJSON(_ id: String) throws -> String? {
        // One statement reads one snapshot: no read transaction around it. On the writer's
        // connection: the tenant is served by one thread, and taking a reader from the pool was
        // an eighth of its CPU in a run of fetches and deploys (685 → 592 ms, perf stat).
        try pool.writeWithoutTransaction { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT document FROM queue WHERE id = ?"), arguments: [id])
        }
    }

    /// All queues in seeded order.
    func allQueues() throws -> [JSONValue] {
        try pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT document FROM queue ORDER BY position")).map(Self.queueDocument)
        }
    }

    /// The queues with these ids, in seeded order.
    func queues(ids: Set<String>) throws -> [JSONValue] {
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
        return try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT document FROM queue WHERE id IN (\(marks)) ORDER BY position",
                             arguments: StatementArguments(Array(ids))).map(Self.queueDocument)
        }
    }

    /// The users serving any of these queues.
    func users(servingAnyOf ids: Set<String>) throws -> [JSONValue] {
        try settleWrapUps()
        let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
        return try pool.read { db in
            try String.fetchAll(db, sql: "SELECT document FROM user WHERE EXISTS (SELECT 1 FROM json_each(document, '$.queueIds') WHERE value IN (\(marks))) ORDER BY position",
                                arguments: StatementArguments(Array(ids))).compactMap { try? JSONValue.parse($0) }
        }
    }

    /// A page of queue documents as stored (served as they are) and the number of queues.
    func queuePage(offset: Int, limit: Int) throws -> (items: [String], total: Int) {
        try pool.read { db in
            let total = try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM queue")) ?? 0
            return (try String.fetchAll(db.cachedStatement(sql: Self.pageByPosition("document", from: "queue")), arguments: [offset, limit]), total)
        }
    }

    /// How a write's expected version is given.
    enum Precondition: Sendable {
        case none
        case version(Int64)
    }

    /// What a write does to a queue.
    enum QueueEdit: Sendable {
        /// Replaces the whole document (PUT): the current one is not read.
        case replace(JSONValue)
        /// Computes the new document from the current one (PATCH, edits by the control plane and faults).
        case transform(@Sendable (JSONValue) -> JSONValue)
    }

    /// Writes a queue in one transaction: checks the version, validates, bumps the version.
    /// Returns the stored document (its new version inside) as JSON text.
    func writeQueue(_ id: String, precondition: Precondition, edit: QueueEdit) throws(StoreError) -> String {
        do {
            return try pool.writeWithoutTransaction { db in try db.immediateTransaction { () throws -> String in
                guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT version, document FROM queue WHERE id = ?"), arguments: [id]) else {
                    throw StoreError.notFound(id)
                }
                let version: Int64 = row["version"]
                if case .version(let expected) = precondition, expected != version {
                    throw StoreError.conflict(current: version)
                }
                let proposed: JSONValue
                switch edit {
                case .replace(let document): proposed = document
                case .transform(let change): proposed = change(Self.queueDocument(row))
                }
                // The server owns id and version: whatever the body says about them is ignored.
                var fields = proposed.objectValue ?? [:]
                fields["id"] = .string(id)
                fields["version"] = nil
                let next = JSONValue.object(fields)
                // Statements prepared once per connection: a write asks these for every skill and
                // every link of its overflow chain (prepared anew each time, a third of a PUT's CPU).
                var validation = QueueValidation(queueID: id) { target in
                    ((try? Int.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM queue WHERE id = ?"), arguments: [target])) ?? nil) != nil
                }
                validation.skillExists = { skill in
                    ((try? Int.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM skill WHERE id = ?"), arguments: [skill])) ?? nil) != nil
                }
                // The stored graph, read in this transaction (the queue being written counts as its new self).
                validation.overflowTarget = { queue in
                    guard queue != id else { return nil }
                    return (try? String.fetchOne(db.cachedStatement(sql: Self.overflowTargetQuery), arguments: [queue])) ?? nil
                }
                validation.overflowInto = { queue in
                    ((try? String.fetchAll(db.cachedStatement(sql: Self.overflowIntoQuery), arguments: [queue])) ?? []).filter { $0 != id }
                }
                let errors = validation.validate(next)
                if !errors.isEmpty { throw StoreError.invalid(errors) }
                fields["version"] = .int(version + 1)
                let stored = JSONValue.object(fields).jsonString()
                try db.cachedStatement(sql: "UPDATE queue SET version = ?, document = ? WHERE id = ?")
                    .execute(arguments: [version + 1, stored, id])
                return stored
            } }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .database("\(error)")
        }
    }

    // MARK: skills and users

    /// A page of skill documents as stored (served as they are) and the number of skills.
    func skillPage(offset: Int, limit: Int) throws -> (items: [String], total: Int) {
        try pool.read { db in
            let total = try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM skill")) ?? 0
            return (try String.fetchAll(db.cachedStatement(sql: Self.pageByPosition("document", from: "skill")), arguments: [offset, limit]), total)
        }
    }

    /// An enabled routeToQueue overflow link, in SQL.
    private static let overflowTargetQuery = "SELECT json_extract(document, '$.overflow.targetQueueId') FROM queue WHERE id = ? AND " + activeLink
    private static let overflowIntoQuery = "SELECT id FROM queue WHERE json_extract(document, '$.overflow.targetQueueId') = ? AND " + activeLink
    static let activeLink = "json_extract(document, '$.overflow.action') = 'routeToQueue' AND coalesce(json_extract(document, '$.overflow.enabled'), 1) != 0"

    /// A page of users, optionally those serving `queueID` and/or in `status` (any case).
    func userPage(queueID: String?, status: String?, offset: Int, limit: Int) throws -> (items: [JSONValue], total: Int) {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let queueID {
            conditions.append("EXISTS (SELECT 1 FROM json_each(document, '$.queueIds') WHERE value = ?)")
            arguments.append(queueID)
        }
        if let status {
            conditions.append("lower(json_extract(document, '$.status')) = lower(?)")
            arguments.append(status)
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        try settleWrapUps()
        return try pool.read { db in
            guard !conditions.isEmpty else {
                let total = try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM user")) ?? 0
                let docs = try String.fetchAll(db.cachedStatement(sql: Self.pageByPosition("document", from: "user")), arguments: [offset, limit])
                return (docs.compactMap { try? JSONValue.parse($0) }, total)
            }
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM user" + filter, arguments: StatementArguments(arguments)) ?? 0
            let docs = try String.fetchAll(db, sql: "SELECT document FROM user\(filter) ORDER BY position LIMIT ? OFFSET ?",
                                           arguments: StatementArguments(arguments + [limit, offset]))
            return (docs.compactMap { try? JSONValue.parse($0) }, total)
        }
    }

    /// An unfiltered page of `table` by position: rows are only ever inserted by seeding, at
    /// positions 0..n-1 in order, so the page at `offset` starts at that position. An OFFSET
    /// walked every row before the page: listing 50,000 agents page by page was quadratic, and
    /// a third of the tenant's CPU went to skipping rows.
    static func pageByPosition(_ columns: String, from table: String) -> String {
        "SELECT \(columns) FROM \(table) WHERE position >= ? ORDER BY position LIMIT ?"
    }

    func allUsers() throws -> [JSONValue] {
        try settleWrapUps()
        return try pool.read { db in
            try String.fetchAll(db, sql: "SELECT document FROM user ORDER BY position").compactMap { try? JSONValue.parse($0) }
        }
    }

    func user(_ id: String) throws -> JSONValue? {
        try settleWrapUps()
        return try pool.read { db in
            try String.fetchOne(db.cachedStatement(sql: "SELECT document FROM user WHERE id = ?"), arguments: [id]).flatMap { try? JSONValue.parse($0) }
        }
    }

    /// Users whose wrap-up has ended and who asked to be made available after it (`autoAvailable`).
    private static let dueWrapUps = """
        SELECT id, document FROM user WHERE json_extract(document, '$.autoAvailable') = 1
        AND json_extract(document, '$.wrapUpUntil') <= ?
        """

    /// Makes Available, as of the moment their wrap-up ended on the tenant's clock, the users who
    /// asked for it. Every read or change of users runs it first, so every view of them (lists
    /// filtered by status, analytics' staffing) agrees; a write only when one is due.
    private func settleWrapUps() throws {
        let now = clock.seconds
        guard try pool.read({ db in try Row.fetchOne(db.cachedStatement(sql: Self.dueWrapUps), arguments: [now]) }) != nil else { return }
        try pool.write { db in
            for row in try Row.fetchAll(db.cachedStatement(sql: Self.dueWrapUps), arguments: [now]) {
                guard let doc = try? JSONValue.parse(row["document"] as String), var fields = doc.objectValue else { continue }
                fields["previousStatus"] = fields["status"] ?? .null
                fields["status"] = "Available"
                fields["pauseReason"] = .null
                fields["statusUpdatedAt"] = fields["wrapUpUntil"] ?? .double(now)
                fields["wrapUpUntil"] = .null
                fields["autoAvailable"] = false
                try db.execute(sql: "UPDATE user SET document = ? WHERE id = ?", arguments: [JSONValue.object(fields).jsonString(), row["id"] as String])
            }
        }
    }

    /// Changes a user in one transaction. Errors `transform` throws pass through unchanged;
    /// an unknown user is `StoreError.notFound`.
    func updateUser(_ id: String, _ transform: @Sendable (JSONValue) throws -> JSONValue) throws -> JSONValue {
        try settleWrapUps()
        return try pool.write { db -> JSONValue in
            guard let text = try String.fetchOne(db.cachedStatement(sql: "SELECT document FROM user WHERE id = ?"), arguments: [id]),
                let current = try? JSONValue.parse(text)
            else { throw StoreError.notFound(id) }
            let next = try transform(current)
            try db.cachedStatement(sql: "UPDATE user SET document = ? WHERE id = ?").execute(arguments: [next.jsonString(), id])
            return next
        }
    }

    // MARK: tokens and deliveries

    func saveToken(_ token: String, clientID: String, scopes: [String], expiresAt: Double) throws {
        let forgotten = Date().timeIntervalSince1970 - 86_400
        knownTokens.withLock { $0 = $0.filter { $0.value.expiresAt >= forgotten } }
        try pool.write { db in
            try db.execute(sql: "DELETE FROM token WHERE expiresAt < ?", arguments: [forgotten])
            try db.execute(
                sql: "INSERT INTO token (token, clientId, scopes, expiresAt) VALUES (?, ?, ?, ?)",
                arguments: [token, clientID, scopes.joined(separator: " "), expiresAt])
        }
    }

    func token(_ token: String) throws -> TokenRecord? {
        if let known = knownTokens.withLock({ $0[token] }) { return known }
        // Tokens issued by another process sharing this file are found here on first use.
        let record: TokenRecord? = try pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT clientId, scopes, expiresAt FROM token WHERE token = ?"), arguments: [token]).map { row in
                (row["clientId"], Set((row["scopes"] as String).pieces(separatedBy: UInt8(ascii: " "))), row["expiresAt"])
            }
        }
        if let record { knownTokens.withLock { $0[token] = record } }
        return record
    }

    func addDelivery(_ document: JSONValue) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO delivery (document) VALUES (?)", arguments: [document.jsonString()])
            try db.execute(sql: "DELETE FROM delivery WHERE seq <= last_insert_rowid() - ?", arguments: [Self.deliveriesKept])
        }
    }

    /// Webhook deliveries the sink keeps (the most recent).
    static let deliveriesKept = 1_000

    func deliveries() throws -> [JSONValue] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT document FROM delivery ORDER BY seq").compactMap { try? JSONValue.parse($0) }
        }
    }
}
