import Foundation
import Synchronization
import JSONCore
import Testing
import TestSupport

/// Starts `cxrun sim` as a subprocess on a free port and returns its base URL (read from its output).
@Suite("cxrun run with the bindings")
struct RunbookCLITests {
    @Test func noConfigurationMeansTheSandboxTenant() async throws {
        let dir = try scriptFolder(["book.lua": """
            local q = fetch(queues()[1].id)
            local r = deploy(q.id, build(q, {maxWaitTime = 250}))
            print("version", r.version)
            """])
        let r = try await runCLI(["run", "book.lua"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("version\t"))
        #expect(r.stderr.contains("deploy") && r.stderr.contains("audit: .cxrun/audit.sqlite"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(".cxrun/sandbox.sqlite").path))
        let runs = try await runCLI(["audit", "runs"], in: dir)
        #expect(runs.status == 0 && runs.stdout.contains("succeeded") && runs.stdout.contains("book.lua"))
        // A shared history says who ran each run.
        #expect(runs.stdout.contains(" by=\(ProcessInfo.processInfo.environment["USER"] ?? NSUserName()) "), "\(runs.stdout)")
        // A run that wrote nothing: the rollback says there is nothing to restore, not nothing at all.
        try "print(#queues())\n".write(to: dir.appendingPathComponent("read.lua"), atomically: true, encoding: .utf8)
        let read = try await runCLI(["run", "read.lua"], in: dir)
        let readRun = try #require(read.stderr.split(separator: "\n").first { $0.hasPrefix("run ") }?.split(separator: " ")[1])
        let rollback = try await runCLI(["rollback", "--run", String(readRun)], in: dir)
        #expect(rollback.status == 0 && rollback.stdout == "nothing to restore: run \(readRun) wrote no queue and reassigned no user\n",
                "\(rollback.stdout) \(rollback.stderr)")
    }

