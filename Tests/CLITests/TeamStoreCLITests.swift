import Foundation
import JSONCore
import Testing
import TestSupport

/// Two operators in two folders (standing in for two machines) share one PostgreSQL audit store
/// and one tenant: each sees and rolls back the other's runs, applies the other's plan, and
/// their runs never write the same queue at once.
@Suite("Team: two operators, one PostgreSQL")
struct TeamStoreCLITests {
    struct Team {
        let sim: ChildProcess
        let url: String
        let a: URL
        let b: URL
        let database: String
        var envA: [String: String] { ["OPS_SECRET": "S3cret-From-Env-4321", "CXRUN_AUDIT_KEY": "team-key-77", "USER": "ana"] }
        var envB: [String: String] { ["OPS_SECRET": "S3cret-From-Env-4321", "CXRUN_AUDIT_KEY": "team-key-77", "USER": "ben"] }

        static func start(_ scripts: [String: String]) async throws -> Team {
            let server = try await PostgresServer.shared()
            let url = try await server.createDatabase("team")
            let a = try scriptFolder(scripts), b = try scriptFolder(scripts)
            let (sim, baseURL) = try await startSim(in: a)
            let config = "[tenants.ops]\nbase_url = \"\(baseURL)\"\nclient_id = \"ops\"\nclient_secret_env = \"OPS_SECRET\"\n[audit]\nurl = \"\(url)\"\n"
            for dir in [a, b] { try config.write(to: dir.appendingPathComponent("cxrun.toml"), atomically: true, encoding: .utf8) }
            let database = String(url.split(separator: "/").last!.split(separator: "?").first!)
            return Team(sim: sim, url: url, a: a, b: b, database: database)
        }

        func runs(in dir: URL, env: [String: String]) async throws -> [JSONValue] {
            let r = try await runCLI(["audit", "runs", "--json"], in: dir, environment: env)
            return r.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        }

        func sql(_ statement: String) async throws -> String {
            try await PostgresServer.shared().sql(statement, database: database).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    static let secretBook = """
        local q = fetch(queues()[1].id)
        deploy(q.id, build(q, {maxWaiters = 77, integration = {apiToken = cx.args.token}}))
        print(q.id)
        """
    static let readBook = """
        local q = fetch(cx.args.id)
        print(q.maxWaiters, q.integration and q.integration.apiToken)
        """

    @Test func eachSeesRollsBackAndAppliesTheOthersWork() async throws {
        let team = try await Team.start(["book.lua": Self.secretBook, "read.lua": Self.readBook])
        defer { team.sim.terminate() }
        let first = try await runCLI(["run", "book.lua", "--", "token=tok-OLD-1"], in: team.a, environment: team.envA)
        #expect(first.status == 0, "\(first.stderr)")
        let id = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let second = try await runCLI(["run", "book.lua", "--", "token=tok-NEW-2"], in: team.a, environment: team.envA)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(!FileManager.default.fileExists(atPath: team.a.appendingPathComponent(".cxrun/audit.sqlite").path), "no local audit file")

        // Ben, in his own folder, sees Ana's runs and rolls back her latest.
        let seen = try await team.runs(in: team.b, env: team.envB)
        #expect(seen.count == 2 && seen.allSatisfy { $0["operator"] == "ana" && $0["status"] == "succeeded" }, "\(seen)")
        // And on which machine, by which process: a team's log holds many machines' runs.
        let host = ProcessInfo.processInfo.hostName
        #expect(seen.allSatisfy { $0["host"]?.stringValue == host && ($0["pid"]?.intValue ?? 0) > 0 }, "\(seen)")
        let anaLatest = try #require(seen.first?["id"]?.stringValue)
        let shown = try await runCLI(["audit", "show", anaLatest], in: team.b, environment: team.envB)
        #expect(shown.status == 0 && shown.stdout.contains("deploy"), "\(shown.stdout) \(shown.stderr)")
        #expect(shown.stdout.contains("operator ana on \(host) (pid "), "\(shown.stdout)")
        let rollback = try await runCLI(["rollback", "--run", anaLatest], in: team.b, environment: team.envB)
        #expect(rollback.status == 0, "\(rollback.stdout) \(rollback.stderr)")
        let read = try await runCLI(["run", "read.lua", "--", "id=\(id)"], in: team.b, environment: team.envB)
        #expect(read.stdout == "77\ttok-OLD-1\n", "the team key opens Ana's sealed token in Ben's folder: \(read.stdout) \(read.stderr)")
        let stored = try await team.sql("SELECT string_agg(document, '') FROM snapshots")
        #expect(!stored.contains("tok-"), "no token in clear in the shared store")

        // Ana sees Ben's rollback; Ben applies a plan Ana made.
        let afterRollback = try await team.runs(in: team.a, env: team.envA)
        #expect(afterRollback.contains { $0["operator"] == "ben" && ($0["script"]?.stringValue ?? "").hasPrefix("cxrun rollback --run \(anaLatest)") },
                "\(afterRollback)")
        let plan = try await runCLI(["plan", "book.lua", "--out", "team.plan.json", "--", "token=tok-PLAN-3"], in: team.a, environment: team.envA)
        #expect(plan.status == 0, "\(plan.stderr)")
        let planShown = try await runCLI(["show", team.a.appendingPathComponent("team.plan.json").path], in: team.b, environment: team.envB)
        #expect(planShown.stdout.contains("\n  audit:   postgresql://127.0.0.1:"), "the plan says where it is applied: \(planShown.stdout)")
        // Applied with a local log instead (a shell without the team's settings), the apply would
        // be missing from the team's history and the once-only check could not see it: refused.
        let local = try await runCLI(["apply", team.a.appendingPathComponent("team.plan.json").path, "--audit-db", "local.sqlite"], in: team.b,
                                     environment: team.envB)
        #expect(local.status == 2 && local.stderr.contains("the plan was made with the team's audit log postgresql://127.0.0.1:"), "\(local.stderr)")
        let apply = try await runCLI(["apply", team.a.appendingPathComponent("team.plan.json").path], in: team.b, environment: team.envB)
        #expect(apply.status == 0, "\(apply.stdout) \(apply.stderr)")
        let again = try await runCLI(["apply", team.a.appendingPathComponent("team.plan.json").path], in: team.a, environment: team.envA)
        #expect(again.status != 0 && again.stderr.contains("has been applied"), "one apply per plan, across folders: \(again.stderr)")
        let applied = try await runCLI(["run", "read.lua", "--", "id=\(id)"], in: team.a, environment: team.envA)
        #expect(applied.stdout == "77\ttok-PLAN-3\n", "\(applied.stdout) \(applied.stderr)")
    }

