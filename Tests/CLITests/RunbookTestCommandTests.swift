import Foundation
import Runbook
import Testing
import TestSupport

/// `cxrun test`: runbook tests against fresh sandbox tenants, as a script author uses it.
@Suite("cxrun test")
struct RunbookTestCommandTests {
    static let book = """
        local q = fetch(cx.args.queue)
        deploy(q.id, build(q, {maxWaitTime = tonumber(cx.args.wait)}))
        print("set", q.id, cx.args.wait)
        """

    static let tests = """
        local function first(t) return t.sim.queues()[1] end

        test("deploys the wait time", function(t)
          local q = first(t)
          local r = t.run("book.lua", {queue = q.id, wait = "321"})
          t.truthy(r.ok, r.error)
          t.eq(t.sim.queue(q.id).maxWaitTime, 321)
          t.eq(r.calls[2].binding, "build")
        end)

        test("starts from a fresh tenant", function(t)
          t.eq(first(t).version, 1)
        end)

        test("reports a wrong expectation at its line", function(t)
          t.eq({a = 1, b = {2}}, {a = 1, b = {3}})
        end)

        test("raises checks the code", function(t)
          local q = first(t)
          t.sim.edit(q.id, {maxWaitTime = 100})
          t.raises(function() deploy(q.id, q) end, "conflict")
        end)
        """