    /// The in-process sandbox tenant starts on the first request: a run that makes no call never
    /// opens it, and one that cannot start is an error of the call that needed it, at its line.
    @Test func theSandboxTenantStartsOnFirstUse() async throws {
        let dir = try scriptFolder(["quiet.lua": "print('no call')\n", "calls.lua": "print('first')\nlocal qs = queues()\nprint(#qs > 0)\n"])
        let quiet = try await runCLI(["run", "quiet.lua"], in: dir)
        #expect(quiet.status == 0 && quiet.stdout == "no call\n", "\(quiet.stderr)")
        let sandboxFile = dir.appendingPathComponent(".cxrun/sandbox.sqlite").path
        #expect(!FileManager.default.fileExists(atPath: sandboxFile))
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: sandboxFile))
        let broken = try await runCLI(["run", "calls.lua"], in: dir)
        #expect(broken.status == 1 && broken.stdout == "first\n")
        #expect(broken.stderr.contains("calls.lua:2: unavailable: the sandbox tenant could not start"), "\(broken.stderr)")
        try FileManager.default.removeItem(atPath: sandboxFile)
        let calls = try await runCLI(["run", "calls.lua"], in: dir)
        #expect(calls.status == 0 && calls.stdout == "first\ntrue\n", "\(calls.stderr)")
        #expect(FileManager.default.fileExists(atPath: sandboxFile))
    }

    /// A script saved in another encoding is refused naming the byte and where it is, by run,
    /// plan, check and test alike: decoded with repair, Latin-1 "café" was deployed as "caf\u{FFFD}".
    @Test func aScriptThatIsNotUTF8IsRefusedNotRepaired() async throws {
        let dir = try scriptFolder(["latin_test.lua": "", "latin.lua": ""])
        let latin = Array("local q = fetch(queues()[1].id)\ndeploy(q.id, build(q, {name = 'caf".utf8) + [0xE9] + Array("'}))\n".utf8)
        try Data(latin).write(to: dir.appendingPathComponent("latin.lua"))
        try Data(Array("test('x', function(t) t.eq('caf".utf8) + [0xE9] + Array("', 1) end)\n".utf8)).write(to: dir.appendingPathComponent("latin_test.lua"))
        let why = "is not UTF-8 text: byte 0xE9 at line 2, column 35 (save it as UTF-8)"
        for command in [["run", "latin.lua"], ["plan", "latin.lua"], ["check", "latin.lua"]] {
            let r = try await runCLI(command, in: dir)
            #expect(r.status == 2 && r.stderr == "cxrun: script 'latin.lua' \(why)\n", "\(command): \(r.stderr)")
        }
        let tested = try await runCLI(["test", "latin_test.lua"], in: dir)
        #expect(tested.status == 1 && tested.stdout.contains("script 'latin_test.lua' is not UTF-8 text: byte 0xE9 at line 1, column 32"),
                "\(tested.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(".cxrun/sandbox.sqlite").path), "nothing ran")
    }

    @Test func dryRunPrintsTheDiffAndJSONSummary() async throws {
        let dir = try scriptFolder(["book.lua": """
            local q = fetch(queues()[1].id)
            deploy(q.id, build(q, {maxWaitTime = 251}))
            print("deployed", q.id)
            """])
        let r = try await runCLI(["run", "--dry-run", "book.lua"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("dry run: nothing was changed"))
        #expect(r.stdout.contains("~ maxWaitTime:") && r.stdout.contains("-> 251"))
        // stdout the JSON alone: the script's print went there first, and no parser read it.
        let j = try await runCLI(["run", "--json", "book.lua"], in: dir)
        #expect(j.status == 0 && j.stderr.contains("deployed\t"), "\(j.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
        #expect(summary?["status"] as? String == "succeeded" && summary?["tenant"] as? String == "sandbox")
        #expect((summary?["bindings"] as? [String: Any])?["deploy"] != nil)
    }

    @Test func configurationErrorsNameFileAndKeyAndExitTwo() async throws {
        let dir = try scriptFolder([
            "book.lua": "print(1)\n",
            "cxrun.toml": "[tenants.prod]\nbase_url = \"https://example.invalid\"\nclient_id = \"x\"\nclient_secret_env = \"NOT_SET_ANYWHERE\"\n",
            "bad.toml": "[tenants.prod\nbase_url = 1\n",
            "huge.toml": "[tenants.prod]\nbase_url = \"https://example.invalid\"\nclient_id = \"x\"\nclient_secret_env = \"PATH\"\ntimeout = 1e300\n",
        ])
        let missing = try await runCLI(["run", "--tenant", "prod", "book.lua"], in: dir)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("cxrun.toml: tenants.prod.client_secret_env: environment variable NOT_SET_ANYWHERE is not set"), "\(missing.stderr)")
        let syntax = try await runCLI(["run", "--config", "bad.toml", "book.lua"], in: dir)
        #expect(syntax.status == 2 && syntax.stderr.contains("bad.toml:1:"), "\(syntax.stderr)")
        let huge = try await runCLI(["run", "--config", "huge.toml", "--tenant", "prod", "book.lua"], in: dir)
        #expect(huge.status == 2 && huge.stderr.contains("huge.toml: tenants.prod.timeout: must be a number of seconds above 0 and at most 3600"),
                "\(huge.stderr)")
        let unknown = try await runCLI(["run", "--tenant", "staging", "book.lua"], in: dir)
        #expect(unknown.status == 2 && unknown.stderr.contains("no such tenant"), "\(unknown.stderr)")
    }

    @Test func secretsFromTheEnvironmentStayOutOfOutputAndAudit() async throws {
        let dir = try scriptFolder(["book.lua": """
            local q = fetch(queues()[1].id)
            print(q.id ~= nil)
            error("fail on purpose")
            """])
        let (sim, baseURL) = try await startSim(in: dir)
        defer { sim.terminate() }
        try "[tenants.ops]\nbase_url = \"\(baseURL)\"\nclient_id = \"ops\"\nclient_secret_env = \"OPS_SECRET\"\n"
            .write(to: dir.appendingPathComponent("cxrun.toml"), atomically: true, encoding: .utf8)
        let r = try await runCLI(["run", "book.lua"], in: dir, environment: ["OPS_SECRET": "S3cret-From-Env-4321"])
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout == "true\n")
        var haystack = r.stdout + r.stderr
        for suffix in ["", "-wal"] {
            haystack += String(decoding: FileManager.default.contents(atPath: dir.appendingPathComponent(".cxrun/audit.sqlite\(suffix)").path) ?? Data(), as: UTF8.self)
        }
        let export = try await runCLI(["audit", "export", "--format", "jsonl"], in: dir)
        haystack += export.stdout
        #expect(export.stdout.contains("\"binding\":\"fetch\""))
        #expect(!haystack.contains("S3cret-From-Env-4321"))
    }

    @Test func aStandaloneSimVerifiesDeliveriesWithTheUsersOwnWebhookSecret() async throws {
        let dir = try scriptFolder(["book.lua": "local r = webhook('ops', {event = 'x'}, {wait = true}) print(r.status)\n"])
        let (sim, baseURL) = try await startSim(in: dir, extra: ["--webhook", "ops:Hook-Secret-From-Env-77"])
        defer { sim.terminate() }
        let config = "[tenants.ops]\nbase_url = \"\(baseURL)\"\nclient_id = \"ops\"\nclient_secret_env = \"OPS_SECRET\"\n"
            + "[webhooks.ops]\nurl = \"\(baseURL)/_sim/webhooks/ops\"\nsecret_env = \"HOOK_SECRET\"\n"
        try config.write(to: dir.appendingPathComponent("cxrun.toml"), atomically: true, encoding: .utf8)
        let good = try await runCLI(["run", "book.lua"], in: dir,
                                    environment: ["OPS_SECRET": "S3cret-From-Env-4321", "HOOK_SECRET": "Hook-Secret-From-Env-77"])
        #expect(good.status == 0 && good.stdout == "delivered\n", "\(good.stdout) \(good.stderr)")
        #expect(good.stderr.contains(" against tenant ops\n"), "\(good.stderr)")
        let bad = try await runCLI(["run", "book.lua"], in: dir,
                                   environment: ["OPS_SECRET": "S3cret-From-Env-4321", "HOOK_SECRET": "not-the-sinks-secret"])
        #expect(bad.stdout == "failed\n", "a delivery signed with another secret is refused: \(bad.stdout) \(bad.stderr)")
        let deliveries = try await curlGet(baseURL + "/_sim/webhooks?name=ops")
        #expect(deliveries.contains("\"valid\"") && deliveries.contains("\"mismatch\""), "\(deliveries)")
        let badSpec = try await runCLI(["sim", "--webhook", "no-secret"], in: dir)
        #expect(badSpec.status == 2 && badSpec.stderr.contains("NAME:SECRET"), "\(badSpec.stderr)")
    }

    /// A runbook calling `webhook("wfm", …)` after its changes, run against a tenant with no such
    /// webhook, wrote the queues and then failed at the call. The run is now refused before it
    /// starts (exit 2), naming the line and the fix; nothing is written, no run is recorded. A name
    /// the script computes is not judged before the run (its call still fails at its line).
    @Test func aWebhookTheTenantDoesNotConfigureIsRefusedBeforeAnyChange() async throws {
        let book = "local q = fetch(queues()[1].id)\ndeploy(q.id, build(q, {maxWaitTime = 444}))\n"
            + "webhook(\"ops\", {event = \"x\"})\nwebhook(\"wfn\", {event = \"y\"})\n"
        let dir = try scriptFolder(["book.lua": book, "computed.lua": "local name = 'w' .. 'fm'\nwebhook(name, {event = 'x'})\n"])
        let (sim, baseURL) = try await startSim(in: dir)
        defer { sim.terminate() }
        try ("[tenants.ops]\nbase_url = \"\(baseURL)\"\nclient_id = \"ops\"\nclient_secret_env = \"OPS_SECRET\"\n"
            + "[webhooks.wfm]\nurl = \"\(baseURL)/_sim/webhooks/wfm\"\nsecret_env = \"HOOK_SECRET\"\n")
            .write(to: dir.appendingPathComponent("cxrun.toml"), atomically: true, encoding: .utf8)
        let env = ["OPS_SECRET": "S3cret-From-Env-4321", "HOOK_SECRET": "cxrun-sandbox-wfm-secret"]
        let computed = try await runCLI(["run", "computed.lua"], in: dir, environment: env)
        #expect(computed.status == 0, "a computed name is the call's to judge: \(computed.stdout) \(computed.stderr)")
        for dryRun in [[], ["--dry-run"]] {
            let run = try await runCLI(["run", "book.lua"] + dryRun, in: dir, environment: env)
            #expect(run.status == 2, "\(run.stdout) \(run.stderr)")
            #expect(run.stderr.contains("book.lua:3: webhook 'ops' is not configured for tenant ops (configured: wfm): the run would stop there, "
                                        + "after the changes before it. Add [webhooks.ops] with url and secret_env to cxrun.toml"), "\(run.stderr)")
            #expect(run.stderr.contains("book.lua:4: webhook 'wfn' is not configured for tenant ops (did you mean wfm? configured: wfm)"), "\(run.stderr)")
        }
        let log = try JSONValue.parse(try await curlGet(baseURL + "/_sim/requests?limit=5000"))
        let requests = try #require(log["requests"]?.arrayValue)
        #expect(!requests.contains { $0["method"] == "PUT" }, "nothing was written: \(requests)")
        let runs = try await runCLI(["audit", "runs", "--json"], in: dir, environment: env)
        #expect(runs.stdout.contains("computed.lua") && !runs.stdout.contains("book.lua"), "no run was recorded: \(runs.stdout) \(runs.stderr)")
    }

    @Test func auditShowsTheLatestRunAndListsRunsAsJSON() async throws {
        let dir = try scriptFolder(["book.lua": "print(#queues())\n"])
        _ = try await runCLI(["run", "book.lua"], in: dir)
        let second = try await runCLI(["run", "book.lua", "--", "again"], in: dir)
        #expect(second.status == 0)
        let runs = try await runCLI(["audit", "runs", "--json"], in: dir)
        let rows = runs.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        #expect(rows.count == 2 && rows.allSatisfy { $0["type"] == "run" && $0["status"] == "succeeded" }, "\(runs.stdout)")
        let latest = try #require(rows.first?["id"]?.stringValue)
        #expect(rows.first?["args"] == ["again"], "newest first")
        let show = try await runCLI(["audit", "show"], in: dir)
        #expect(show.status == 0 && show.stdout.hasPrefix("run      \(latest)\n"), "\(show.stdout)")
        let empty = try scriptFolder(["x.txt": ""])
        try FileManager.default.createDirectory(at: empty.appendingPathComponent(".cxrun"), withIntermediateDirectories: true)
        let none = try await runCLI(["audit", "show"], in: empty)
        #expect(none.status == 2, "\(none.stderr)")
    }

    /// A run that failed after writing says what it left changed where a colleague reads the
    /// shared history later (`cxrun audit show`), as its summary said; a run that succeeded does not.
    @Test func auditShowSaysWhatAFailedRunLeftChanged() async throws {
        let dir = try scriptFolder(["book.lua": """
            local q = fetch(queues()[1].id)
            deploy(q.id, build(q, {maxWaitTime = q.maxWaitTime + 7}))
            if cx.args[1] == "fail" then error("stopped") end
            """])
        let failed = try await runCLI(["run", "book.lua", "--", "fail"], in: dir)
        #expect(failed.status == 1, "\(failed.stderr)")
        let show = try await runCLI(["audit", "show"], in: dir)
        let id = try #require(show.stdout.split(separator: "\n").first?.split(separator: " ").last.map(String.init))
        #expect(show.stdout.contains("\nleft     before it ended it changed 1 queue, which stay changed: cxrun rollback --run \(id) undoes them\n"),
                "\(show.stdout)")
        #expect(failed.stderr.contains("  before it ended it changed 1 queue, which stay changed: cxrun rollback --run \(id) undoes them\n"),
                "the summary said the same: \(failed.stderr)")
        _ = try await runCLI(["run", "book.lua"], in: dir)
        let fine = try await runCLI(["audit", "show"], in: dir)
        #expect(fine.status == 0 && !fine.stdout.contains("\nleft "), "\(fine.stdout)")
    }

    @Test func secretScriptArgumentsNeverReachTheAuditLog() async throws {
        let dir = try scriptFolder(["book.lua": "print(cx.args.password == 'hunter2', cx.args.channel)\n"])
        let r = try await runCLI(["run", "book.lua", "--", "password=hunter2", "api_token=tok123", "channel=voice"], in: dir)
        #expect(r.status == 0 && r.stdout == "true\tvoice\n", "the script still sees its arguments: \(r.stdout) \(r.stderr)")
        let export = try await runCLI(["audit", "export", "--format", "jsonl"], in: dir)
        #expect(export.stdout.contains("password=[redacted]") && export.stdout.contains("api_token=[redacted]"), "\(export.stdout)")
        #expect(export.stdout.contains("channel=voice"))
        let stored = try Data(contentsOf: dir.appendingPathComponent(".cxrun/audit.sqlite"))
        let haystack = String(decoding: stored, as: UTF8.self) + export.stdout
        #expect(!haystack.contains("hunter2") && !haystack.contains("tok123"))
    }

    /// A run stopped by `signal` (SIGKILL: killed) while its deploy's PUT is held by the tenant
    /// (`holdWrites`) until `releaseHeldWrites`; returns the run, the queue and its original maxWaitTime.
    private func killMidDeploy(signal: Int32 = SIGKILL) async throws -> (
        dir: URL, env: [String: String], sim: ChildProcess, baseURL: String, runID: String, queueID: String, original: String
    ) {
        let dir = try scriptFolder(["book.lua": """
            local q = fetch(queues()[1].id)
            print("fetched", q.id, q.maxWaitTime)
            deploy(q.id, build(q, {maxWaitTime = 777}))
            print("never")
            """])
        let (sim, baseURL) = try await startSim(in: dir)
        try "[tenants.ops]\nbase_url = \"\(baseURL)\"\nclient_id = \"ops\"\nclient_secret_env = \"OPS_SECRET\"\n"
            .write(to: dir.appendingPathComponent("cxrun.toml"), atomically: true, encoding: .utf8)
        let env = ["OPS_SECRET": "S3cret-From-Env-4321"]
        _ = try await runCLI(["run", "book.lua", "--dry-run"], in: dir, environment: env)
        // The tenant holds the run's one write on arrival until the test releases it: the process
        // is stopped with its PUT in flight however long anything here takes.
        #expect(try await curlPut(baseURL + "/_sim/faults", #"{"holdWrites": 1}"#))
        // stdout and stderr are a few lines: the pipes never fill.
        let victim = try ChildProcess(cxrunBinary, ["run", "book.lua"], directory: dir.path,
                                      environment: ProcessInfo.processInfo.environment.merging(env) { _, new in new }, stdout: .pipe, stderr: .pipe)
        let held = try await eventually { try JSONValue.parse(try await curlGet(baseURL + "/_sim/faults"))["writesHeld"] == 1 }
        #expect(held, "the deploy's PUT reached the tenant")
        // The PUT went out after its pending row was committed, so the row is there now.
        let running = try await runCLI(["audit", "show"], in: dir)
        let runID = String(running.stdout.split(separator: "\n").first?.split(separator: " ").last ?? "")
        #expect(running.stdout.contains("status   running")
                && running.stdout.split(separator: "\n").contains { $0.contains("deploy") && $0.contains("pending") },
                "the deploy row was committed pending before the request went out: \(running.stdout)")
        victim.signal(signal)
        let victimStatus = await victim.exitCode()
        let killedOutput = String(decoding: victim.stdout?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
        let killedErrors = String(decoding: victim.stderr?.readDataToEndOfFile() ?? Data(), as: UTF8.self)
        #expect(!killedOutput.contains("never"))
        let show = try await runCLI(["audit", "show", runID], in: dir)
        if signal == SIGKILL {
            #expect(show.stdout.contains("status   abandoned") && show.stdout.contains("ended without finishing the run"),
                    "the killed run's row is intact, and shows its process is gone: \(show.stdout)")
        } else {
            // Stopped with the PUT in flight: whether it applied is unknown, and the row says so
            // (an error there would tell a rollback there was nothing to undo).
            #expect(victimStatus == 128 + signal && show.stdout.contains("status   aborted"), "\(show.stdout)")
            #expect(show.stdout.split(separator: "\n").contains { $0.contains("deploy") && $0.contains("pending") && $0.contains("may have been applied") },
                    "\(show.stdout)")
            #expect(killedErrors.contains("1 write was cut off and may have applied (left pending); cxrun rollback --run \(runID)"), "\(killedErrors)")
        }
        let fields = killedOutput.split(separator: "\t")
        try #require(fields.count == 3, "\(killedOutput)")
        return (dir, env, sim, baseURL, runID, String(fields[1]), String(fields[2]).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Lets the held PUT through and returns it as the tenant answered it: the queue's PUT
    /// answered last (the rollback's own, if any, was answered before the release).
    private func releaseHeldWrites(_ baseURL: String, _ queueID: String) async throws -> JSONValue? {
        func puts() async throws -> [JSONValue] {
            try JSONValue.parse(try await curlGet(baseURL + "/_sim/requests?limit=5000"))["requests"]?.arrayValue?.filter {
                $0["method"] == "PUT" && $0["path"]?.stringValue == "/api/v2/routing/queues/\(queueID)"
            } ?? []
        }
        let before = try await puts().count
        #expect(try await curlPut(baseURL + "/_sim/faults", "{}"))
        var landed: JSONValue?
        _ = try await eventually {
            landed = try await puts().dropFirst(before).first
            return landed != nil
        }
        return landed
    }

    @Test func killedMidDeployLeavesPendingRowAndSnapshotThenRollbackRestores() async throws {
        let (dir, env, sim, baseURL, runID, queueID, original) = try await killMidDeploy()
        defer { sim.terminate() }
        // The in-flight PUT lands after its run was killed.
        let landed = try #require(try await releaseHeldWrites(baseURL, queueID), "the killed deploy's PUT reached the tenant")
        #expect(landed["status"] == 200, "it applied: \(landed.jsonString())")
        let rollback = try await runCLI(["rollback", "--run", runID], in: dir, environment: env)
        #expect(rollback.status == 0, "\(rollback.stdout) \(rollback.stderr)")
        let check = try scriptFolder(["check.lua": "print(fetch(cx.args[1]).maxWaitTime)\n"])
        try FileManager.default.copyItem(at: dir.appendingPathComponent("cxrun.toml"), to: check.appendingPathComponent("cxrun.toml"))
        let after = try await runCLI(["run", "check.lua", "--", queueID], in: check, environment: env)
        #expect(after.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == original, "restored the pre-image")
    }

    /// Ctrl-C with the deploy's PUT in flight: the run stops at once, the PUT still lands, and the
    /// rollback restores the queue (it once read the cancelled call as an error and undid nothing).
    @Test func interruptedMidDeployTheWriteStaysUnknownAndRollbackRestores() async throws {
        let (dir, env, sim, baseURL, runID, queueID, original) = try await killMidDeploy(signal: SIGINT)
        defer { sim.terminate() }
        let landed = try #require(try await releaseHeldWrites(baseURL, queueID), "the interrupted deploy's PUT reached the tenant")
        #expect(landed["status"] == 200, "it applied: \(landed.jsonString())")
        let rollback = try await runCLI(["rollback", "--run", runID], in: dir, environment: env)
        #expect(rollback.status == 0 && rollback.stdout.contains("restored"), "\(rollback.stdout) \(rollback.stderr)")
        let check = try scriptFolder(["check.lua": "print(fetch(cx.args[1]).maxWaitTime)\n"])
        try FileManager.default.copyItem(at: dir.appendingPathComponent("cxrun.toml"), to: check.appendingPathComponent("cxrun.toml"))
        let after = try await runCLI(["run", "check.lua", "--", queueID], in: check, environment: env)
        #expect(after.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == original, "restored the pre-image")
    }

    /// Rolled back while the killed deploy's PUT is still on its way: the rollback rewrites the
    /// queue (a new version), so the late PUT's If-Match fails and the queue stays as before.
    @Test func aWriteStillInFlightCannotLandAfterItsRollback() async throws {
        let (dir, env, sim, baseURL, runID, queueID, original) = try await killMidDeploy()
        defer { sim.terminate() }
        let rollback = try await runCLI(["rollback", "--run", runID], in: dir, environment: env)
        #expect(rollback.status == 0, "\(rollback.stdout) \(rollback.stderr)")
        let late = try #require(try await releaseHeldWrites(baseURL, queueID), "the killed deploy's PUT reached the tenant")
        #expect(late["status"] == 409, "the late write was refused: \(late.jsonString())")
        #expect(rollback.stdout.contains("was in flight when its run ended"), "\(rollback.stdout)")
        let check = try scriptFolder(["check.lua": "print(fetch(cx.args[1]).maxWaitTime)\n"])
        try FileManager.default.copyItem(at: dir.appendingPathComponent("cxrun.toml"), to: check.appendingPathComponent("cxrun.toml"))
        let after = try await runCLI(["run", "check.lua", "--", queueID], in: check, environment: env)
        #expect(after.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == original, "the queue is as before the deploy")
    }
}

