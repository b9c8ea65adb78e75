import Foundation
import GRDB

/// How cxrun opens its SQLite files (audit log, sandbox tenant state).
public enum DatabaseFile {
    /// A WAL database pool at `path`, its folder created. Synchronous NORMAL: a commit survives
    /// the process being killed (only an OS crash can lose the newest commits), without an fsync
    /// per transaction.
    public static func open(_ path: String) throws -> DatabasePool {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        return try DatabasePool(path: path, configuration: configuration)
    }

    /// Opens and migrates `path`. Processes creating a fresh file at once race: switching it to
    /// WAL needs a lock SQLite does not wait for, and the loser of the migration finds the
    /// winner's tables (`table already exists`); opening and migrating again then succeeds.
    public static func openMigrated(_ path: String, _ migrator: DatabaseMigrator) throws -> DatabasePool {
        var attempt = 0
        while true {
            do {
                let pool = try open(path)
                try migrator.migrate(pool)
                return pool
            } catch {
                attempt += 1
                if attempt >= 10 { throw error }
                usleep(useconds_t(10_000 * attempt))
            }
        }
    }

    /// A connection that only reads and works on a read-only file (and folder): it writes no
    /// -wal/-shm files, so it sees committed data only.
    public static func openReadOnly(_ path: String) throws -> any DatabaseWriter {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: configuration)
    }
}