    /// `cxrun test --help` and the README name every function of `t.sim` a test file gets.
    @Test func theHelpAndTheReadmeNameEveryTSimFunction() async throws {
        let dir = try scriptFolder(["keys_test.lua": """
            test("keys", function(t)
              local names = {}
              for k in pairs(t.sim) do names[#names + 1] = k end
              table.sort(names)
              print(table.concat(names, " "))
              t.eq(1, 2)
            end)
            """])
        let r = try await runCLI(["test", "keys_test.lua"], in: dir)
        let line = try #require(r.stdout.split(separator: "\n").first { $0.contains("queues") }, "\(r.stdout)")
        let names = line.split(separator: " ").map(String.init)
        #expect(names.count >= 9, "\(names)")
        let help = try await runCLI(["test", "--help"]).stdout
        let readme = try String(contentsOf: repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        for name in names {
            #expect(help.contains("t.sim.\(name)"), "cxrun test --help does not name t.sim.\(name)")
            #expect(readme.contains("`\(name)(") || readme.contains("`\(name){"), "the README does not name t.sim's \(name)")
        }
    }

    /// The README's worked example — a runbook and its test file — checks and passes as printed:
    /// a README that drifted from what cxrun does would teach it wrong.
    @Test func theReadmesWorkedExampleChecksAndPasses() async throws {
        let readme = try String(contentsOf: repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "## Writing and testing runbooks").dropFirst().first)
        let blocks = section.components(separatedBy: "```lua\n").dropFirst().prefix(2).compactMap { $0.components(separatedBy: "```").first }
        try #require(blocks.count == 2 && blocks[0].hasPrefix("-- scripts/max_wait.lua") && blocks[1].hasPrefix("-- scripts/max_wait_test.lua"),
                     "the section starts with the runbook, then its tests")
        let dir = try scriptFolder(["scripts/max_wait.lua": blocks[0], "scripts/max_wait_test.lua": blocks[1]])
        let check = try await runCLI(["check", "scripts"], in: dir)
        #expect(check.status == 0, "\(check.stdout) \(check.stderr)")
        let test = try await runCLI(["test", "scripts"], in: dir)
        #expect(test.status == 0 && test.stdout.hasSuffix("3 passed, 0 failed\n"), "\(test.stdout) \(test.stderr)")
    }

    @Test func runsEachTestAgainstItsOwnTenantAndReportsFailuresAtTheirLine() async throws {
        let dir = try scriptFolder(["book.lua": Self.book, "book_test.lua": Self.tests])
        let r = try await runCLI(["test", "book_test.lua", "--junit", "results.xml"], in: dir)
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("ok    book_test.lua: deploys the wait time"), "\(r.stdout)")
        #expect(r.stdout.contains("ok    book_test.lua: starts from a fresh tenant"), "isolated: \(r.stdout)")
        #expect(r.stdout.contains("FAIL  book_test.lua: reports a wrong expectation at its line\n      book_test.lua:16: expected {a = 1, b = {3}}\n           got {a = 1, b = {2}}\n      diff:\n        b[1]: expected 3, got 2"),
                "\(r.stdout)")
        // deploy outside a run's context is not a binding here: the test file sees only test().
        #expect(r.stdout.contains("FAIL  book_test.lua: raises checks the code"), "\(r.stdout)")
        #expect(r.stdout.hasSuffix("2 passed, 2 failed\n"), "\(r.stdout)")
        let xml = try String(contentsOf: dir.appendingPathComponent("results.xml"), encoding: .utf8)
        #expect(xml.contains("<testsuite name=\"book_test.lua\" tests=\"4\" failures=\"2\">") && xml.contains("<failure message="), "\(xml)")
        let filtered = try await runCLI(["test", "--filter", "fresh"], in: dir)
        #expect(filtered.status == 0 && filtered.stdout.hasSuffix("1 passed, 0 failed\n"), "\(filtered.stdout)")
        let none = try await runCLI(["test", "nowhere"], in: dir)
        #expect(none.status == 2)
    }

    /// What a test printed is how its author debugs it: shown under its failure (and in the JUnit
    /// file), not dropped; a passing test's is not shown; a print in a loop is cut, not kept whole.
    /// A declaration mistake fails that test at its line, and the file goes on: `test(fn)` said
    /// "bad argument #1 to 'contain'" and ran nothing after it; a name used twice gave two results
    /// of one name, which a JUnit reader shows as one.
    @Test func aBadOrRepeatedDeclarationFailsAtItsLine() async throws {
        let dir = try scriptFolder(["decl_test.lua": """
            test(function(t) end)
            test("same", function(t) t.truthy(true) end)
            test("same", function(t) t.truthy(true) end)
            test("after", function(t) t.truthy(true) end)
            """])
        let r = try await runCLI(["test", "decl_test.lua"], in: dir)
        #expect(r.status == 1, "\(r.stderr)")
        // Without each test's time, " (0.01 s)".
        let lines = r.stdout.split(separator: "\n").map { $0.replacing(#/\s\([0-9.]+ s\)$/#, with: "") }
        #expect(lines == [
            "FAIL  decl_test.lua: (unnamed test)",
            "      decl_test.lua:1: test(name, fn) needs a name (a string) and a function, got function and nil",
            "ok    decl_test.lua: same",
            "FAIL  decl_test.lua: same",
            "      decl_test.lua:3: a test named \"same\" is already declared at decl_test.lua:2; give each test a name of its own",
            "ok    decl_test.lua: after",
            "2 passed, 2 failed",
        ], "\(r.stdout)")
    }

    /// A test file's globals are Lua's, cx, log and test, as `cxrun check` knows them: it passed
    /// `fetch(id)` in a test, which then failed with "attempt to call a nil value". Both now say
    /// that bindings belong to runbooks, and what a test uses instead.
    @Test func aTestFileHasNoBindingsAndCheckAndTestSaySo() async throws {
        let dir = try scriptFolder(["globals_test.lua": """
            test("globals", function(t)
              local names = {}
              for name in pairs(_G) do names[#names + 1] = name end
              print(table.concat(names, " "))
              t.truthy(false)
            end)
            test("direct", function(t) fetch("q1") end)
            """])
        let r = try await runCLI(["test", "globals_test.lua"], in: dir)
        let printed = r.stdout.split(separator: "\n").first { $0.hasPrefix("        _") || $0.contains(" _G") }
        #expect(Set((printed ?? "").split(separator: " ").map(String.init)) == RunbookChecker.testGlobals, "\(r.stdout)")
        #expect(r.stdout.contains("globals_test.lua:7: attempt to call a nil value (global 'fetch') (fetch is a binding of runbooks, not of test files: "
                                  + "run the script with t.run, read the tenant with t.sim)"), "\(r.stdout)")
        let c = try await runCLI(["check", "globals_test.lua"], in: dir)
        #expect(c.status == 1 && (c.stdout + c.stderr).contains("globals_test.lua:7: fetch is a binding of runbooks, not of test files"), "\(c.stdout)\(c.stderr)")
    }

    /// t.run given what it cannot use fails at the test's line: args as a string ran the script
    /// with none, a number among positional args was dropped, `{dryrun = true}` made a real run.
    @Test func tRunRefusesArgumentsItCannotUse() async throws {
        let dir = try scriptFolder(["args.lua": "print(cx.args[1], cx.args[2], cx.args.name)\n", "args_test.lua": """
            test("string", function(t) t.run("args.lua", "name=ops") end)
            test("table value", function(t) t.run("args.lua", {name = {1}}) end)
            test("option", function(t) t.run("args.lua", {}, {dryrun = true}) end)
            test("kept", function(t) t.eq(t.run("args.lua", {"name=ops", 5}).stdout, "name=ops\\t5\\tops\\n") end)
            """])
        let r = try await runCLI(["test", "args_test.lua"], in: dir)
        #expect(r.stdout.contains("""
            FAIL  args_test.lua: string
                  args_test.lua:1: t.run: args must be a table such as {name = "ops"} or {"name=ops"}, got string
            FAIL  args_test.lua: table value
                  args_test.lua:2: t.run: args["name"] is a table; an argument is a string, number or boolean, as on the command line
            FAIL  args_test.lua: option
                  args_test.lua:3: t.run: unknown option 'dryrun' (did you mean dry_run?); known: dry_run
            ok    args_test.lua: kept
            """), "\(r.stdout)")
    }

    /// A field t.run's result (or one of its calls) does not have raises at the test's line,
    /// naming the fields it has: `out.status`, or a misspelt `out.eror`, read as nil, and
    /// `t.eq(out.eror, nil)` passed whatever the run did. A field a call does not have is nil,
    /// not cx.null (truthy: `if c.error_code then` held for every call).
    @Test func tRunsResultRefusesFieldsItDoesNotHave() async throws {
        let dir = try scriptFolder(["book.lua": "local q = fetch(queues()[1].id)\nerror('stop')\n", "book_test.lua": """
            test("misspelt", function(t) t.eq(t.run("book.lua").eror, nil) end)
            test("guessed", function(t)
              local out = t.run("book.lua")
              t.eq(out.status, "failed")
            end)
            test("compared", function(t) t.eq(t.run("book.lua"), {ok = false, sucess = false}) end)
            test("a call's", function(t) t.eq(t.run("book.lua").calls[1].bindng, "queues") end)
            test("known", function(t)
              local out = t.run("book.lua")
              t.eq(out.ok, false)
              t.matches(out.error, "stop")
              t.eq(out.calls[2].binding, "fetch")
              t.eq(out.calls[2].error_code, nil)
              t.eq(out.calls[2].http_status, 200)
              t.eq(out.calls[1].target, nil)
              t.truthy(not out.calls[1].error_code)
            end)
            """])
        let r = try await runCLI(["test", "book_test.lua"], in: dir)
        let fields = "its fields: calls, error, lost, ok, planned, run_id, stdout"
        #expect(r.stdout.contains("""
            FAIL  book_test.lua: misspelt
                  book_test.lua:1: t.run's result has no field "eror" (did you mean error?); \(fields)
            FAIL  book_test.lua: guessed
                  book_test.lua:4: t.run's result has no field "status"; \(fields)
            FAIL  book_test.lua: compared
                  book_test.lua:6: t.run's result has no field "sucess"; \(fields)
            FAIL  book_test.lua: a call's
                  book_test.lua:7: a call of t.run's result has no field "bindng" (did you mean binding?); \
            its fields: binding, error_code, http_status, result, status, target
            ok    book_test.lua: known
            """), "\(r.stdout)")
        #expect(r.status == 1 && r.stdout.contains("1 passed, 4 failed"), "\(r.stdout)")
    }

    /// A test can keep its run's write in flight (`holdWrites`), act while it is, and let it go:
    /// `t.sim.faults()` reads the faults with `writesHeld` (it cleared them), so the test waits
    /// on a condition, not on a latency it hopes is long enough.
    @Test func aTestCanActWhileItsRunsWriteIsInFlight() async throws {
        let dir = try scriptFolder(["book.lua": "local q = fetch(queues()[1].id)\ndeploy(q.id, build(q, {maxWaitTime = 333}))\n",
                                    "book_test.lua": """
            test("another admin edits while the write is in flight", function(t)
              local q = t.sim.queues()[1]
              t.sim.faults { holdWrites = 1 }
              t.eq(t.sim.faults().holdWrites, 1)
              local run = cx.spawn(t.run, "book.lua")
              while t.sim.faults().writesHeld < 1 do cx.sleep(0.01) end
              t.sim.edit(q.id, { maxHoldTime = 99 })
              t.sim.faults {}
              local r = cx.wait(run)
              t.truthy(r.ok, r.error)
              t.eq(r.calls[#r.calls].result.merged, true)
              t.eq(t.sim.queue(q.id).maxWaitTime, 333)
              t.eq(t.sim.queue(q.id).maxHoldTime, 99)
              t.eq(t.sim.faults().holdWrites, 0)
            end)
            """])
        let r = try await runCLI(["test", "book_test.lua"], in: dir)
        #expect(r.status == 0 && r.stdout.contains("1 passed, 0 failed"), "\(r.stdout) \(r.stderr)")
    }

    /// Nothing tested is not a pass: `--filter` with a typo, or a file whose tests are all
    /// commented out, ended "0 passed, 0 failed" with exit 0, keeping a CI green.
    @Test func whenNoTestRunsItSaysSoAndFails() async throws {
        let dir = try scriptFolder(["one_test.lua": "test(\"sets the wait\", function(t) t.truthy(true) end)\n",
                                    "none_test.lua": "-- test(\"later\", function(t) end)\n"])
        let filtered = try await runCLI(["test", "one_test.lua", "--filter", "set the wait"], in: dir)
        #expect(filtered.status == 1 && filtered.stderr.contains("cxrun: no test ran: --filter 'set the wait' matched no test's name"),
                "\(filtered.stdout) \(filtered.stderr)")
        let empty = try await runCLI(["test", "none_test.lua"], in: dir)
        #expect(empty.status == 1 && empty.stderr.contains("cxrun: none_test.lua declares no test"), "\(empty.stderr)")
        let both = try await runCLI(["test", "one_test.lua", "none_test.lua"], in: dir)
        #expect(both.status == 0 && both.stderr.contains("none_test.lua declares no test"), "one file with tests passes, the other is named: \(both.stderr)")
    }

    /// A script run by t.run reads its tenant's clock in os.time() and os.date(), pinned as the
    /// tenant's is (03:00 unless t.sim.clock says otherwise): a runbook deciding by the hour read
    /// this machine's, and its test passed or failed by the hour it ran at. `cxrun run` against
    /// the in-process sandbox tenant pinned by CXRUN_SANDBOX_CLOCK reads it too.
    @Test func aScriptUnderTestReadsItsTenantsClock() async throws {
        let dir = try scriptFolder([
            "hour.lua": "print(os.date('!%Y-%m-%d %H', os.time()), os.date('!%H'), os.time() - os.time({year = 2026, month = 1, day = 5, hour = 0}) < 86400)\n",
            "hour_test.lua": """
                test("pinned", function(t)
                  t.eq(t.run("hour.lua").stdout, "2026-01-05 03\\t03\\ttrue\\n")
                  t.sim.clock("2026-01-05T12:00:00Z")
                  t.eq(t.run("hour.lua").stdout, "2026-01-05 12\\t12\\ttrue\\n")
                end)
                """,
        ])
        let r = try await runCLI(["test", "hour_test.lua"], in: dir)
        #expect(r.status == 0 && r.stdout.contains("1 passed, 0 failed"), "\(r.stdout) \(r.stderr)")
        // So does `cxrun run` against the in-process sandbox tenant pinned by CXRUN_SANDBOX_CLOCK.
        let pinned = try await runCLI(["run", "hour.lua"], in: dir)  // the harness pins 03:00
        #expect(pinned.status == 0 && pinned.stdout == "2026-01-05 03\t03\ttrue\n", "\(pinned.stdout) \(pinned.stderr)")
        let noon = try await runCLI(["run", "hour.lua"], in: dir, environment: ["CXRUN_SANDBOX_CLOCK": "2026-01-05T12:00:00Z"])
        #expect(noon.status == 0 && noon.stdout == "2026-01-05 12\t12\ttrue\n", "\(noon.stdout) \(noon.stderr)")
    }

    /// A task a test spawned and nothing waited for fails the file once it has ended, saying so:
    /// it said "the file stopped here: the tests after this point did not run", and they had.
    @Test func aTaskNothingWaitedForFailsTheFileWithoutClaimingTestsWereSkipped() async throws {
        let dir = try scriptFolder(["spawn_test.lua": """
            test("spawns", function(t)
              cx.spawn(function() t.eq(1, 2) end)
              t.truthy(true)
            end)
            test("later", function(t) t.eq(2, 2) end)
            """])
        let r = try await runCLI(["test", "spawn_test.lua"], in: dir)
        #expect(r.status == 1 && r.stdout.contains("ok    spawn_test.lua: later"), "\(r.stdout)")
        #expect(r.stdout.contains("(in a task that nothing waited for: cx.wait it to handle its error)"), "\(r.stdout)")
        #expect(!r.stdout.contains("did not run"), "\(r.stdout)")
    }

    /// A test that checks nothing cannot fail, whatever the script does: it fails, naming its
    /// line. `assert` counts as a check, as the t.* checks do.
    @Test func aTestThatChecksNothingFails() async throws {
        let dir = try scriptFolder([
            "book.lua": "error('broken')\n",
            "book_test.lua": """
                test("runs but checks nothing", function(t)
                  t.run("book.lua")
                end)
                test("asserts", function(t) assert(not t.run("book.lua").ok) end)
                test("checks", function(t) t.truthy(not t.run("book.lua").ok) end)
                """,
        ])
        let r = try await runCLI(["test", "book_test.lua"], in: dir)
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.hasPrefix("""
            FAIL  book_test.lua: runs but checks nothing
                  book_test.lua:1: the test checked nothing, so it could not fail: check what the run did (t.eq, t.truthy, t.matches, t.raises or assert)
            ok    book_test.lua: asserts
            """), "\(r.stdout)")
        #expect(r.stdout.contains("ok    book_test.lua: checks") && r.stdout.contains("2 passed, 1 failed"), "\(r.stdout)")
    }

    /// Two values that differ are shown so that they read differently: `0.1 + 0.2` against 0.3
    /// read "expected 0.3, got 0.3", NaN "expected -nan, got -nan", and "é" against "e" + U+0301
    /// "expected "Café", got "Café"".
    @Test func aFailedEqualityShowsValuesThatReadTheSameApart() async throws {
        let dir = try scriptFolder(["eq_test.lua": """
            test("sum", function(t) t.eq(0.1 + 0.2, 0.3) end)
            test("nan", function(t) t.eq(0/0, 0/0) end)
            test("text", function(t) t.eq({name = "Caf\u{E9}"}, {name = "Cafe\u{301}"}) end)
            test("same", function(t) t.eq(300, 300.0) end)
            """])
        let r = try await runCLI(["test", "eq_test.lua"], in: dir)
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("eq_test.lua:1: expected 0.3\n           got 0.30000000000000004\n"), "\(r.stdout)")
        #expect(r.stdout.contains("eq_test.lua:2: expected NaN\n           got NaN\n           (NaN equals nothing, itself included"), "\(r.stdout)")
        // By bytes: Swift's own search takes "é" and "e" + U+0301 for one character.
        let line = Array(#"name: expected "Cafe\#u{301}" ("Cafe\u{301}"), got "Caf\#u{E9}" ("Caf\u{E9}")"#.utf8)
        #expect(Array(r.stdout.utf8).firstRange(of: line) != nil, "\(r.stdout)")
        #expect(r.stdout.contains("ok    eq_test.lua: same") && r.stdout.contains("1 passed, 3 failed"), "\(r.stdout)")
    }

    @Test func aFailedTestShowsWhatItPrinted() async throws {
        let dir = try scriptFolder(["print_test.lua": """
            print("outside any test")
            test("fails", function(t)
              print("looking at", t.sim.queues()[1].name)
              log.warn("a warning")
              t.eq(1, 2)
            end)
            test("passes", function(t) print("quiet"); t.eq(1, 1) end)
            test("floods", function(t)
              for i = 1, 20000 do print("line " .. i) end
              error("flooded")
            end)
            """])
        let r = try await runCLI(["test", "print_test.lua", "--junit", "out.xml"], in: dir)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("""
            FAIL  print_test.lua: fails
                  print_test.lua:5: expected 2
                       got 1
                  printed:
                    looking at\tVoice - Billing 1
                    [warn] a warning
            ok    print_test.lua: passes
            """), "\(r.stdout)")
        #expect(!r.stdout.contains("outside any test") && !r.stdout.contains("quiet"), "\(r.stdout)")
        #expect(r.stdout.contains("        line 1\n") && r.stdout.contains("        [output cut at 64 KiB]\n") && !r.stdout.contains("line 20000"),
                "\(r.stdout.suffix(300))")
        let xml = try String(contentsOf: dir.appendingPathComponent("out.xml"), encoding: .utf8)
        #expect(xml.contains("<system-out>looking at\tVoice - Billing 1\n[warn] a warning\n</system-out>")
                && xml.contains("name=\"passes\" time=") && xml.contains("<system-out>quiet\n</system-out>"), "\(xml.prefix(600))")
    }

    /// A test that hangs (a wait, a loop) fails alone at its time limit and the file goes on: it
    /// held the whole file for its 10-minute deadline before.
    @Test func aTestPastItsTimeLimitFailsAloneAndTheFileGoesOn() async throws {
        let dir = try scriptFolder(["hang_test.lua": """
            test("waits", function(t) print("waiting") cx.sleep(600) end)
            test("spins", function(t) while true do end end)
            test("runs a book that hangs", function(t) t.run("sleeper.lua") end)
            test("still runs", function(t) t.eq(t.sim.queues()[1].version, 1) end)
            """, "sleeper.lua": "cx.sleep(600)\n"])
        let tmp = try temporaryFolder("cxrun-test-tmp")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let r = try await runCLI(["test", "hang_test.lua", "--timeout", "1"], in: dir, environment: ["TMPDIR": tmp])
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("""
            FAIL  hang_test.lua: waits
                  hang_test.lua:1: the test ran past its 1 s limit and was stopped (cxrun test --timeout)
                  printed:
                    waiting
            FAIL  hang_test.lua: spins
                  hang_test.lua:2: the test ran past its 1 s limit and was stopped (cxrun test --timeout)
            FAIL  hang_test.lua: runs a book that hangs
                  hang_test.lua: the test ran past its 1 s limit and was stopped (cxrun test --timeout)
            ok    hang_test.lua: still runs
            """), "\(r.stdout)")
        #expect(r.stdout.hasSuffix("1 passed, 3 failed\n"), "\(r.stdout)")
        // The hanging book's run was stopped with its test, its audit file removed.
        let left = try FileManager.default.contentsOfDirectory(atPath: tmp)
        #expect(left.isEmpty, "\(left)")
        let bad = try await runCLI(["test", "hang_test.lua", "--timeout", "0"], in: dir)
        #expect(bad.status == 2 && bad.stderr.contains("--timeout must be between 0 and 86400 seconds"), "\(bad.stderr)")
    }

    /// Ctrl-C during `cxrun test` stops the test running, removes its tenant's state, starts no
    /// further file, and says what ran and what did not (it ended at once, saying nothing, its
    /// tenant's folder left behind).
    @Test func anInterruptedTestRunSaysWhatRanAndLeavesNothingBehind() async throws {
        let dir = try scriptFolder([
            "a_test.lua": "test('waits', function(t) t.sim.queues() cx.sleep(60) end)\ntest('never', function(t) end)\n",
            "b_test.lua": "test('not started', function(t) end)\n",
        ])
        let tmp = try temporaryFolder("cxrun-test-tmp")
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let tenants: @Sendable () -> [String] = { ((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).filter { $0.hasPrefix("cxrun-test-sim-") } }
        let r = try await runCLI(["test", "a_test.lua", "b_test.lua"], in: dir, interruptWhen: { !tenants().isEmpty }, environment: ["TMPDIR": tmp])
        #expect(r.status == 130, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.hasPrefix("FAIL  a_test.lua: waits\n      a_test.lua:1: interrupted\n      the file stopped here: the tests after this point did not run\n"),
                "\(r.stdout)")
        #expect(r.stdout.hasSuffix("0 passed, 1 failed; interrupted, 1 file not run\n"), "\(r.stdout)")
        #expect(tenants().isEmpty, "the test's tenant state is removed: \(tenants())")
    }

    @Test func aTestThatRunsAwayFailsAloneAndTheOthersStillRun() async throws {
        let dir = try scriptFolder(["loop_test.lua": """
            test("runs away", function(t)
              while true do end
            end)

            test("still runs", function(t)
              t.eq(#t.sim.queues() > 0, true)
            end)

            test("raises a table", function(t)
              error({code = "x"})
            end)
            """])
        // The instruction limit stops it, whatever the machine's speed (not the time limit).
        let r = try await runCLI(["test", "loop_test.lua", "--timeout", "86400"], in: dir)
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("FAIL  loop_test.lua: runs away\n      loop_test.lua:2: instruction limit exceeded"), "\(r.stdout)")
        #expect(r.stdout.contains("ok    loop_test.lua: still runs") && r.stdout.hasSuffix("1 passed, 2 failed\n"), "\(r.stdout)")
        #expect(r.stdout.contains("FAIL  loop_test.lua: raises a table\n      error object {code = \"x\"}\n"), "its contents, not its address: \(r.stdout)")
    }

    /// A run whose fire-and-forget delivery failed is not ok (cxrun run exits 4 for it); t.run
    /// said ok = true.
    @Test func aRunWithWorkThatDidNotHappenIsNotOK() async throws {
        let dir = try scriptFolder(["hook.lua": "webhook('wfm', {event = 'x'})\nprint('sent')\n", "hook_test.lua": """
            test("a delivery that fails", function(t)
              t.sim.faults { webhook500 = 1.0 }
              local r = t.run("hook.lua")
              t.eq(r.ok, false)
              t.matches(r.error, "work that did not happen: webhook 'wfm' delivery")
              t.eq(#r.lost, 1)
            end)
            test("a delivery that lands", function(t)
              local r = t.run("hook.lua")
              t.eq({r.ok, #r.lost}, {true, 0})
            end)
            """])
        let r = try await runCLI(["test", "hook_test.lua"], in: dir)
        #expect(r.status == 0 && r.stdout.hasSuffix("2 passed, 0 failed\n"), "\(r.stdout) \(r.stderr)")
    }

    /// A test that runs out of memory fails alone when what it allocated is garbage once it ends;
    /// one that keeps it (a global) stops the file, and the report names that test and says the
    /// rest did not run (it said "(file)", and "0 passed, 1 failed" for a file of four tests).
    @Test func aTestOutOfMemoryFailsAloneUnlessItKeepsTheMemory() async throws {
        let dir = try scriptFolder(["memory_test.lua": """
            test("wastes memory", function(t)
              local waste = {}
              for i = 1, 100 do waste[i] = ("x"):rep(1 << 20) .. i end
              local too_big = ("y"):rep(200 << 20)
            end)

            test("still runs", function(t)
              t.eq(#t.sim.queues() > 0, true)
            end)

            test("keeps memory", function(t)
              kept = {}
              for i = 1, 1000 do kept[i] = ("z"):rep(1 << 20) end
            end)

            test("never runs", function(t) end)
            """])
        let r = try await runCLI(["test", "memory_test.lua"], in: dir)
        #expect(r.status == 1, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("FAIL  memory_test.lua: wastes memory\n      memory_test.lua:4: memory limit exceeded (256 MiB)\n"), "\(r.stdout)")
        #expect(r.stdout.contains("ok    memory_test.lua: still runs"), "\(r.stdout)")
        #expect(r.stdout.contains("FAIL  memory_test.lua: keeps memory\n      memory_test.lua:13: memory limit exceeded (256 MiB)")
                && r.stdout.contains("the tests after this point did not run"), "\(r.stdout)")
        #expect(!r.stdout.contains("never runs") && r.stdout.hasSuffix("1 passed, 2 failed\n"), "\(r.stdout)")
    }
}