/// Rolled back while it still runs: refused, naming the run's process. It went ahead: the
/// rollback read what the run had written so far, missed the writes it made next, and called
/// outcomes the run had not written yet writes "in flight when its run ended". Once the run has
/// ended, every queue it wrote is restored.
@Suite("rollback of a running run")
struct RollbackOfARunningRunTests {
    @Test func isRefusedUntilTheRunEnds() async throws {
        let dir = try scriptFolder(["book.lua": """
            local qs = queues()
            for i = 1, 2 do
              local q = fetch(qs[i].id)
              deploy(q.id, build(q, {maxWaitTime = q.maxWaitTime + 7}))
            end
            print("wrote two")
            cx.sleep(120)
            local q = fetch(qs[3].id)
            deploy(q.id, build(q, {maxWaitTime = q.maxWaitTime + 7}))
            """, "check.lua": "local out = {} for i, q in ipairs(queues()) do if i <= 3 then out[i] = q.maxWaitTime end end print(table.concat(out, ' '))\n",
            "undo.lua": "local ok, err = pcall(rollback, queues()[1].id, {run = cx.args[1]}) print(ok, err.code)\n"])
        let before = try await runCLI(["run", "check.lua"], in: dir)
        let attempt = Mutex<(run: String, text: String, status: Int32)?>(nil)
        let run = try await runCLI(["run", "book.lua"], in: dir, interruptWhenPrinted: "wrote two", interruptWhen: {
            guard let runs = try? ChildProcess.output(cxrunBinary, ["audit", "runs", "--limit", "1"], directory: dir.path).text,
                let id = runs.split(separator: " ").first,
                let tried = try? ChildProcess.output("/bin/sh", ["-c", "exec \"$0\" rollback --run \(id) 2>&1", cxrunBinary], directory: dir.path)
            else { return false }
            let script = try? ChildProcess.output(cxrunBinary, ["run", "undo.lua", "--", String(id)], directory: dir.path)
            attempt.withLock { $0 = (String(id), tried.text + "\nundo.lua: " + (script?.text ?? ""), tried.status) }
            return true
        })
        #expect(run.status == 130, "\(run.stdout) \(run.stderr)")
        let (runID, text, status) = try #require(attempt.withLock { $0 })
        #expect(status == 2 && text.contains("is still running (pid ") && text.contains("stop it first"), "\(text)")
        #expect(text.contains("undo.lua: false\tlocked\n"), "the binding refuses too: \(text)")
        let runs = try await runCLI(["audit", "runs"], in: dir)
        #expect(runs.stdout.contains("\(runID)  ") && runs.stdout.contains("aborted") && runs.stdout.contains("book.lua"), "\(runs.stdout)")
        let untouched = try await runCLI(["run", "check.lua"], in: dir)
        #expect(untouched.stdout != before.stdout, "the refused rollback wrote nothing: \(untouched.stdout)")
        let rollback = try await runCLI(["rollback", "--run", runID], in: dir)
        #expect(rollback.status == 0 && rollback.stdout.components(separatedBy: "restored (now version").count == 3, "\(rollback.stdout) \(rollback.stderr)")
        #expect(!rollback.stdout.contains("in flight"), "\(rollback.stdout)")
        let after = try await runCLI(["run", "check.lua"], in: dir)
        #expect(after.stdout == before.stdout, "\(before.stdout) → \(after.stdout)")
    }
}

