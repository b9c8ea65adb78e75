import CSQLiteShim
import GRDB

/// A value bound to a statement run by `Database.run`.
public enum SQLiteBinding: Sendable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
}

extension Database {
    /// Runs `sql` (prepared once per connection) with `values` bound straight through SQLite's
    /// C API. Hand-written because GRDB's arguments cost ~2,000 instructions a value here (its
    /// generic conversions run unspecialized), several times SQLite's own insert: the audit log
    /// writes a row per binding call. Returns how many rows the statement returned (their values
    /// are not read: for `RETURNING` that only says whether a row was written).
    @discardableResult
    public func run(_ sql: String, _ values: [SQLiteBinding]) throws -> Int {
        let handle = try cachedStatement(sql: sql).sqliteStatement
        sqlite3_reset(handle)
        defer {
            // Reset at once: a statement left stepped would keep its transaction's locks.
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        guard Int(sqlite3_bind_parameter_count(handle)) == values.count else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "\(values.count) values for \(sqlite3_bind_parameter_count(handle)) parameters", sql: sql)
        }
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(handle, index)
            case .int(let n): code = sqlite3_bind_int64(handle, index, n)
            case .double(let d): code = sqlite3_bind_double(handle, index, d)
            case .text(var s):
                code = s.withUTF8 { bytes in
                    guard let base = bytes.baseAddress, !bytes.isEmpty else {
                        return cx_sqlite_bind_text_copy(handle, index, "", 0)  // a null pointer would bind NULL
                    }
                    guard bytes.count <= Int(Int32.max) else { return SQLITE_TOOBIG }
                    return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                        cx_sqlite_bind_text_copy(handle, index, $0, Int32(bytes.count))
                    }
                }
            }
            guard code == SQLITE_OK else { throw error(code, sql) }
        }
        var rows = 0
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_DONE: return rows
            case SQLITE_ROW: rows += 1
            case let code: throw error(code, sql)
            }
        }
    }

    private func error(_ code: Int32, _ sql: String) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(sqliteConnection)), sql: sql)
    }
}