    /// `cxrun repl` driven through a pipe: it holds its locks until its input ends.
    final class Session {
        let process: ChildProcess
        let outPath: String

        init(in dir: URL, environment: [String: String]) throws {
            outPath = try temporaryFolder("repl") + "/out"
            process = try ChildProcess(cxrunBinary, ["repl"], directory: dir.path,
                                       environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
                                       stdin: .pipe, stdout: .file(outPath), stderr: .stdout)
        }

        func send(_ line: String) { process.stdin?.write(Data((line + "\n").utf8)) }
        var output: String { (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "" }
        func end() { try? process.stdin?.close() }
    }

    /// Waits (bounded) for `condition`; false when it never held.
    static func eventually(_ what: String, _ condition: () async throws -> Bool) async throws -> Bool {
        if try await TestSupport.eventually(within: .seconds(60), poll: .milliseconds(100), condition) { return true }
        Issue.record("never: \(what)")
        return false
    }

    @Test func aSecondRunWaitsForTheFirstsQueueOrFailsNamingItsHolder() async throws {
        let team = try await Team.start(["touch.lua": """
            local q = fetch(queues()[1].id)
            deploy(q.id, build(q, {maxWaiters = (q.maxWaiters or 10) + 1}))
            print("touched")
            """])
        defer { team.sim.terminate() }
        let holder = try Session(in: team.a, environment: team.envA)
        defer { holder.process.terminate() }
        holder.send("q = fetch(queues()[1].id)")
        holder.send("deploy(q.id, build(q, {maxWaiters = 5}))")
        holder.send("print('held')")
        guard try await Self.eventually("the first run holds its lock", { holder.output.contains("held") }) else { return }
        let locks = try await runCLI(["locks", "--json"], in: team.b, environment: team.envB)
        let lease = try #require(locks.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }.first, "\(locks.stdout) \(locks.stderr)")
        #expect(lease["operator"] == "ana" && lease["pid"]?.intValue == Int64(holder.process.pid), "\(lease)")
        let holderRun = try #require(lease["run"]?.stringValue)

        // A run that cannot wait long fails that write, naming the holder.
        let refused = try await runCLI(["run", "touch.lua", "--lock-timeout", "0.5"], in: team.b, environment: team.envB)
        #expect(refused.status != 0 && refused.stderr.contains("is locked by run \(holderRun) (operator ana, pid \(holder.process.pid)"),
                "\(refused.stderr)")
        // One that waits proceeds once the holder ends, and never wrote while it held the queue.
        async let waiter = runCLI(["run", "touch.lua", "--lock-timeout", "120"], in: team.b, environment: team.envB)
        _ = try await Self.eventually("the second run waits", { try await team.sql("SELECT count(*) FROM lease_waits") == "1" })
        holder.end()
        let waited = try await waiter
        #expect(waited.status == 0 && waited.stdout == "touched\n", "\(waited.stdout) \(waited.stderr)")
        try await AuditExport.expectNotInterleaved(in: team.b, environment: team.envB, "ana then ben")
        #expect(try await team.sql("SELECT count(*) FROM leases") == "0", "every lock freed at the end")
    }

