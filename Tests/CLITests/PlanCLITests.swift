import Foundation
import JSONCore
import Testing

/// `cxrun plan`, `cxrun show`, `cxrun apply` as an operator uses them (the in-process sandbox tenant).
@Suite("cxrun plan / show / apply")
struct PlanCLITests {
    static let book = """
        local q = fetch(queues({channel = "voice"})[1].id)
        deploy(q.id, build(q, {maxWaitTime = 444}))
        print(q.id)
        """

    /// A queue named with terminal escapes (another admin's, a hostile tenant's) cannot clear the
    /// reviewer's screen, retitle the window or reorder a line: plan, show, apply and the audit
    /// log show the characters as escapes.
    @Test func namesWithTerminalEscapesAreShownNotObeyed() async throws {
        let dir = try scriptFolder(["name.lua": #"""
            local q = fetch(queues({channel = "voice"})[1].id)
            deploy(q.id, build(q, {name = "Evil\27[2J\27]0;pwned\7 \u{202E}queue", description = "a\u{9B}31mb"}))
            """#, "book.lua": Self.book])
        let named = try await runCLI(["run", "name.lua"], in: dir)
        #expect(named.status == 0, "\(named.stderr)")
        let plan = try await runCLI(["plan", "book.lua", "--out", "change.cxplan"], in: dir)
        let show = try await runCLI(["show", "change.cxplan"], in: dir)
        let apply = try await runCLI(["apply", "change.cxplan"], in: dir)
        let audit = try await runCLI(["audit", "show"], in: dir)
        for (what, r) in [("plan", plan), ("show", show), ("apply", apply), ("audit show", audit)] {
            #expect(r.status == 0, "\(what): \(r.stdout) \(r.stderr)")
            #expect(r.stdout.contains(#"Evil\u{1B}[2J\u{1B}]0;pwned\u{7} \u{202E}queue"#), "\(what): \(r.stdout)")
            let obeyed = r.stdout.unicodeScalars.filter { $0 == "\u{1B}" || $0 == "\u{7}" || $0 == "\u{202E}" || $0 == "\u{9B}" }
            #expect(obeyed.isEmpty, "\(what) wrote \(obeyed.count) raw control characters: \(r.stdout)")
        }
    }

    /// `--out` (and `test --junit`) naming no plain file: a device is written in place, a symlink's
    /// target is written and the link kept. The plan was written beside /dev/full and renamed over
    /// it — as root, /dev/full became a regular file holding the plan — and "plan saved" printed.
    @Test func anOutputPathThatIsNoPlainFileIsWrittenInPlace() async throws {
        let dir = try scriptFolder(["book.lua": Self.book, "none_test.lua": "test(\"x\", function(t) end)\n"])
        let full = try await runCLI(["plan", "book.lua", "--out", "/dev/full"], in: dir)
        #expect(full.status == 1 && full.stderr.contains("cannot save the plan to /dev/full: No space left on device"), "\(full.stderr)")
        let junit = try await runCLI(["test", "none_test.lua", "--junit", "/dev/full"], in: dir)
        #expect(junit.status == 2 && junit.stderr.contains("No space left on device"), "\(junit.stdout) \(junit.stderr)")
        var info = stat()
        #expect(stat("/dev/full", &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR, "/dev/full is still the device")
        let folder = try await runCLI(["plan", "book.lua", "--out", "."], in: dir)
        #expect(folder.status == 1 && folder.stderr.contains("cannot save the plan to .: it is a directory"), "\(folder.stderr)")
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("latest.cxplan").path, withDestinationPath: "plans/one.cxplan")
        let linked = try await runCLI(["plan", "book.lua", "--out", "latest.cxplan"], in: dir)
        #expect(linked.status == 0, "\(linked.stderr)")
        let kept = try FileManager.default.destinationOfSymbolicLink(atPath: dir.appendingPathComponent("latest.cxplan").path)
        #expect(kept == "plans/one.cxplan" && FileManager.default.fileExists(atPath: dir.appendingPathComponent("plans/one.cxplan").path))
        let shown = try await runCLI(["show", "latest.cxplan"], in: dir)
        #expect(shown.status == 0 && shown.stdout.hasPrefix("plan plan-"), "\(shown.stdout) \(shown.stderr)")
    }

    /// A plan path that is no plain file is refused naming what it is (a FIFO would hang the read).
    @Test func aPlanPathThatIsNoPlainFileIsRefused() async throws {
        let dir = try scriptFolder(["book.lua": Self.book])
        #expect(mkfifo(dir.appendingPathComponent("plan.fifo").path, 0o600) == 0)
        for (path, says) in [("/dev/zero", "it is not a regular file"), ("plan.fifo", "it is not a regular file"), (".", "it is a directory")] {
            for command in ["show", "apply"] {
                let r = try await runCLI([command, path], in: dir)
                #expect(r.status == 2 && r.stderr.contains("cannot read plan file '\(path)': \(says)"), "\(command) \(path): \(r.stderr)")
            }
        }
    }

    /// A plan with nothing to change is saved and applied as such, and the apply says so rather
    /// than printing nothing at all.
    @Test func aPlanWithNoChangesSaysSoWhenApplied() async throws {
        let dir = try scriptFolder(["look.lua": "print(#queues())\n"])
        let plan = try await runCLI(["plan", "look.lua", "--out", "look.json"], in: dir)
        #expect(plan.status == 0 && plan.stdout.contains("(no changes)"), "\(plan.stdout) \(plan.stderr)")
        let apply = try await runCLI(["apply", "look.json"], in: dir)
        #expect(apply.status == 0 && apply.stdout == "the plan holds no changes: nothing was written\n", "\(apply.stdout) \(apply.stderr)")
    }

    @Test func planReviewApplyAndRollBack() async throws {
        let dir = try scriptFolder(["book.lua": Self.book, "other_admin.lua": """
            local q = fetch(queues({channel = "voice"})[1].id)
            deploy(q.id, build(q, {maxWaiters = 12}))
            """])
        let plan = try await runCLI(["plan", "book.lua", "--out", "change.cxplan"], in: dir)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("~ maxWaitTime: ") && plan.stdout.contains("-> 444") && plan.stdout.contains("Plan: 1 queue to change."),
                "\(plan.stdout)")
        #expect(plan.stderr.contains("plan saved: change.cxplan") && plan.stderr.contains("cxrun apply change.cxplan"), "\(plan.stderr)")
        let id = plan.stdout.split(separator: "\n").first.map(String.init) ?? ""
        let show = try await runCLI(["show", "change.cxplan"], in: dir)
        #expect(show.status == 0 && show.stdout.contains("script:  book.lua") && show.stdout.contains("-> 444"), "\(show.stdout) \(show.stderr)")
        // Its header a line per field (each line break was shown as \u{A}, the header on one line).
        #expect(show.stdout.hasPrefix("plan plan-") && show.stdout.contains("\n  tenant:  sandbox (") && !show.stdout.contains("\\u{A}"),
                "\(show.stdout)")

        // What was reviewed is what is applied: the script may change or vanish meanwhile.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("book.lua"))
        let other = try await runCLI(["run", "other_admin.lua"], in: dir)  // another admin, another field
        #expect(other.status == 0, "\(other.stderr)")
        let apply = try await runCLI(["apply", "change.cxplan"], in: dir)
        #expect(apply.status == 0, "\(apply.stdout) \(apply.stderr)")
        #expect(apply.stdout.hasPrefix("merged") && apply.stdout.contains(id), "\(apply.stdout)")
        try "local q = fetch(queues({channel = \"voice\"})[1].id)\nprint(q.maxWaitTime, q.maxWaiters)\n"
            .write(to: dir.appendingPathComponent("read.lua"), atomically: true, encoding: .utf8)
        let read = try await runCLI(["run", "read.lua"], in: dir)
        #expect(read.stdout == "444\t12\n", "the plan's change and the other admin's both hold: \(read.stdout) \(read.stderr)")
        let again = try await runCLI(["apply", "change.cxplan"], in: dir)
        #expect(again.status == 2 && again.stderr.contains("has been applied"), "\(again.stderr)")

        let runID = apply.stderr.split(separator: " ").dropFirst(2).first.map(String.init) ?? ""
        let shown = try await runCLI(["audit", "show", runID], in: dir)
        #expect(shown.stdout.contains("plan     plan-") && shown.stdout.contains("-> 444"), "\(shown.stdout)")
        // A queue the run did not touch is named, with what it did (no empty "reassigned: " list).
        let untouched = try await runCLI(["rollback", "--run", runID, "no-such-queue"], in: dir)
        #expect(untouched.status != 0 && untouched.stderr.contains("did not deploy queue no-such-queue nor reassign user no-such-queue (it deployed: \(id))"),
                "\(untouched.stderr)")
        let rollback = try await runCLI(["rollback", "--run", runID], in: dir)
        #expect(rollback.status == 0 && rollback.stdout.contains("ok   queue Voice - ") && rollback.stdout.contains(" (\(id)): restored"), "\(rollback.stdout) \(rollback.stderr)")
    }

    /// Ctrl-C during an apply (its first write held by a standalone sim until released): no write starts
    /// after it, the one in flight stays unknown (pending), the run is recorded aborted with the
    /// targets left named, exit 130; its rollback, run the same way and interrupted too, is
    /// finished by running it again, and the queues are as before the apply.
    @Test func anInterruptedApplyAndAnInterruptedRollbackStopCleanlyAndFinishLater() async throws {
        let dir = try scriptFolder(["book.lua": """
            for i, q in ipairs(queues()) do
              if i > 5 then break end
              deploy(q.id, build(fetch(q.id), {maxWaitTime = 400 + i}))
            end
            """, "read.lua": """
            local out = {}
            for _, q in ipairs(queues()) do out[#out + 1] = q.id .. "=" .. q.maxWaitTime end
            print(table.concat(out, ","))
            """])
        let (sim, baseURL) = try await startSim(in: dir)
        defer { sim.terminate() }
        try "[tenants.ops]\nbase_url = \"\(baseURL)\"\nclient_id = \"ops\"\nclient_secret_env = \"OPS_SECRET\"\n"
            .write(to: dir.appendingPathComponent("cxrun.toml"), atomically: true, encoding: .utf8)
        let env = ["OPS_SECRET": "S3cret-From-Env-4321"]
        let before = try await runCLI(["run", "read.lua"], in: dir, environment: env)
        let plan = try await runCLI(["plan", "book.lua", "--out", "five.cxplan"], in: dir, environment: env)
        #expect(plan.status == 0 && plan.stdout.contains("Plan: 5 queues to change."), "\(plan.stdout) \(plan.stderr)")
        // The apply's first write, then the rollback's, stay in the tenant until released.
        #expect(try await curlPut(baseURL + "/_sim/faults", #"{"holdWrites": 2}"#))

        let apply = try await runCLI(["apply", "five.cxplan"], in: dir, interruptWhen: { tenantHoldsWrites(baseURL, 1) }, environment: env)
        let applyRun = apply.stderr.split(separator: "\n").first { $0.hasPrefix("apply run ") }?.split(separator: " ")[2] ?? ""
        #expect(apply.status == 130, "\(apply.stdout) \(apply.stderr)")
        #expect(apply.stdout.contains("not attempted: the apply was interrupted") && apply.stdout.contains("may have been applied"), "\(apply.stdout)")
        #expect(apply.stderr.contains("the apply was interrupted; cxrun rollback --run \(applyRun)"), "\(apply.stderr)")
        let shown = try await runCLI(["audit", "show", String(applyRun)], in: dir)
        #expect(shown.stdout.contains("status   aborted") && shown.stdout.contains("interrupted after"), "\(shown.stdout)")

        let rollback = try await runCLI(["rollback", "--run", String(applyRun)], in: dir, interruptWhen: { tenantHoldsWrites(baseURL, 2) },
                                        environment: env)
        #expect(rollback.status == 130 && rollback.stderr.contains("the rollback was interrupted; run it again"), "\(rollback.stdout) \(rollback.stderr)")
        #expect(try await curlPut(baseURL + "/_sim/faults", "{}"))
        // The writes cut off may still land; the second rollback fences them.
        let again = try await runCLI(["rollback", "--run", String(applyRun)], in: dir, environment: env)
        #expect(again.status == 0, "\(again.stdout) \(again.stderr)")
        let after = try await runCLI(["run", "read.lua"], in: dir, environment: env)
        #expect(after.stdout == before.stdout && !before.stdout.isEmpty, "as before the apply:\n\(before.stdout)\n\(after.stdout)")
    }

    /// A plan whose change breaks cxrun's rules is refused by `apply` with the problem listed and
    /// exit 1; `--ignore-rules` applies it, for a rule stricter than the tenant (the sandbox takes
    /// waits up to a day; cxrun's rules, the seeds' platform, an hour), and the audit log says so.
    @Test func aPlanBreakingTheRulesIsRefusedUnlessTheOperatorIgnoresThem() async throws {
        let dir = try scriptFolder(["long.lua": """
            local q = fetch(queues({channel = "voice"})[1].id)
            deploy(q.id, build(q, {maxWaitTime = 5000}))
            """, "read.lua": "print(fetch(queues({channel = \"voice\"})[1].id).maxWaitTime)\n"])
        let plan = try await runCLI(["plan", "long.lua", "--out", "long.cxplan"], in: dir)
        #expect(plan.status == 0 && plan.stdout.contains("! maxWaitTime must be between 1 and 3600, got 5000"), "\(plan.stdout) \(plan.stderr)")
        let refused = try await runCLI(["apply", "long.cxplan"], in: dir)
        #expect(refused.status == 1, "\(refused.stdout) \(refused.stderr)")
        #expect(refused.stderr.contains("the plan breaks cxrun's rules, with the tenant as it is now; nothing was written:\n")
                && refused.stderr.contains("    ! maxWaitTime must be between 1 and 3600, got 5000\n") && refused.stderr.contains("--ignore-rules"),
                "\(refused.stderr)")
        #expect(try await runCLI(["run", "read.lua"], in: dir).stdout != "5000\n", "nothing written")
        let forced = try await runCLI(["apply", "long.cxplan", "--ignore-rules"], in: dir)
        #expect(forced.status == 0 && forced.stdout.hasPrefix("applied "), "\(forced.stdout) \(forced.stderr)")
        #expect(try await runCLI(["run", "read.lua"], in: dir).stdout == "5000\n")
        let audit = try await runCLI(["audit", "runs", "--json"], in: dir)
        #expect(audit.stdout.contains(#""ignore_rules":true"#), "the override is in the audit log: \(audit.stdout)")
    }

    @Test func aStalePlanIsRefusedNamingTheFieldAndATamperedOneExitsTwo() async throws {
        let dir = try scriptFolder(["book.lua": Self.book, "same_field.lua": """
            local q = fetch(queues({channel = "voice"})[1].id)
            deploy(q.id, build(q, {maxWaitTime = 555}))
            """])
        let plan = try await runCLI(["plan", "book.lua", "--json"], in: dir)
        #expect(plan.status == 0, "\(plan.stderr)")
        let saved = try JSONValue.parse(plan.stdout)
        #expect(saved["format"] == "cxrun-plan/1" && saved["digest"]?.stringValue?.hasPrefix("sha256:") == true, "\(plan.stdout)")
        let path = plan.stderr.components(separatedBy: "plan saved: ").last?.split(separator: "\n").first.map(String.init) ?? ""
        #expect(path.hasPrefix(".cxrun/plans/plan-") && path.hasSuffix(".cxplan"), "\(plan.stderr)")

        let tampered = dir.appendingPathComponent("tampered.cxplan")
        try plan.stdout.replacingOccurrences(of: "444", with: "445").write(to: tampered, atomically: true, encoding: .utf8)
        let refused = try await runCLI(["apply", "tampered.cxplan"], in: dir)
        #expect(refused.status == 2 && refused.stderr.contains("changed after planning"), "\(refused.stderr)")

        _ = try await runCLI(["run", "same_field.lua"], in: dir)
        let stale = try await runCLI(["apply", path], in: dir)
        #expect(stale.status == 1, "\(stale.stdout) \(stale.stderr)")
        #expect(stale.stderr.contains("the plan is stale; nothing was written") && stale.stderr.contains(": maxWaitTime"), "\(stale.stderr)")
    }
}
