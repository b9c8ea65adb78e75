import Foundation
import GRDB
import JSONCore
import SandboxTenant
import SQLiteSupport
import Testing
import TestSupport

@testable import Runbook

/// The audit log's rows and files: abandoned runs, read-only readers, concurrent creation.
@Suite("Audit files and run ownership")
struct AuditFileTests {
    static func record(_ id: String, owner: RunOwner?, startedAt: Double = Date().timeIntervalSince1970) -> RunRecord {
        RunRecord(id: id, script: "t.lua", scriptSHA256: "", tenant: "t", operatorName: "op", args: [], dryRun: false, startedAt: startedAt,
                  finishedAt: nil, status: .running, error: nil, summary: nil, owner: owner)
    }

    /// The pid of a process that has exited (and been reaped).
    static func deadPID() throws -> Int32 {
        let p = try ChildProcess("/bin/true", [])
        p.wait()
        return p.pid
    }

    @Test func aRunWhoseProcessIsGoneIsAbandonedAndFinalizedOnTheNextOpen() throws {
        let dir = try temporaryFolder("audit-owner")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/audit.sqlite"
        let host = RunOwner.current.host
        do {
            let store = try AuditStore(path: path)
            try store.insert(run: Self.record("dead", owner: RunOwner(pid: try Self.deadPID(), host: host)))
            try store.insert(run: Self.record("mine", owner: .current))
            // This process started long after that run did: its pid was reused, the run's process is gone.
            try store.insert(run: Self.record("reused", owner: RunOwner(pid: getpid(), host: host), startedAt: 1_000))
            // pid 1 started before this run: it may be the run's process, so the run is left alone.
            try store.insert(run: Self.record("alive", owner: RunOwner(pid: 1, host: host)))
            try store.insert(run: Self.record("elsewhere", owner: RunOwner(pid: try Self.deadPID(), host: "another-host")))
            try store.insert(run: Self.record("old-row", owner: nil))
            #expect(try store.run("dead")?.status == .abandoned, "read as abandoned before anything finalizes it")
        }
        let reader = try AuditStore(path: path, readOnly: true)
        #expect(try reader.run("dead")?.error?.contains("ended without finishing the run") == true)
        _ = try AuditStore(path: path)  // a writer's open finalizes
        let raw = try AuditStore(path: path, readOnly: true)
        let statuses = Dictionary(uniqueKeysWithValues: try raw.runs().map { ($0.id, $0.status) })
        #expect(statuses == ["dead": .abandoned, "mine": .running, "reused": .abandoned, "alive": .running, "elsewhere": .running, "old-row": .running], "\(statuses)")
        #expect(try raw.run("dead")?.finishedAt != nil)
    }

