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
}
