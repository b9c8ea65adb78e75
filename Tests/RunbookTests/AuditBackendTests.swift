import CXShared
import Crypto
import Foundation
import JSONCore
import Testing
import TestSupport

@testable import Runbook

/// The audit store's guarantees, the same in both backends: a SQLite file and a real
/// PostgreSQL server (started by the tests, in a temporary folder, on a loopback port).
@Suite("Audit store backends")
struct AuditBackendTests {
    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }

        /// A fresh, empty log's location.
        func location() async throws -> String {
            switch self {
            case .sqlite: return try temporaryFolder("audit-backend") + "/audit.sqlite"
            case .postgres: return try await PostgresServer.shared().createDatabase("store")
            }
        }
    }

    static func run(_ id: String, startedAt: Double = 1_790_000_000.25) -> RunRecord {
        RunRecord(id: id, script: "book.lua", scriptSHA256: "abc", tenant: "prod", operatorName: "ana", args: ["k": "v", "n": 2],
                  dryRun: true, startedAt: startedAt, finishedAt: nil, status: .running, error: nil, summary: nil, planID: "plan-1")
    }

    static func call(_ run: String, _ seq: Int, status: CallStatus = .ok) -> CallRecord {
        CallRecord(runID: run, seq: seq, binding: "deploy", target: "q\(seq)", args: ["queue_id": .string("q\(seq)")], result: ["ok": true],
                   status: status, errorCode: nil, httpStatus: 200, attempts: 2, startedAt: 1_790_000_001.5, latencyMs: 12.25)
    }

    static func lease(_ run: String, _ target: String = "queue:q1", pid: Int32 = getpid(), host: String = RunOwner.current.host,
                      now: Double = Date().timeIntervalSince1970) -> LeaseRecord {
        LeaseRecord(tenant: "https://t.example", target: target, runID: run, operatorName: "ana", owner: RunOwner(pid: pid, host: host), since: now,
                    expiresAt: now + 60)
    }

    @Test(arguments: Backend.allCases)
    func rowsReadBackAsWritten(_ backend: Backend) async throws {
        let store = try AuditStore(path: try await backend.location())
        try store.insert(run: Self.run("r1"))
        var pending = Self.call("r1", 1, status: .pending)
        pending.result = nil
        pending.latencyMs = nil
        pending.httpStatus = nil
        let pre = SnapshotRecord(runID: "r1", seq: 1, queueID: "q1", kind: .pre, version: 7, document: ["id": "q1", "version": 7, "x": 1.5])
        try store.insert(calls: [pending], snapshots: [pre])
        #expect(try store.calls(run: "r1") == [pending], "the pending row as committed")
        let done = Self.call("r1", 1)
        let post = SnapshotRecord(runID: "r1", seq: 1, queueID: "q1", kind: .post, version: 8, document: ["id": "q1", "version": 8])
        try store.update(call: done, snapshots: [post])
        try store.insert(calls: [Self.call("r1", 2)])
        #expect(try store.calls(run: "r1") == [done, Self.call("r1", 2)])
        #expect(try store.snapshots(run: "r1") == [post, pre], "ordered by seq, then kind")
        var replaced = pre
        replaced.version = 9
        try store.insert(calls: [], snapshots: [replaced])
        #expect(try store.snapshots(run: "r1").first { $0.kind == .pre }?.version == 9, "a snapshot is replaced, not duplicated")
        try store.finish(run: "r1", status: .succeeded, error: nil, summary: ["calls": 2], at: 1_790_000_009)
        var expected = Self.run("r1")
        expected.status = .succeeded
        expected.finishedAt = 1_790_000_009
        expected.summary = ["calls": 2]
        #expect(try store.run("r1") == expected)
        try store.finish(run: "r1", status: .failed, error: "late", summary: nil, at: 1_790_000_010)
        #expect(try store.run("r1")?.status == .succeeded, "a finished run stays finished")
        try store.insert(run: Self.run("r0", startedAt: 1_780_000_000))
        #expect(try store.runs().map(\.id) == ["r1", "r0"], "newest first")
        #expect(throws: (any Error).self, "a second row for one call is refused") { try store.insert(calls: [Self.call("r1", 2)]) }
    }

    /// Listing and exporting read what the database can count and page: every run once, newest
    /// first, runs started at the same moment included, and each run's calls and failures counted.
    @Test(arguments: Backend.allCases)
    func runsArePagedAndTheirCallsCounted(_ backend: Backend) async throws {
        let store = try AuditStore(path: try await backend.location())
        for (id, at) in [("a", 10.0), ("b", 20.0), ("c", 20.0), ("d", 20.0), ("e", 30.0)] { try store.insert(run: Self.run(id, startedAt: at)) }
        try store.insert(calls: [Self.call("b", 1), Self.call("b", 2, status: .error), Self.call("b", 3, status: .error), Self.call("e", 1)])
        for size in [1, 2, 3, 500] {
            var seen: [String] = []
            try store.eachRun(pageSize: size) { seen.append($0.id); return true }
            #expect(seen == ["e", "d", "c", "b", "a"], "page size \(size): \(seen)")
        }
        #expect(try store.runs(limit: 3).map(\.id) == ["e", "d", "c"])
        let counts = try store.callCounts(runs: ["a", "b", "e"] + (0..<1_200).map { "absent-\($0)" })  // more than one statement's worth
        #expect(counts["b"]?.calls == 2 + 1 && counts["b"]?.errors == 2 && counts["e"]?.calls == 1 && counts["e"]?.errors == 0 && counts["a"] == nil,
                "\(counts)")
    }

    /// A team's history is searched in the database: by operator, tenant, script (any case, its
    /// LIKE characters literal), start, state (abandoned judged from the run's process) and the
    /// target a run wrote.
    @Test(arguments: Backend.allCases)
    func runsAreFilteredInTheDatabase(_ backend: Backend) async throws {
        let store = try AuditStore(path: try await backend.location())
        // Started after this process did (so that, running, it is this process's run, not a reused pid's).
        let base = Date().timeIntervalSince1970
        func add(_ id: String, _ at: Double, operatorName: String = "ana", tenant: String = "prod", script: String = "scripts/Rebalance.lua",
                 status: RunStatus = .succeeded, owner: RunOwner? = nil) throws {
            var r = Self.run(id, startedAt: base + at)
            (r.operatorName, r.tenant, r.script, r.status, r.owner) = (operatorName, tenant, script, status, owner)
            try store.insert(run: r)
        }
        try add("a", 10, operatorName: "bo")
        try add("b", 20, tenant: "staging", script: "100%_sure.lua")
        try add("c", 30, status: .running, owner: .current)
        try add("d", 40, status: .running, owner: RunOwner(pid: try AuditFileTests.deadPID(), host: RunOwner.current.host))
        try add("e", 50, status: .failed)
        try store.insert(calls: [Self.call("e", 1), Self.call("a", 1, status: .error), Self.call("b", 1)])
        func ids(_ filter: RunFilter) throws -> [String] { try store.runs(limit: 10, where: filter).map(\.id) }
        #expect(try ids(RunFilter(operatorName: "bo")) == ["a"])
        #expect(try ids(RunFilter(tenant: "staging")) == ["b"])
        #expect(try ids(RunFilter(script: "rebalance")) == ["e", "d", "c", "a"], "any case")
        #expect(try ids(RunFilter(script: "0%_s")) == ["b"] && ids(RunFilter(script: "%")) == ["b"] && ids(RunFilter(script: "_")) == ["b"],
                "% and _ are literal")
        #expect(try ids(RunFilter(since: base + 30)) == ["e", "d", "c"])
        #expect(try ids(RunFilter(status: .running)) == ["c"] && ids(RunFilter(status: .abandoned)) == ["d"] && ids(RunFilter(status: .failed)) == ["e"])
        #expect(try ids(RunFilter(target: "q1")) == ["e", "b"], "a failed write wrote nothing")
        #expect(try ids(RunFilter(tenant: "prod", since: base + 15, status: .running)) == ["c"])
        #expect(try store.runs(limit: 2, where: RunFilter(script: "rebalance")).map(\.id) == ["e", "d"])
    }

    /// Arguments and results past the per-field cap are kept by size and digest (a 40 MB webhook
    /// payload once went whole into the log, 80 MB with its WAL); snapshots are kept whole.
    @Test(arguments: Backend.allCases)
    func oversizedArgumentsAndResultsAreKeptByDigest(_ backend: Backend) async throws {
        let store = try AuditStore(path: try await backend.location())
        try store.insert(run: Self.run("r1"))
        let big = JSONValue.object(["rows": .array((0..<3_000).map { .string(String(repeating: "x", count: 100) + "\($0)") })])
        let text = big.jsonString()
        #expect(text.utf8.count > AuditStore.maxFieldBytes)
        var call = Self.call("r1", 1)
        call.args = big
        call.result = big
        let doc = SnapshotRecord(runID: "r1", seq: 1, queueID: "q1", kind: .pre, version: 1, document: big)
        try store.insert(calls: [call, Self.call("r1", 2)], snapshots: [doc])
        let rows = try store.calls(run: "r1")
        let digest = Hex.encode(SHA256.hash(data: Array(text.utf8)))
        for field in [rows[0].args, rows[0].result] {
            #expect(field?["sha256"]?.stringValue == digest, "\(String(describing: field))")
            #expect(field?["omitted"]?.stringValue?.hasPrefix("\(text.utf8.count) bytes of JSON") == true)
        }
        #expect(rows[1] == Self.call("r1", 2), "a small row is kept as it was")
        #expect(try store.snapshots(run: "r1").first?.document == big, "a snapshot is kept whole")
    }

    /// The same statements again and again, with NULLs and values taking turns in the same
    /// columns (a driver that caches a statement must not cache its first values' types): every
    /// row reads back as written.
    @Test(arguments: Backend.allCases)
    func repeatedStatementsKeepEveryValue(_ backend: Backend) async throws {
        let store = try AuditStore(path: try await backend.location())
        try store.insert(run: Self.run("r1"))
        var expected: [CallRecord] = []
        for seq in 1...6 {
            var pending = Self.call("r1", seq, status: .pending)
            pending.result = nil
            pending.latencyMs = nil
            pending.httpStatus = nil
            pending.target = seq % 2 == 0 ? nil : "q\(seq)"
            let pre = SnapshotRecord(runID: "r1", seq: seq, queueID: "q\(seq)", kind: .pre, version: seq % 3 == 0 ? nil : Int64(seq),
                                     document: ["id": .string("q\(seq)"), "n": .int(Int64(seq))])
            try store.insert(calls: [pending], snapshots: [pre])
            var done = pending
            done.status = seq % 2 == 0 ? .error : .ok
            done.result = seq % 2 == 0 ? nil : ["version": .int(Int64(seq) * 1_000_000_000_000)]
            done.errorCode = seq % 2 == 0 ? "conflict" : nil
            done.httpStatus = seq % 2 == 0 ? 409 : 200
            done.latencyMs = seq % 3 == 0 ? nil : Double(seq) + 0.125
            try store.update(call: done)
            expected.append(done)
            #expect(try store.calls(run: "r1") == expected, "after call \(seq)")
        }
        #expect(try store.snapshots(run: "r1").map(\.version) == [1, 2, nil, 4, 5, nil])
    }

    @Test(arguments: Backend.allCases)
    func aPlanIsClaimedOnceEvenByStoresRacing(_ backend: Backend) async throws {
        let location = try await backend.location()
        _ = try AuditStore(path: location)
        let winners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<6 {
                group.addTask {
                    let store = try AuditStore(path: location)
                    try store.insert(run: Self.run("apply-\(i)"))
                    return try store.claim(plan: "plan-x", file: "{}", run: "apply-\(i)", at: 1).claimed
                }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(winners == 1)
        let store = try AuditStore(path: location)
        let by = try #require(try store.appliedRun(plan: "plan-x"))
        #expect(try store.claim(plan: "plan-x", file: "{}", run: "later", at: 2) == (false, by))
        #expect(try store.planFile(appliedBy: by) == "{}")
    }

    @Test(arguments: Backend.allCases)
    func aLeaseHasOneHolderAndIsFreedByItsEndExpiryOrDeath(_ backend: Backend) async throws {
        let location = try await backend.location()
        let store = try AuditStore(path: location)
        let now = Date().timeIntervalSince1970
        #expect(try store.acquire(Self.lease("a", now: now), now: now) == nil)
        #expect(try store.acquire(Self.lease("a", now: now), now: now) == nil, "taking it again is a no-op")
        let holder = try #require(try store.acquire(Self.lease("b", now: now), now: now))
        #expect(holder.runID == "a" && holder.holderDescription.contains("run a (operator ana, pid \(getpid())"), "\(holder.holderDescription)")
        #expect(try store.acquire(Self.lease("b", "queue:q2", now: now), now: now) == nil, "another target is free")
        #expect(try store.leases(now: now).map(\.target) == ["queue:q1", "queue:q2"])
        // Renewed, it outlives its first expiry; not renewed, it is free after it.
        #expect(try store.renewLeases(run: "a", until: now + 120) == 1)
        #expect(try store.acquire(Self.lease("b", now: now + 90), now: now + 90)?.runID == "a")
        #expect(try store.acquire(Self.lease("b", now: now + 121), now: now + 121) == nil, "an expired lease is free")
        // A holder whose process is gone (this host) loses it at once.
        let dead = try AuditFileTests.deadPID()
        #expect(try store.acquire(Self.lease("c", "agent:u1", pid: dead, now: now), now: now) == nil)
        #expect(try store.acquire(Self.lease("d", "agent:u1", now: now), now: now) == nil, "the dead holder's lease was taken over")
        // Another host's holder is never judged by pid.
        #expect(try store.acquire(Self.lease("e", "agent:u2", pid: dead, host: "elsewhere", now: now), now: now) == nil)
        #expect(try store.acquire(Self.lease("d", "agent:u2", now: now), now: now)?.runID == "e")
        #expect(try store.releaseLeases(run: "e").map(\.target) == ["agent:u2"])
        #expect(try store.acquire(Self.lease("d", "agent:u2", now: now), now: now) == nil)
        // Many stores (processes, machines) asking at once: one holder.
        let taken = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<6 {
                group.addTask { try AuditStore(path: location).acquire(Self.lease("race-\(i)", "queue:raced", now: now), now: now) == nil }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(taken == 1)
    }

    /// A batch is one statement on PostgreSQL, where no part sees another's rows: an outcome of a
    /// row the same batch inserts, or two outcomes of one row, leave what running them in turn
    /// leaves (the row with its outcome; the last outcome), on both backends.
    @Test(arguments: Backend.allCases)
    func aBatchLeavesWhatItsStatementsInTurnLeave(_ backend: Backend) async throws {
        let store = try AuditStore(path: try await backend.location())
        try store.insert(run: Self.run("r1"))
        var pending = Self.call("r1", 1, status: .pending)
        (pending.result, pending.httpStatus, pending.latencyMs) = (nil, nil, nil)
        try store.insert(calls: [Self.call("r1", 9)])
        var first = Self.call("r1", 9, status: .error)
        (first.errorCode, first.httpStatus) = ("conflict", 409)
        var last = Self.call("r1", 9)
        last.attempts = 5
        var done = Self.call("r1", 1)
        done.result = ["version": 7]
        let image = SnapshotRecord(runID: "r1", seq: 1, queueID: "q1", kind: .pre, version: 6, document: ["id": "q1", "version": 6])
        try store.commit(inserting: [pending, Self.call("r1", 2)], updating: [first, done, last], snapshots: [image])
        #expect(try store.calls(run: "r1") == [done, Self.call("r1", 2), last])
        #expect(try store.snapshots(run: "r1") == [image])
        // Refused as a whole: a row whose seq is taken.
        #expect(throws: (any Error).self) { try store.commit(inserting: [Self.call("r1", 3), Self.call("r1", 2)], updating: [], snapshots: []) }
        #expect(try store.calls(run: "r1").count == 3)
        // Past one statement's parameters, the batch goes as statements in a transaction.
        let many = (100..<2_700).map { Self.call("r1", $0) }
        #expect(many.count * 12 > PostgresAuditDatabase.maxParameters)
        try store.commit(inserting: many, updating: [], snapshots: [])
        #expect(try store.calls(run: "r1").count == 3 + many.count)
    }

    @Test func aBatchIsOneStatementWhoseLastPartFailsWhenTheLockWasNotTaken() {
        let one = PostgresAuditDatabase.combined([("INSERT INTO t VALUES (?)", [.int(1)]), ("UPDATE t SET a = ?", [.int(2)])],
                                                 onlyIf: ("INSERT INTO l VALUES (?) RETURNING x", [.int(0)]))
        #expect(one?.sql == "WITH first AS (INSERT INTO l VALUES (?) RETURNING x), w0 AS (INSERT INTO t VALUES (?)), w1 AS (UPDATE t SET a = ?) "
                + "SELECT 1 / (SELECT count(*) FROM first)")
        #expect(one?.arguments == [.int(0), .int(1), .int(2)])
        let huge = Array(repeating: SQLValue.int(1), count: PostgresAuditDatabase.maxParameters + 1)
        #expect(PostgresAuditDatabase.combined([("X", huge), ("Y", [])], onlyIf: nil) == nil)
    }

    /// A run's first write to a target commits its lease with the pending row; while another
    /// run holds the lease, nothing of it is written (a write waiting has no pending row).
    @Test(arguments: Backend.allCases)
    func aLeaseTakenWithAPendingRowIsAllOrNothing(_ backend: Backend) async throws {
        let location = try await backend.location()
        let store = try AuditStore(path: location)
        let now = Date().timeIntervalSince1970
        // Runs of this process, started now: an open finalizes a run whose process is gone, freeing its leases.
        for run in ["a", "b"] { try store.insert(run: Self.run(run, startedAt: now)) }
        var pending = Self.call("a", 1, status: .pending)
        pending.result = nil
        let pre = SnapshotRecord(runID: "a", seq: 1, queueID: "q1", kind: .pre, version: 3, document: ["id": "q1", "version": 3])
        #expect(try store.commit(inserting: [pending], updating: [], snapshots: [pre], taking: Self.lease("a", now: now), now: now))
        #expect(try store.calls(run: "a") == [pending] && store.snapshots(run: "a") == [pre])
        #expect(try store.leases(now: now).map(\.runID) == ["a"])
        #expect(try store.commit(inserting: [Self.call("a", 2)], updating: [], snapshots: [], taking: Self.lease("a", now: now), now: now),
                "the run's own lease again")
        // A row that cannot be written (its seq is taken) after the lease was taken: the lease goes too.
        #expect(throws: (any Error).self) {
            try store.commit(inserting: [Self.call("a", 1)], updating: [], snapshots: [], taking: Self.lease("a", "queue:q2", now: now), now: now)
        }
        #expect(try store.leases(now: now).map(\.target) == ["queue:q1"] && store.calls(run: "a").count == 2)
        // Held by a: b's row, snapshot and lease are not written.
        let theirs = SnapshotRecord(runID: "b", seq: 1, queueID: "q1", kind: .pre, version: 4, document: ["id": "q1"])
        #expect(try !store.commit(inserting: [Self.call("b", 1, status: .pending)], updating: [], snapshots: [theirs],
                                  taking: Self.lease("b", now: now), now: now))
        #expect(try store.calls(run: "b").isEmpty && store.snapshots(run: "b").isEmpty)
        #expect(try store.leases(now: now).map(\.runID) == ["a"])
        // Expired, it is b's, with b's rows.
        #expect(try store.commit(inserting: [Self.call("b", 1, status: .pending)], updating: [], snapshots: [theirs],
                                 taking: Self.lease("b", now: now + 61), now: now + 61))
        #expect(try store.calls(run: "b").count == 1 && store.leases(now: now + 61).map(\.runID) == ["b"])
        // Many stores at once: one holder, and only its row.
        let won = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<6 {
                group.addTask {
                    let racer = try AuditStore(path: location)
                    try racer.insert(run: Self.run("race-\(i)", startedAt: now))
                    return try racer.commit(inserting: [Self.call("race-\(i)", 1, status: .pending)], updating: [], snapshots: [],
                                            taking: Self.lease("race-\(i)", "queue:raced", now: now), now: now)
                }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(won == 1)
        var rows = 0
        for i in 0..<6 { rows += try store.calls(run: "race-\(i)").count }
        #expect(rows == 1)
    }

    /// A run is rolled back only once it has ended: one of this host's is running while its process
    /// lives; another host's while it renews a lock (each write takes one first, held to the end).
    @Test(arguments: Backend.allCases)
    func aRunStillRunningIsNotRolledBack(_ backend: Backend) async throws {
        let store = try AuditStore(path: try await backend.location())
        let now = Date().timeIntervalSince1970
        func refusal(_ run: String, at time: Double) throws -> BindingError? {
            try Rollback.refusal(of: try #require(try store.run(run)), tenant: "prod", store: store, now: time)
        }
        try store.insert(run: Self.run("here", startedAt: now))
        #expect(try refusal("here", at: now)?.message.contains("is still running (pid \(getpid()) on ") == true)
        #expect(try refusal("here", at: now)?.code == .locked)
        var elsewhere = Self.run("there", startedAt: now)
        elsewhere.owner = RunOwner(pid: 1, host: "elsewhere")
        try store.insert(run: elsewhere)
        #expect(try refusal("there", at: now) == nil, "no lock: it wrote nothing yet, or crashed and its locks expired")
        #expect(try store.acquire(Self.lease("there", pid: 1, host: "elsewhere", now: now), now: now) == nil)
        let live = try #require(try refusal("there", at: now)).message
        #expect(live.contains("is still running on elsewhere (it holds 1 lock, renewed until "), "\(live)")
        #expect(try refusal("there", at: now + 61) == nil, "its lock expired: taken as crashed")
        try store.finish(run: "here", status: .aborted, error: nil, summary: nil, at: now)
        #expect(try refusal("here", at: now) == nil)
    }

    @Test(arguments: Backend.allCases)
    func twoRunsWaitingForEachOthersLeaseAreSeenAsADeadlock(_ backend: Backend) async throws {
        let store = try AuditStore(path: try await backend.location())
        let now = Date().timeIntervalSince1970
        #expect(try store.acquire(Self.lease("r-old", "queue:a", now: now), now: now) == nil)
        #expect(try store.acquire(Self.lease("r-new", "queue:b", now: now), now: now) == nil)
        #expect(try store.wait(run: "r-old", tenant: "https://t.example", target: "queue:b", now: now) == [], "r-new waits for nothing yet")
        #expect(try store.wait(run: "r-new", tenant: "https://t.example", target: "queue:a", now: now) == ["r-old"], "the cycle closes")
        try store.stopWaiting(run: "r-old")
        #expect(try store.wait(run: "r-new", tenant: "https://t.example", target: "queue:a", now: now) == [])
    }

    /// A URL of another scheme was taken as a file path: `mysql://x` made a folder `mysql:` with a
    /// log in it, and the team's shared history never saw the run.
    @Test func aURLOfAnotherSchemeIsRefusedNotTakenForAPath() throws {
        for text in ["mysql://db.example/audit", "postgresql+ssl://db/x", "sqlite://audit.db", "https://db.example/"] {
            #expect(throws: AuditStoreError.self, "\(text)") { try AuditLocation.parse(text, environment: [:]) }
        }
        #expect(try AuditLocation.parse("logs/audit.sqlite", environment: [:]) == .sqlite(path: "logs/audit.sqlite"))
        #expect(try AuditLocation.parse("/var/lib/cxrun/a:b.sqlite", environment: [:]) == .sqlite(path: "/var/lib/cxrun/a:b.sqlite"))
    }

    @Test func aPostgresURLIsParsedAndAPasswordInItRefused() throws {
        let env = ["PGPASSWORD": "pw1", "TEAM_PW": "pw2"]
        guard case .postgres(let p) = try AuditLocation.parse("postgresql://ops@db.example:6543/audit?sslmode=require", environment: env) else {
            Issue.record("not parsed as PostgreSQL")
            return
        }
        #expect(p.host == "db.example" && p.port == 6543 && p.user == "ops" && p.database == "audit" && p.tls == .require && p.password == "pw1")
        guard case .postgres(let q) = try AuditLocation.parse("postgres://ops@db/audit?password_env=TEAM_PW", environment: env) else { return }
        #expect(q.password == "pw2" && q.port == 5432 && q.tls == .prefer)
        #expect(throws: AuditStoreError.self) { try AuditLocation.parse("postgresql://ops:secret@db/audit", environment: env) }
        #expect(throws: AuditStoreError.self) { try AuditLocation.parse("postgresql://ops@db/audit?password_env=UNSET", environment: env) }
        #expect(throws: AuditStoreError.self) { try AuditLocation.parse("postgresql://ops@db/audit?sslmode=bogus", environment: env) }
        #expect(try AuditLocation.parse(".cxrun/audit.sqlite") == .sqlite(path: ".cxrun/audit.sqlite"))
    }

    @Test func anUnreachableServerIsAClearError() throws {
        let port = try PostgresServer.freePort()
        #expect {
            try AuditStore(path: "postgresql://cxrun@127.0.0.1:\(port)/nothing?sslmode=disable")
        } throws: { error in
            "\(error)".hasSuffix("cannot connect to postgresql://cxrun@127.0.0.1:\(port)/nothing?sslmode=disable: connection refused")
        }
    }

    /// sslmode=require against a server without TLS says so, not `sslUnsupported`.
    @Test func requiringTLSOfAServerWithoutItIsAClearError() async throws {
        let location = try await PostgresServer.shared().createDatabase("notls").replacingOccurrences(of: "sslmode=disable", with: "sslmode=require")
        #expect(location.contains("sslmode=require"))
        #expect {
            try AuditStore(path: location)
        } throws: { error in
            "\(error)".hasSuffix(": the server offers no TLS, and sslmode=require asks for it")
        }
    }
}