    /// A run's process killed but not yet reaped by its parent (a zombie) has ended: it writes
    /// nothing more, so its run is abandoned, not `running` until someone reaps it.
    @Test func aKilledProcessNotYetReapedIsGone() throws {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("60"), nil]
        defer { argv.forEach { free($0) } }
        #expect(posix_spawn(&pid, "/bin/sleep", nil, nil, argv, environ) == 0)
        let started = Date().timeIntervalSince1970  // the run starts after its process did
        let owner = RunOwner(pid: pid, host: RunOwner.current.host)
        #expect(!owner.isGone(runStartedAt: started), "alive")
        kill(pid, SIGKILL)
        var zombie = false
        for _ in 0..<10_000 where !zombie {  // until the kernel has ended it (no fixed sleep)
            zombie = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z ") == true
            if !zombie { usleep(1_000) }
        }
        #expect(zombie && owner.isGone(runStartedAt: started), "a zombie has ended")
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(owner.isGone(runStartedAt: started), "reaped")
    }

    @Test func freshLogsCreatedAtTheSameMomentBothOpen() async throws {
        let dir = try temporaryFolder("audit-race")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for round in 0..<12 {
            let path = dir + "/audit-\(round).sqlite"
            let opened = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 { group.addTask { (try? AuditStore(path: path)) != nil } }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(opened == 4, "round \(round): \(opened) of 4 opened")
        }
    }

    @Test func runIDsSortByTimeAndPadEveryField() throws {
        // 2026-02-03 04:05:06 UTC: every field has a leading zero to keep.
        let id = RunbookSession.newRunID(now: Date(timeIntervalSince1970: 1_770_091_506))
        #expect(id.hasPrefix("20260203T040506Z-"), "\(id)")
        let suffix = id.dropFirst("20260203T040506Z-".count)
        #expect(suffix.count == 8 && suffix.allSatisfy(\.isHexDigit), "\(id)")
        #expect(RunbookSession.newRunID(now: Date(timeIntervalSince1970: 1_770_091_506)) != id, "the suffix is random")
        #expect(RunbookSession.newRunID(now: Date(timeIntervalSince1970: 1_800_000_000)).hasPrefix("20270115T080000Z-"))
    }

    /// The log's WAL file stays when the last connection closes (no checkpoint then: a short run's
    /// fsyncs), readers see what is only in it, and SQLite checkpoints it into the file as it grows.
    @Test func theLogKeepsItsWALAtCloseAndCheckpointsItAsItGrows() throws {
        let dir = try temporaryFolder("audit-wal")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/audit.sqlite"
        func size(_ file: String) -> Int { ((try? FileManager.default.attributesOfItem(atPath: file))?[.size] as? Int) ?? -1 }
        do {
            let store = try AuditStore(path: path)
            try store.insert(run: Self.record("first", owner: .current))
            try store.finish(run: "first", status: .succeeded, error: nil, summary: nil, at: 1)
        }
        #expect(size(path + "-wal") > 0, "the WAL stays after the last close")
        #expect(try AuditStore(path: path, readOnly: true).run("first")?.status == .succeeded, "a reader sees the rows only in the WAL")
        // ~12 MiB of rows over 10 opens: twelve times the checkpoint threshold (1 MiB).
        let args = JSONValue.array([.string(String(repeating: "x", count: 30_000))])
        for open in 0..<10 {
            let store = try AuditStore(path: path)
            for i in 0..<40 {
                var run = Self.record("r\(open)-\(i)", owner: .current)
                run.args = args
                try store.insert(run: run)
            }
        }
        #expect(size(path + "-wal") < 2 << 20, "the WAL is checkpointed at 1 MiB: \(size(path + "-wal")) bytes")
        #expect(size(path) > 8 << 20, "the rows reached the database file: \(size(path)) bytes")
        let check = try DatabaseQueue(path: path)
        #expect(try check.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
        #expect(try check.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM runs") } == 401)
    }

    /// A file an older cxrun migrated (no schema version recorded, the newer migrations missing) is
    /// brought up to date at the next open and marked; a file so marked is left as it is.
    @Test func aFileFromAnOlderCxrunIsMigratedAndMarkedAtTheNextOpen() throws {
        let dir = try temporaryFolder("audit-user-version")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/audit.sqlite"
        do {
            let older = try DatabaseQueue(path: path)
            try SQLiteAuditDatabase.migrator.migrate(older, upTo: "v4-leases")
        }
        func state() throws -> (version: Int, index: Bool, applied: Int) {
            let check = try DatabaseQueue(path: path)
            return try check.read { db in
                (try Int.fetchOne(db, sql: "PRAGMA user_version") ?? -1,
                 try Bool.fetchOne(db, sql: "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'runs_running'") ?? false,
                 try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations") ?? -1)
            }
        }
        let upToLeases = (AuditSchema.migrations.firstIndex { $0.name == "v4-leases" } ?? -1) + 1
        #expect(try state() == (0, false, upToLeases))
        _ = try AuditStore(path: path)
        #expect(try state() == (AuditSchema.migrations.count, true, AuditSchema.migrations.count))
        // Marked: the next open trusts the version. With the newest migration undone behind its
        // back, it stays undone; with the version cleared too, the migrator applies it again.
        func undoNewest() throws {
            try DatabaseQueue(path: path).write { db in
                try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v5-running-runs'; DROP INDEX runs_running")
            }
        }
        try undoNewest()
        _ = try AuditStore(path: path)
        #expect(try state() == (AuditSchema.migrations.count, false, AuditSchema.migrations.count - 1), "the migrator did not run")
        try DatabaseQueue(path: path).writeWithoutTransaction { try $0.execute(sql: "PRAGMA user_version = 0") }
        _ = try AuditStore(path: path)
        #expect(try state() == (AuditSchema.migrations.count, true, AuditSchema.migrations.count), "the migrator ran")
    }

    /// The search for abandoned runs at every open reads the running runs only, not the whole log.
    @Test func theSearchForAbandonedRunsAtOpenUsesTheIndexOfRunningRuns() throws {
        let dir = try temporaryFolder("audit-running-index")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/audit.sqlite"
        _ = try AuditStore(path: path)
        let check = try DatabaseQueue(path: path)
        let plan = try check.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * FROM runs WHERE status = 'running'").map { $0["detail"] as String? ?? "" }
        }
        #expect(plan.contains { $0.contains("USING INDEX runs_running") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN runs") && !$0.contains("INDEX") }, "\(plan)")
    }
    /// The audit log and the sandbox tenant's state are each refused as the other, and a database
    /// cxrun did not make as either, before any migration touches them: both kinds name their
    /// first migration "v1", so one went through the other's migrations until one happened to
    /// fail. A log from before the mark is recognized by its tables, and marked.
    @Test func anotherKindOfDatabaseIsRefusedUntouched() async throws {
        let dir = try temporaryFolder("audit-file-kind")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (audit, state, foreign) = (dir + "/audit.sqlite", dir + "/sandbox.sqlite", dir + "/other.sqlite")
        _ = try AuditStore(path: audit)
        let server = try await SandboxServer.start(SandboxConfiguration(databasePath: state))
        await server.stop()
        try await DatabaseQueue(path: foreign).write { try $0.execute(sql: "CREATE TABLE t (x)") }
        // What a file holds (a close may checkpoint its WAL into it: the same rows in other bytes).
        func contents(_ path: String) throws -> [String] {
            var configuration = Configuration()
            configuration.readonly = true
            return try DatabaseQueue(path: path, configuration: configuration).read { db in
                var out = try ["application_id", "user_version", "journal_mode"].map { "\($0) \(try String.fetchOne(db, sql: "PRAGMA \($0)") ?? "")" }
                for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") {
                    out.append("\(table) \(try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(table)\"") ?? -1)")
                }
                return out
            }
        }
        let before = try [audit, state, foreign].map(contents)
        for (path, says) in [(state, "is the sandbox tenant's state, not a cxrun audit log"), (foreign, "is not a cxrun audit log: it holds other tables (t)")] {
            #expect(throws: FileKind.Mismatch.self, "\(path)") { _ = try AuditStore(path: path) }
            do { _ = try AuditStore(path: path, readOnly: true) } catch { #expect("\(error)".contains(says), "\(error)") }
        }
        do {
            _ = try await SandboxServer.start(SandboxConfiguration(databasePath: audit))
            Issue.record("the sandbox tenant opened an audit log")
        } catch {
            #expect("\(error)".contains("is a cxrun audit log, not the sandbox tenant's state"), "\(error)")
        }
        #expect(try [audit, state, foreign].map(contents) == before, "all three untouched (the foreign one not even switched to WAL)")
        // From before the mark: recognized by its tables, marked at the next open.
        try await DatabaseQueue(path: audit).writeWithoutTransaction { try $0.execute(sql: "PRAGMA application_id = 0") }
        _ = try AuditStore(path: audit)
        let marked = try await DatabaseQueue(path: audit).read { try Int.fetchOne($0, sql: "PRAGMA application_id") }
        #expect(marked == Int(FileKind.auditLog.applicationID))
    }

    /// A file where the log's folder goes is named so (it was Foundation's "Error Domain=
    /// NSCocoaErrorDomain Code=516 … UserInfo={…}").
    @Test func aFileWhereTheFolderGoesIsNamedSo() throws {
        let dir = try temporaryFolder("audit-folder-is-a-file")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/.cxrun"))
        do {
            _ = try AuditStore(path: dir + "/.cxrun/audit.sqlite")
            Issue.record("opened a log under a file")
        } catch {
            #expect("\(error)" == "a file named \(dir)/.cxrun is where its folder goes", "\(error)")
        }
    }

    /// A file that is not an SQLite database is named as such (it read "cannot switch the file to
    /// WAL mode"), and is left as it was.
    @Test func aFileThatIsNoDatabaseIsNamedSoAndLeftAlone() throws {
        let dir = try temporaryFolder("audit-not-a-database")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/audit.sqlite"
        let junk = Data((0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) })
        try junk.write(to: URL(fileURLWithPath: path))
        do {
            _ = try AuditStore(path: path)
            Issue.record("opened a file that is no database")
        } catch {
            #expect("\(error)".contains("the file is not an SQLite database"), "\(error)")
        }
        #expect(FileManager.default.contents(atPath: path) == junk, "the file is untouched")
    }
}
