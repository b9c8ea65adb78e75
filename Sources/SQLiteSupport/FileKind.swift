import CSQLiteShim
import GRDB

/// Which of cxrun's SQLite files a file is, by the `application_id` in its header. Both kinds
/// migrate by version number and by GRDB's migration names ("v1" in both): opened as the other
/// kind, a file went through migrations meant for the other, and only luck made the first fail.
public struct FileKind: Sendable, Equatable {
    /// The header's `application_id`.
    public let applicationID: Int32
    /// What the file is, for messages ("a cxrun audit log").
    public let name: String
    /// A table every such file has had since its first migration: a file from before the id was
    /// written is recognized by it.
    public let markerTable: String

    public static let auditLog = FileKind(applicationID: 0x6378_7261, name: "a cxrun audit log", markerTable: "runs")  // "cxra"
    public static let sandboxState = FileKind(applicationID: 0x6378_7374, name: "the sandbox tenant's state", markerTable: "queue")  // "cxst"
    static let all = [auditLog, sandboxState]

    /// The file is another kind, or a database cxrun did not make.
    public struct Mismatch: Error, CustomStringConvertible {
        public var description: String
    }

    /// The header could not be read just now (another process holds the file): tried again.
    struct Busy: Error, CustomStringConvertible {
        var description: String { "the file's kind could not be read (busy)" }
    }

    /// Checks the open file is this kind; marks a fresh one, or one an older cxrun made, as it.
    /// `marking` false (a read-only open) checks only.
    func claim(_ db: Database, path: String, marking: Bool) throws {
        let id = cx_sqlite_application_id(db.sqliteConnection)
        if id == applicationID { return }
        guard id >= 0 else {
            // Not read: no database at all (the open's next step names that), or busy. Marking
            // must not go on unmarked: migrating then left a file another process took for foreign.
            if marking { throw Busy() }
            return
        }
        if let other = Self.all.first(where: { $0.applicationID == id }) {
            throw Mismatch(description: "\(path) is \(other.name), not \(name)")
        }
        guard id == 0 else { throw Mismatch(description: "\(path) is not \(name): it is another program's database (application_id \(id))") }
        // GRDB's table of applied migrations is every kind's (and a migration racing this open may have just made it).
        let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .filter { $0 != "grdb_migrations" }
        if !tables.isEmpty && !tables.contains(markerTable) {
            let shown = tables.prefix(5).joined(separator: ", ") + (tables.count > 5 ? ", …" : "")
            throw Mismatch(description: "\(path) is not \(name): it holds other tables (\(shown))")
        }
        if marking { try db.execute(sql: "PRAGMA application_id = \(applicationID)") }
    }
}