/// A run is rolled back in the tenant it wrote: rolled back with another tenant selected (a
/// shell defaulting elsewhere), its pre-images went to that tenant's queues of the same ids —
/// refused only when those happened to differ, and written with --force.
@Suite("rollback in the run's own tenant")
struct RollbackInTheRunsTenantTests {
    @Test func anotherTenantIsRefused() async throws {
        let dir = try scriptFolder(["book.lua": "local q = fetch(queues()[1].id)\ndeploy(q.id, build(q, {maxWaitTime = 444}))\nprint(cx.run.id)\n"])
        let (sim, baseURL) = try await startSim(in: dir)
        defer { sim.terminate() }
        try "[tenants.ops]\nbase_url = \"\(baseURL)\"\nclient_id = \"ops\"\nclient_secret_env = \"OPS_SECRET\"\n"
            .write(to: dir.appendingPathComponent("cxrun.toml"), atomically: true, encoding: .utf8)
        let env = ["OPS_SECRET": "S3cret-From-Env-4321"]
        let run = try await runCLI(["run", "book.lua", "--tenant", "ops"], in: dir, environment: env)
        #expect(run.status == 0, "\(run.stderr)")
        let runID = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for force in [[], ["--force"]] {
            let wrong = try await runCLI(["rollback", "--run", runID, "--tenant", "sandbox"] + force, in: dir, environment: env)
            #expect(wrong.status == 2 && wrong.stderr.contains("run \(runID) wrote tenant ops, not sandbox: roll it back with --tenant ops"),
                    "\(wrong.stdout) \(wrong.stderr)")
        }
        try "print(pcall(rollback, queues()[1].id, {run = cx.args[1]}))\n".write(to: dir.appendingPathComponent("undo.lua"), atomically: true, encoding: .utf8)
        let script = try await runCLI(["run", "undo.lua", "--tenant", "sandbox", "--", runID], in: dir, environment: env)
        #expect(script.stdout.hasPrefix("false\tinvalid: rollback: run \(runID) wrote tenant ops"), "\(script.stdout) \(script.stderr)")
        let right = try await runCLI(["rollback", "--run", runID, "--tenant", "ops"], in: dir, environment: env)
        #expect(right.status == 0 && right.stdout.contains("restored"), "\(right.stdout) \(right.stderr)")
    }
}

