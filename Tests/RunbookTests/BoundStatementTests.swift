import Foundation
import GRDB
import SQLiteSupport
import Testing
import TestSupport

/// `Database.run`, the audit log's writes bound straight through SQLite's C API: every kind of
/// value lands as GRDB would have written it, and a failing statement throws and stays usable.
@Suite("SQLite: statements bound by hand")
struct BoundStatementTests {
    @Test func everyKindOfValueIsStoredAsBound() throws {
        let dir = try temporaryFolder("bound")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try DatabaseQueue(path: dir + "/t.sqlite")
        let long = String(repeating: "ünïcødé ✓ ", count: 10_000)
        try db.write { db in
            try db.execute(sql: "CREATE TABLE t (k INTEGER PRIMARY KEY, i INTEGER, d REAL, s TEXT, n TEXT)")
            try db.run("INSERT INTO t (k, i, d, s, n) VALUES (?, ?, ?, ?, ?)", [.int(1), .int(Int64.min), .double(-2.5), .text("a'b\"c"), .null])
            try db.run("INSERT INTO t (k, i, d, s, n) VALUES (?, ?, ?, ?, ?)", [.int(2), .int(Int64.max), .double(1e300), .text(""), .text(long)])
        }
        let rows = try db.read { db in try Row.fetchAll(db, sql: "SELECT * FROM t ORDER BY k") }
        #expect(rows.count == 2)
        #expect(rows[0]["i"] as Int64? == Int64.min && rows[0]["d"] as Double? == -2.5 && rows[0]["s"] as String? == "a'b\"c")
        #expect(rows[0]["n"] as String? == nil && rows[0].hasNull(atIndex: 4))
        // The empty string is text, not NULL.
        #expect(rows[1]["s"] as String? == "" && !rows[1].hasNull(atIndex: 3))
        #expect(rows[1]["i"] as Int64? == Int64.max && rows[1]["d"] as Double? == 1e300 && rows[1]["n"] as String? == long)
    }

    @Test func aFailingStatementThrowsAndTheNextRunOfItWorks() throws {
        let dir = try temporaryFolder("bound")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let db = try DatabaseQueue(path: dir + "/t.sqlite")
        let insert = "INSERT INTO t (k, s) VALUES (?, ?)"
        try db.write { db in
            try db.execute(sql: "CREATE TABLE t (k INTEGER PRIMARY KEY, s TEXT NOT NULL)")
            try db.run(insert, [.int(1), .text("one")])
            #expect(throws: DatabaseError.self) { try db.run(insert, [.int(1), .text("again")]) }  // the same key
            #expect(throws: DatabaseError.self) { try db.run(insert, [.int(2), .null]) }  // NOT NULL
            #expect(throws: DatabaseError.self) { try db.run(insert, [.int(2)]) }  // a value short
            try db.run(insert, [.int(2), .text("two")])
        }
        #expect(try db.read { db in try String.fetchAll(db, sql: "SELECT s FROM t ORDER BY k") } == ["one", "two"])
        // Nothing of the statement is left holding the file: another connection writes at once.
        let other = try DatabaseQueue(path: dir + "/t.sqlite")
        try other.write { db in try db.execute(sql: "INSERT INTO t (k, s) VALUES (3, 'three')") }
    }
}