    @Test func aDeadHoldersLocksAreListedAndReleasedAudited() async throws {
        let team = try await Team.start(["touch.lua": """
            local q = fetch(queues()[1].id)
            deploy(q.id, build(q, {maxWaiters = 9}))
            print("touched")
            """])
        defer { team.sim.terminate() }
        let holder = try Session(in: team.a, environment: team.envA)
        holder.send("q = fetch(queues()[1].id)")
        holder.send("deploy(q.id, build(q, {maxWaiters = 5}))")
        holder.send("print('held')")
        guard try await Self.eventually("the first run holds its lock", { holder.output.contains("held") }) else { return }
        holder.process.signal(SIGKILL)
        _ = await holder.process.exitCode()
        // On this host a dead holder is seen at once: its run is abandoned and its lock freed.
        let listed = try await runCLI(["locks"], in: team.b, environment: team.envB)
        #expect(listed.stdout.isEmpty && listed.stderr.contains("no locks are held"), "\(listed.stdout) \(listed.stderr)")
        #expect(try await team.runs(in: team.b, env: team.envB).first?["status"] == "abandoned")
        // A holder that died on another machine is not judged from here: its lock stays until it
        // expires or someone releases it.
        let runID = "20261126T000000Z-deadbeef"
        let queue = try await team.sql("SELECT target FROM calls WHERE binding = 'deploy' LIMIT 1")
        let identity = try #require(String(data: try Data(contentsOf: team.b.appendingPathComponent("cxrun.toml")), encoding: .utf8)?
            .split(separator: "\n").first { $0.hasPrefix("base_url") }?.split(separator: "\"").dropFirst().first.map(String.init))
        let far = Date().timeIntervalSince1970 + 3600
        _ = try await team.sql("INSERT INTO leases VALUES ('\(identity)', 'queue:\(queue)', '\(runID)', 'cid', 'laptop-7', 4242, 1, \(far))")
        let elsewhere = try await runCLI(["locks"], in: team.b, environment: team.envB)
        #expect(elsewhere.stdout.contains("held by run \(runID) (operator cid, pid 4242 on laptop-7"), "\(elsewhere.stdout) \(elsewhere.stderr)")
        let blocked = try await runCLI(["run", "touch.lua", "--lock-timeout", "0.5"], in: team.b, environment: team.envB)
        #expect(blocked.status != 0 && blocked.stderr.contains("is locked by run \(runID)"), "\(blocked.stderr)")
        let released = try await runCLI(["locks", "release", runID], in: team.b, environment: team.envB)
        #expect(released.status == 0 && released.stdout.hasPrefix("released queue:"), "\(released.stdout) \(released.stderr)")
        let runs = try await team.runs(in: team.a, env: team.envA)
        #expect(runs.contains { $0["script"]?.stringValue == "cxrun locks release \(runID)" && $0["operator"] == "ben" }, "the release is audited: \(runs)")
        let touched = try await runCLI(["run", "touch.lua", "--lock-timeout", "1"], in: team.b, environment: team.envB)
        #expect(touched.status == 0, "\(touched.stderr)")
        let none = try await runCLI(["locks", "release", runID], in: team.b, environment: team.envB)
        #expect(none.status == 1 && none.stderr.contains("holds no locks"), "\(none.stderr)")
    }
}