@Suite("runbooks in scripts/")
struct ScriptRunbookTests {
    @Test(arguments: [false, true])
    func rebalanceRunsAgainstTheSandboxTenant(_ dryRun: Bool) async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        let script = repoRoot.appendingPathComponent("scripts/rebalance.lua").path
        let r = try await runCLI(["run"] + (dryRun ? ["--dry-run"] : []) + [script, "--", "channel=chat", "strategy=weighted", "limit=4"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("queue") && r.stdout.contains("outcome"))
        #expect(r.stdout.contains(dryRun ? "planned:" : "deployed v"), "\(r.stdout)")
        #expect(r.stderr.contains("WFM notified: \(dryRun ? "planned" : "delivered")"), "\(r.stderr)")
        if dryRun { #expect(r.stdout.contains("dry run: nothing was changed") && r.stdout.contains("~ routing.strategy")) }
    }

    @Test(arguments: ["hello", "staffing_check", "wait_strategy", "sla_overflow", "skill_balance", "agent_break"], [false, true])
    func runbookRunsEndToEnd(_ name: String, _ dryRun: Bool) async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        let script = repoRoot.appendingPathComponent("scripts/\(name).lua").path
        let r = try await runCLI(["run"] + (dryRun ? ["--dry-run"] : []) + [script], in: dir)
        #expect(r.status == 0, "\(name): \(r.stderr)")
        #expect(!r.stdout.isEmpty)
        #expect(r.stderr.contains("succeeded"), "\(r.stderr)")
    }

