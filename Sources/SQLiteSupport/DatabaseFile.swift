import CSQLiteShim
import Foundation
import GRDB

/// How cxrun opens its SQLite files (audit log, sandbox tenant state).
public enum DatabaseFile {
    /// A WAL database pool at `path`, its folder created, for a server's concurrent readers (the
    /// sandbox tenant). Synchronous NORMAL: a commit survives the process being killed (only an
    /// OS crash can lose the newest commits), without an fsync per transaction.
    public static func open(_ path: String, kind: FileKind) throws -> DatabasePool {
        try DatabasePool(path: prepared(path), configuration: configuration(keepingWAL: false, kind: kind, path: path))
    }

    /// A log one process appends to and seldom reads (the audit log): one connection, WAL,
    /// synchronous NORMAL as `open`. The WAL file stays when the process ends and SQLite
    /// checkpoints it as it grows: checkpointing it at every close (fsyncs) and recreating it at
    /// every open (more fsyncs) was a third of a short run's start-up and ending. Copy the file
    /// with its `-wal` (or export it): the newest rows may be only there.
    public static func openLog(_ path: String, kind: FileKind) throws -> DatabaseQueue {
        try DatabaseQueue(path: prepared(path), configuration: configuration(keepingWAL: true, kind: kind, path: path))
    }

    /// Opens with `open` or `openLog` and migrates. Processes creating a fresh file at once race:
    /// switching it to WAL needs a lock SQLite does not wait for, and the loser of the migration
    /// finds the winner's tables (`table already exists`); opening and migrating again then succeeds.
    /// A file whose `user_version` says every migration was applied skips the migrator: reading
    /// GRDB's table of applied migrations was 2% of an empty run's start. Files from before that
    /// (version 0) and files an older cxrun migrated go through the migrator, which sets it.
    /// The file must be of `kind` (its header says so, or its tables do): another is refused
    /// before anything touches it (WAL mode, migrations); one of the kind is marked so.
    public static func openMigrated<Writer: DatabaseWriter>(
        _ path: String, _ migrator: DatabaseMigrator, kind: FileKind, with open: (String, FileKind) throws -> Writer = open
    ) throws -> Writer {
        var attempt = 0
        let version = migrator.migrations.count
        while true {
            do {
                let writer = try open(path, kind)
                let current = try writer.writeWithoutTransaction { db in
                    try kind.claim(db, path: path, marking: true)  // a file of the kind: one header read
                    return cx_sqlite_user_version(db.sqliteConnection)
                }
                guard current != version else { return writer }
                try migrator.migrate(writer)
                // Never lowered: a newer cxrun's file keeps its version.
                if current < version { try writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA user_version = \(version)") } }
                return writer
            } catch let mismatch as FileKind.Mismatch {
                throw mismatch  // no retry makes another kind of file this kind, or a file a folder
            } catch let folder as FolderError {
                throw folder
            } catch {
                attempt += 1
                if attempt >= 10 { throw error }
                usleep(useconds_t(10_000 * attempt))
            }
        }
    }

    /// A connection that only reads and works on a read-only file (and folder); it sees what is
    /// committed, in the WAL file too.
    public static func openReadOnly(_ path: String, kind: FileKind) throws -> any DatabaseWriter {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.read { db in try kind.claim(db, path: path, marking: false) }
        return queue
    }

    /// `path`, its folder created.
    private static func prepared(_ path: String) throws -> String {
        let folder = (path as NSString).deletingLastPathComponent
        guard !folder.isEmpty else { return path }
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            // Foundation's text is a dump ("Error Domain=NSCocoaErrorDomain Code=516 … UserInfo=…").
            var isFolder: ObjCBool = false
            let why = FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && !isFolder.boolValue
                ? "a file named \(folder) is where its folder goes" : "the folder \(folder) cannot be created"
            throw FolderError(description: why)
        }
        return path
    }

    /// The file's folder is not there and cannot be made.
    public struct FolderError: Error, CustomStringConvertible {
        public var description: String
    }

    private static func configuration(keepingWAL: Bool, kind: FileKind, path: String) -> Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // Before WAL mode: switching another program's database to it changes that file.
            try kind.claim(db, path: path, marking: false)
            if keepingWAL {
                // WAL set here, not with GRDB's journalMode: GRDB then also makes sure a WAL file
                // exists through Foundation's URL resource values, a millisecond at every open.
                guard cx_sqlite_use_wal(db.sqliteConnection) == 1 else {
                    // The usual cause: the file is no SQLite database at all (SQLITE_NOTADB).
                    let code = sqlite3_extended_errcode(db.sqliteConnection)
                    let why = code == SQLITE_NOTADB ? "the file is not an SQLite database (or its header is damaged)"
                        : "cannot switch the file to WAL mode (\(String(cString: sqlite3_errstr(code))))"
                    throw DatabaseError(message: why)
                }
                guard cx_sqlite_keep_wal_on_close(db.sqliteConnection) == 0 else {
                    throw DatabaseError(message: "cannot keep the WAL file on close")
                }
                // Checkpoint at 1 MiB, not SQLite's 4: the next process to open reads the whole
                // WAL (0.7 ms more per open at 4 MiB, measured), and a checkpoint is cheap next to
                // the run that wrote that much.
                try db.execute(sql: "PRAGMA wal_autocheckpoint = 250")
            }
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return configuration
    }
}