    @Test func aClosedPipeEndsTheOutputNotTheProcess() async throws {
        let dir = try scriptFolder(["loud.lua": "for i = 1, 20000 do print(('line %d'):format(i)) end\n"])
        let text = try await offPool {
            try ChildProcess.output("/bin/bash", ["-c", "'\(cxrunBinary)' run loud.lua 2>/dev/null | head -1 >/dev/null; echo ${PIPESTATUS[0]}"],
                                    directory: dir.path).text
        }
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "cxrun's exit status with a closed pipe: \(text)")
    }

    @Test func everyRunbookCompiles() async throws {
        let scripts = try FileManager.default.contentsOfDirectory(atPath: repoRoot.appendingPathComponent("scripts").path)
            .filter { $0.hasSuffix(".lua") }.map { "scripts/\($0)" }
        #expect(!scripts.isEmpty)
        let r = try await runCLI(["check"] + scripts)
        #expect(r.status == 0, "\(r.stderr)")
    }
}

@Suite("runbooks at pinned hours of the sandbox tenant's clock")
struct RunbooksAtPinnedHoursTests {
    /// The traffic-dependent runbooks succeed at a quiet hour and at the peak; staffing follows
    /// the load (shifts), so rebalance changes something at 03:00 and at noon alike, and any queue
    /// it skips says why.
    @Test(arguments: ["2026-01-05T03:00:00Z", "2026-01-05T12:00:00Z"])
    func trafficDependentRunbooksHoldAtEveryHour(_ clock: String) async throws {
        let env = ["CXRUN_SANDBOX_CLOCK": clock]
        for name in ["rebalance", "staffing_check", "wait_strategy", "skill_balance", "agent_break"] {
            for dryRun in [false, true] {
                let dir = try scriptFolder(["placeholder.txt": ""])
                let script = repoRoot.appendingPathComponent("scripts/\(name).lua").path
                let args = name == "rebalance" ? ["--", "channel=chat", "strategy=weighted", "limit=4"] : []
                let r = try await runCLI(["run"] + (dryRun ? ["--dry-run"] : []) + [script] + args, in: dir, environment: env)
                #expect(r.status == 0, "\(name) at \(clock): \(r.stderr)")
                #expect(r.stderr.contains("succeeded"), "\(name) at \(clock): \(r.stderr)")
                guard name == "rebalance" else { continue }
                let rows = r.stdout.split(separator: "\n").filter { $0.hasPrefix("Chat") }
                #expect(rows.count == 4, "\(r.stdout)")
                #expect(rows.contains { $0.contains(dryRun ? "planned:" : "deployed v") }, "something changes at \(clock): \(r.stdout)")
                #expect(rows.allSatisfy { $0.contains(dryRun ? "planned:" : "deployed v") || $0.contains("skipped: projected") },
                        "\(r.stdout)")
            }
        }
    }
}

@Suite("stop signals while a run settles")
struct SettleSignalTests {
    /// A webhook receiver that accepts connections and never answers: the run's last delivery is
    /// still in flight when the script ends, so the signal lands while the run settles.
    private func silentReceiver() throws -> (ChildProcess, Int) {
        let p = try ChildProcess("/usr/bin/env", ["python3", "-c", """
            import socket, sys
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
            print(s.getsockname()[1], flush=True)
            held = []
            while True: held.append(s.accept())
            """], stdout: .pipe)
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")), let out = p.stdout {
            let chunk = out.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        return (p, port)
    }

    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143)), (SIGHUP, Int32(129))])
    func aSignalDuringTheSettleWindowExitsAsSignalledWithoutACrash(_ signal: Int32, _ code: Int32) async throws {
        let (receiver, port) = try silentReceiver()
        defer {
            // SIGKILL: the receiver may have inherited a blocked SIGTERM; left running it would
            // hold the test runner's output open.
            receiver.signal(SIGKILL)
            receiver.wait()
        }
        try #require(port > 0)
        let dir = try scriptFolder([
            "book.lua": "webhook('slow', {event = 'x'})\nprint('settling')\n",
            "cxrun.toml": "[webhooks.slow]\nurl = \"http://127.0.0.1:\(port)/hook\"\nsecret_env = \"SLOW_SECRET\"\n",
        ])
        let r = try await runCLI(["run", "book.lua"], in: dir, interruptWhenPrinted: "settling", signal: signal,
                                 environment: ["SLOW_SECRET": "slow-secret-123456"])
        #expect(r.status == code, "\(r.stderr)")
        #expect(r.stderr.contains("1 webhook deliveries were still running when the run ended"),
                "the signal ended the wait for the delivery, which the receiver never answers: \(r.stderr)")
        let show = try await runCLI(["audit", "show"] + [try latestRun(in: dir)], in: dir)
        #expect(show.stdout.contains("webhook"), "\(show.stdout)")
    }

    private func latestRun(in dir: URL) async throws -> String {
        let runs = try await runCLI(["audit", "runs"], in: dir)
        return String(runs.stdout.split(separator: "\n").first { $0.contains("book.lua") }?.split(separator: " ").first ?? "")
    }
}
