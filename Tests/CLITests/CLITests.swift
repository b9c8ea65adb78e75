import Foundation
import TestSupport
import JSONCore
import Runbook
import Testing

@Suite("cxrun command line")
struct CLITests {
    @Test func helpExplainsCommandsAndExitCodes() async throws {
        let r = try await runCLI(["--help"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("run") && r.stdout.contains("check"))
        #expect(r.stdout.contains("3    a sandbox limit was hit"))
        // The exit-code table is hard-wrapped: a line past 80 columns was wrapped again, leaving a
        // lone "a" at the margin. Every line of it keeps its indent.
        let table = r.stdout.components(separatedBy: "Exit codes:\n").last?.components(separatedBy: "\n\n").first ?? ""
        #expect(table.split(separator: "\n").allSatisfy { $0.hasPrefix("  ") } && table.contains("string larger than Lua can hold"), "\(table)")
        let run = try await runCLI(["run", "--help"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("--timeout") && run.stdout.contains("--memory") && run.stdout.contains("--instructions"))
    }

    /// The defaults the help names are the ones a run gets (they are written in the help text,
    /// not rendered by ArgumentParser).
    @Test func helpNamesTheDefaultsRunsGet() async throws {
        let limits = RunLimits()
        let run = try await runCLI(["run", "--help"])
        let text = run.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(text.contains("in seconds (default: \(Int(limits.timeout)))."))
        #expect(text.contains("in MiB (default: \(limits.memoryBytes >> 20))."))
        #expect(text.contains("of the run (default: \(limits.instructions))."))
        #expect(text.contains("cx.each (default: \(RunbookRequest.defaultConcurrency))."))
        #expect(text.contains("naming the holder (default: \(Int(RunbookRequest.defaultLockTimeout)))."))
        let repl = try await runCLI(["repl", "--help"])
        let replHelp = repl.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(replHelp.contains("of each chunk (default: \(limits.instructions))."))
        #expect(replHelp.contains("in MiB (default: \(limits.memoryBytes >> 20))."))
        let plan = try await runCLI(["plan", "--help"])
        #expect(plan.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ").contains("in seconds (default: \(Int(limits.timeout)))."))
        // And a run without the option gets the default: 320 MiB of strings pass the cap only when raised.
        let dir = try scriptFolder(["big.lua": "local t = {}\nfor i = 1, 40 do t[i] = string.rep('x', 8 << 20) end\nprint(#t)\n"])
        let capped = try await runCLI(["run", "big.lua"], in: dir)
        #expect(capped.status == 3 && capped.stderr.contains("memory"), "\(capped.stderr)")
        let raised = try await runCLI(["run", "--memory", "1024", "big.lua"], in: dir)
        #expect(raised.status == 0 && raised.stdout.hasPrefix("40\n"), "\(raised.stderr)")
        // A string larger than Lua can hold at all is stopped as a runaway too, but not with the
        // advice to raise --memory (it said "used more than 256 MiB", with nothing allocated).
        try "local s = string.rep('x', 2^40)\n".write(to: dir.appendingPathComponent("huge.lua"), atomically: true, encoding: .utf8)
        let huge = try await runCLI(["run", "--memory", "4096", "huge.lua"], in: dir)
        #expect(huge.status == 3 && huge.stderr.contains("huge.lua:1: resulting string too large\ncxrun: size limit hit: "
                                                           + "the script built a string larger than Lua can hold (2 GiB), whatever --memory allows"),
                "\(huge.stderr)")
        #expect(!huge.stderr.contains("raise it with --memory"), "\(huge.stderr)")
    }

    @Test func helloRunbookPrints() async throws {
        let r = try await runCLI(["run", "scripts/hello.lua", "--", "name=ci"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("hello, ci (Lua 5.4)\n"))
        #expect(r.stdout.contains("squares: 1, 4, 9, 16"))
        #expect(r.stderr.contains(" succeeded in ") && r.stderr.contains(" s against tenant sandbox\n"), "the summary names the tenant: \(r.stderr)")
    }

    /// Script arguments given without `--` were ArgumentParser's bare "unexpected argument": the
    /// refusal now ends with the command line as it should have been.
    @Test func scriptArgumentsWithoutTheSeparatorGetTheFixedCommandLine() async throws {
        let r = try await runCLI(["run", "--dry-run", "--tenant", "sandbox", "scripts/hello.lua", "name=ci", "x"])
        #expect(r.status == 2 && r.stdout.isEmpty, "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("\nHint: arguments for the script go after `--`: cxrun run --dry-run --tenant sandbox scripts/hello.lua -- name=ci x\n"),
                "\(r.stderr)")
        let plan = try await runCLI(["plan", "--out=p.cxplan", "scripts/hello.lua", "name=ci"])
        #expect(plan.status == 2 && plan.stderr.contains("Hint: arguments for the script go after `--`: cxrun plan --out=p.cxplan scripts/hello.lua -- name=ci\n"),
                "\(plan.stderr)")
        let other = try await runCLI(["run", "--tenant"])
        #expect(other.status == 2 && !other.stderr.contains("Hint:"), "no hint where no script argument was misplaced: \(other.stderr)")
    }

    /// The hint keeps its own list of run's and plan's value-less flags (ArgumentParser does not
    /// expose them): every flag their usage line shows must be on it, else the hint takes the
    /// script for the flag's value and suggests a wrong command line.
    @Test func theHintKnowsEveryFlagOfRunAndPlan() async throws {
        for command in ["run", "plan"] {
            let usage = try await runCLI([command, "--help"]).stdout.split(separator: "\n").first { $0.hasPrefix("USAGE:") } ?? ""
            let flags = usage.split(separator: "[").compactMap { part -> String? in
                let option = part.split(separator: "]").first.map(String.init) ?? ""
                return option.hasPrefix("--") && !option.contains("<") ? option : nil
            }
            #expect(flags.contains("--json"), "\(command): \(usage)")
            for flag in flags {
                let r = try await runCLI([command, flag, "scripts/hello.lua", "name=ci"])
                #expect(r.stderr.contains("Hint: arguments for the script go after `--`: cxrun \(command) \(flag) scripts/hello.lua -- name=ci\n"),
                        "\(command) \(flag): \(r.stderr)")
            }
        }
    }

    @Test func scriptErrorExitsOneNamingTheLine() async throws {
        let dir = try scriptFolder(["broken.lua": "local x = 1\nerror('boom')\n"])
        let r = try await runCLI(["run", "broken.lua"], in: dir)
        #expect(r.status == 1)
        #expect(r.stderr.contains("cxrun: broken.lua:2: boom"))
        #expect(r.stderr.contains("stack traceback:"))
        #expect(!r.stderr.contains("[cx]"), "host frames are hidden")
    }

    /// What is not a Lua source file is named as such: a folder said "cannot read script", luac's
    /// output "attempt to load a binary chunk (mode is 't')", naming no file. A `#!` first line
    /// runs, with the error's line number as in the file.
    @Test func aFolderOrACompiledChunkIsNamedAndAShebangRuns() async throws {
        let dir = try scriptFolder(["compiled.lua": "\u{1B}Lua\u{54}\u{00}", "tool.lua": "#!/usr/bin/env -S cxrun run\nprint('ran')\nerror('boom')\n"])
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("books"), withIntermediateDirectories: true)
        let folder = try await runCLI(["run", "books"], in: dir)
        #expect(folder.status == 2 && folder.stderr.contains("cxrun: script 'books' is a folder, not a Lua file"), "\(folder.stderr)")
        let compiled = try await runCLI(["run", "compiled.lua"], in: dir)
        #expect(compiled.status == 1 && compiled.stderr.contains("cxrun: compiled.lua: a compiled Lua chunk (luac's output)"), "\(compiled.stderr)")
        let tool = try await runCLI(["run", "tool.lua"], in: dir)
        #expect(tool.status == 1 && tool.stdout == "ran\n" && tool.stderr.contains("cxrun: tool.lua:3: boom"), "\(tool.stdout) \(tool.stderr)")
    }

    /// A script that is not there, not a file, or far too large says which (it was "cannot read
    /// script" for each; a 1 GiB file named by mistake was read whole: 2 GiB and 22 s).
    @Test func aScriptThatCannotBeReadSaysWhy() async throws {
        let dir = try scriptFolder(["uses.lua": "require 'lib.huge'\n"])
        for (name, bytes) in [("huge.lua", ScriptFile.maxBytes + 1), ("lib/huge.lua", 64 << 20)] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("lib"), withIntermediateDirectories: true)
            #expect(FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: nil))
            let handle = try FileHandle(forWritingTo: dir.appendingPathComponent(name))
            try handle.truncate(atOffset: UInt64(bytes))  // sparse: nothing is written
            try handle.close()
        }
        #expect(mkfifo(dir.appendingPathComponent("pipe.lua").path, 0o600) == 0)
        let missing = try await runCLI(["run", "nope.lua"], in: dir)
        #expect(missing.status == 2 && missing.stderr.contains("cxrun: script 'nope.lua' does not exist"), "\(missing.stderr)")
        let pipe = try await runCLI(["run", "pipe.lua"], in: dir)
        #expect(pipe.status == 2 && pipe.stderr.contains("script 'pipe.lua' is not a regular file"), "\(pipe.stderr)")
        let huge = try await runCLI(["check", "huge.lua"], in: dir)
        #expect(huge.status == 2 && huge.stderr.contains("script 'huge.lua' is \(ScriptFile.maxBytes + 1) bytes long; at most \(ScriptFile.maxBytes) are read"),
                "\(huge.stderr)")
        let module = try await runCLI(["run", "uses.lua"], in: dir)
        #expect(module.status == 1 && module.stderr.contains("module 'lib.huge' is too large (\(64 << 20) bytes)"), "\(module.stderr)")
    }

    @Test func limitExitsThree() async throws {
        let dir = try scriptFolder(["spin.lua": "while true do end\n"])
        let r = try await runCLI(["run", "--instructions", "1000000", "spin.lua"], in: dir)
        #expect(r.status == 3)
        #expect(r.stderr.contains("spin.lua:1: instruction limit exceeded"))
        #expect(r.stderr.contains("raise it with --instructions"))
    }

    @Test func deadlineHoldsDuringOneLongCCall() async throws {
        // A backtracking pattern runs for minutes inside one C call, where no hook fires.
        // The calls before it were buffered in memory: the watchdog writes them before the process ends.
        let dir = try scriptFolder(["pattern.lua": """
            local q = fetch(queues()[1].id)
            build(q, {maxWaitTime = 99})
            local s = string.rep('a', 40000)
            print(s:find('.-.-.-.-.-.-.-b'))

            """, "seed.lua": "queues()\n"])
        // The sandbox tenant starts on the first call, inside the run's deadline: seeded first,
        // its start is quick.
        let seeded = try await runCLI(["run", "seed.lua"], in: dir)
        #expect(seeded.status == 0, "\(seeded.stderr)")
        let r = try await runCLI(["run", "--timeout", "4", "pattern.lua"], in: dir)
        #expect(r.status == 3)
        #expect(r.stderr.contains("deadline hit"))
        #expect(r.seconds < 30, "stopped by the watchdog, not by the pattern finishing")
        let export = try await runCLI(["audit", "export", "--format", "jsonl"], in: dir)
        let rows = export.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        let run = rows.first { $0["type"] == "run" && $0["script"] == "pattern.lua" }
        let calls = rows.filter { $0["type"] == "call" && $0["run_id"] == run?["id"] }
        #expect(calls.compactMap { $0["binding"]?.stringValue } == ["queues", "fetch", "build"], "\(export.stdout)")
        #expect(run?["status"] == "failed", "\(export.stdout)")
    }

    @Test func checkReportsSyntaxErrorsWithFileAndLine() async throws {
        let dir = try scriptFolder(["good.lua": "print('fine')\n", "bad.lua": "local x = 1\nif x then\n"])
        let r = try await runCLI(["check", "good.lua", "bad.lua"], in: dir)
        #expect(r.status == 1)
        #expect(r.stdout.contains("ok  good.lua"))
        #expect(r.stderr.contains("bad.lua:3: 'end' expected"))
        let ok = try await runCLI(["check", "good.lua"], in: dir)
        #expect(ok.status == 0)
    }

    /// A misspelt binding is found before a run stops at it: a read of a global nothing defines
    /// fails the check at its line, with the closest name; what the script sets itself, the
    /// sandbox's names and (in a test file) `test` are defined.
    @Test func checkNamesAGlobalNothingDefines() async throws {
        let dir = try scriptFolder([
            "typo.lua": "local q = fetch(queues()[1].id)\ndeploy(q.id, biuld(q, {maxWaitTime = 5}))\nprint(undefined_thing, biuld)\nprint = nil\n",
            "own.lua": "limit = 3\nlocal function f() return limit + #cx.args end\nprint(f(), rawget(_G, \"maybe\"), string.rep('x', 2))\n",
            "own_test.lua": "test('x', function(t) t.eq(1, 1) end)\n",
            // A module runs in the script's environment: what it sets is defined for the script.
            "uses.lua": "require('lib.helpers')\nprint(helper(1), cx.validate ~= nil)\n",
            "lib/helpers.lua": "require 'lib.more'\nfunction helper(x) return more(x) end\n",
            "lib/more.lua": "more = function(x) return x end\n",
        ])
        let r = try await runCLI(["check", "typo.lua", "own.lua", "own_test.lua", "uses.lua"], in: dir)
        #expect(r.status == 1 && r.stdout == "ok  own.lua\nok  own_test.lua\nok  uses.lua\n", "\(r.stdout)")
        #expect(r.stderr == """
            typo.lua:2: biuld is not defined (did you mean build?): neither a binding nor a global the script sets
            typo.lua:3: undefined_thing is not defined: neither a binding nor a global the script sets
            typo.lua:4: print is the sandbox's own; assigning it replaces it for the rest of the run (use a local)

            """, "\(r.stderr)")
    }

    /// A misspelt helper of `cx` (`cx.require_sucess`) and a module no root holds (`cx.valdiate`)
    /// fail the check at their lines, with the closest name: they stopped a run there, after its
    /// earlier changes.
    @Test func checkNamesAFieldOfCxAndAModuleNothingDefines() async throws {
        let dir = try scriptFolder([
            "typo.lua": "local rows = cx.each({}, print)\ncx.require_sucess(rows)\nlocal v = require('cx.valdiate')\nlocal h = require('lib.helpr')\nprint(cx.zzzz)\n",
            "fine.lua": "local v = require('cx.validate')\nlocal h = require('lib.helper')\nprint(cx.change, cx.args, cx.tenant, cx.null, v, h)\n",
            "lib/helper.lua": "return {}\n",
        ])
        let r = try await runCLI(["check", "typo.lua", "fine.lua"], in: dir)
        #expect(r.status == 1 && r.stdout == "ok  fine.lua\n", "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.hasPrefix("""
            typo.lua:2: cx.require_sucess is not defined (did you mean cx.require_success?): cx holds the bindings and cx.each, cx.change, …
            typo.lua:3: module 'cx.valdiate' not found (did you mean cx.validate?); looked for:\u{20}
            """), "\(r.stderr)")
        #expect(r.stderr.contains("typo.lua:4: module 'lib.helpr' not found (did you mean lib.helper?)"), "\(r.stderr)")
        #expect(r.stderr.contains("typo.lua:5: cx.zzzz is not defined: cx holds"), "\(r.stderr)")
    }

    /// `-- wait=60 wait=90` ran with wait 60: the first of a repeated KEY won, unseen.
    @Test func aScriptArgumentKeyGivenTwiceIsAUsageError() async throws {
        let dir = try scriptFolder(["book.lua": "print(cx.args.wait)\n"])
        for command in ["run", "plan"] {
            let r = try await runCLI([command, "book.lua", "--", "wait=60", "limit=3", "wait=90"], in: dir)
            #expect(r.status == 2 && r.stderr.contains("script argument wait is given twice (wait=60 and wait=90): give it once"), "\(r.stderr)")
            #expect(r.stdout.isEmpty, "nothing ran: \(r.stdout)")
        }
    }

    /// A folder stands for its .lua files (it was "cannot read script"); a binary chunk's refusal
    /// names the file too (Lua's message names none).
    @Test func checkTakesFoldersAndNamesTheFileOfEveryError() async throws {
        let dir = try scriptFolder(["books/a.lua": "print(1)\n", "books/deep/b.lua": "if\n", "books/notes.txt": "not lua", "bin.lua": "\u{1B}Lua"])
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("empty"), withIntermediateDirectories: true)
        let r = try await runCLI(["check", "books", "bin.lua"], in: dir)
        #expect(r.status == 1 && r.stdout == "ok  books/a.lua\n", "\(r.stdout)")
        #expect(r.stderr.contains("books/deep/b.lua:2: unexpected symbol") && r.stderr.contains("bin.lua: a compiled Lua chunk (luac's output)"), "\(r.stderr)")
        #expect(!r.stderr.contains("notes.txt"))
        let empty = try await runCLI(["check", "empty"], in: dir)
        #expect(empty.status == 2 && empty.stderr.contains("no .lua files in empty"), "\(empty.stderr)")
    }

    @Test(arguments: [
        ["run"], ["run", "--timeout", "-1", "x.lua"], ["run", "does-not-exist.lua"], ["bogus"], ["check"],
        ["check", "does-not-exist.lua"], ["run", "--memory", "1", "x.lua"], ["run", "--memory", "99999999999999", "x.lua"],
        ["run", "--timeout", "1e300", "x.lua"], ["run", "--timeout", "nan", "x.lua"], ["run", "--concurrency", "100000", "x.lua"],
    ])
    func usageErrorsExitTwo(_ arguments: [String]) async throws {
        let r = try await runCLI(arguments)
        #expect(r.status == 2, "\(arguments): \(r.stderr)")
        #expect(!r.stderr.isEmpty)
    }

    /// A negative number given to a numeric option was "Missing value for '--timeout'" (read as an
    /// option of its own); it now reaches the option's check, which names the range. `plan
    /// --timeout` had no check at all: 0, -1 or nan planned with no deadline.
    @Test(arguments: [
        ["run", "--timeout", "-1", "x.lua"], ["run", "--concurrency", "-2", "x.lua"], ["run", "--lock-timeout", "-3", "x.lua"],
        ["plan", "--timeout", "-1", "x.lua"], ["plan", "--timeout", "0", "x.lua"], ["plan", "--timeout", "nan", "x.lua"],
        ["test", "--timeout", "-1"], ["audit", "runs", "--limit", "-1"], ["sim", "--queues", "-5"], ["sim", "--rate-limit", "-1"],
    ])
    func aNegativeNumberReachesItsOptionsCheck(_ arguments: [String]) async throws {
        let dir = try scriptFolder(["x.lua": "print('ran')\n"])
        let r = try await runCLI(arguments, in: dir)
        let option = arguments.first { $0.hasPrefix("--") } ?? ""
        #expect(r.status == 2 && r.stdout.isEmpty, "\(arguments): \(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("\(option) must") && !r.stderr.contains("Missing value"), "\(arguments): \(r.stderr)")
    }

    @Test func interruptStopsTheScriptAndExits130() async throws {
        let dir = try scriptFolder(["forever.lua": "print('started')\nwhile true do end\n"])
        let r = try await runCLI(["run", "--instructions", "999999999999", "--timeout", "120", "forever.lua"], in: dir,
                                 interruptWhenPrinted: "started")
        #expect(r.status == 130)
        #expect(r.stderr.contains("forever.lua:2: interrupted"))
        let runs = try await runCLI(["audit", "runs"], in: dir)
        #expect(runs.stdout.contains("aborted"), "the run is recorded as aborted: \(runs.stdout)")
    }

    @Test func sigtermStopsTheScriptWritesEveryRowAndExits143() async throws {
        let dir = try scriptFolder(["forever.lua": "local q = fetch(queues()[1].id)\nprint('started')\nwhile true do end\n"])
        let r = try await runCLI(["run", "--instructions", "999999999999", "--timeout", "120", "forever.lua"], in: dir,
                                 interruptWhenPrinted: "started", signal: SIGTERM)
        #expect(r.status == 143, "\(r.stderr)")
        #expect(r.stderr.contains("terminated, stopping the script") && r.stderr.contains("forever.lua:3: interrupted"), "\(r.stderr)")
        let export = try await runCLI(["audit", "export", "--format", "jsonl"], in: dir)
        let rows = export.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        #expect(rows.filter { $0["type"] == "call" }.compactMap { $0["binding"]?.stringValue } == ["queues", "fetch"], "\(export.stdout)")
        #expect(rows.first { $0["type"] == "run" }?["status"] == "aborted", "\(export.stdout)")
    }
}

@Suite("cxrun stdlib discovery")
struct StdlibDiscoveryTests {
    @Test func checkoutBinaryFindsTheStdlib() async throws {
        let dir = try scriptFolder(["uses_diff.lua": "local d = require 'cx.diff'\nprint(d.format(d.diff({a = 1}, {a = 2})))\n"])
        let r = try await runCLI(["run", "uses_diff.lua"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "~ a: 1 -> 2\n")
    }

    @Test func installedLayoutFindsTheStdlib() async throws {
        // PREFIX/bin/cxrun next to PREFIX/share/cxrun/stdlib, as `make install` lays it out.
        let prefix = URL(fileURLWithPath: try temporaryFolder("prefix"))
        defer { try? FileManager.default.removeItem(at: prefix) }
        try FileManager.default.createDirectory(at: prefix.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: prefix.appendingPathComponent("share/cxrun"), withIntermediateDirectories: true)
        // A hard link where it can be (no writer ever holds the new file open); else a copy,
        // which a process forked by another test at that moment may hold open for writing until
        // it execs (ETXTBSY): starting it is then tried again.
        let installed = prefix.appendingPathComponent("bin/cxrun").path
        if link(cxrunBinary, installed) != 0 { try FileManager.default.copyItem(atPath: cxrunBinary, toPath: installed) }
        try FileManager.default.copyItem(at: repoRoot.appendingPathComponent("stdlib"), to: prefix.appendingPathComponent("share/cxrun/stdlib"))
        let dir = try scriptFolder(["s.lua": "print(require('cx.diff').render({1, 2}))\n"])
        var started: ChildProcess?
        for attempt in 1...100 where started == nil {
            do {
                started = try ChildProcess(installed, ["run", "s.lua"], directory: dir.path, stdout: .pipe)
            } catch let error as ChildProcessError where error.code == ETXTBSY && attempt < 100 {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let process = try #require(started)
        let data = try await offPool { process.stdout?.readDataToEndOfFile() ?? Data() }
        #expect(await process.exitCode() == 0)
        #expect(String(decoding: data, as: UTF8.self) == "[1, 2]\n")
    }
}

@Suite("cxrun sim")
struct SimCommandTests {
    @Test func servesUntilInterruptedThenExitsCleanly() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        // Interrupted once it listens (a fixed delay raced its start-up on a loaded machine).
        let r = try await runCLI(["sim", "--port", "0", "--db", dir.appendingPathComponent("state.sqlite").path], in: dir,
                                 interruptWhenPrinted: "listening on")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("listening on http://127.0.0.1:"))
        #expect(r.stdout.contains("client:  cxrun-demo / cxrun-demo-secret"))
        #expect(r.stderr.contains("sandbox tenant stopped"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("state.sqlite").path))
    }

    /// A port taken and a state file of another kind are said in words, exit 2 (they were NIO's
    /// "bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)" and "Error: …").
    @Test func aTakenPortAndAnAuditLogForStateAreSaidPlainly() async throws {
        let dir = try scriptFolder(["book.lua": "print(1)\n"])
        let (first, baseURL) = try await startSim(in: dir)
        defer { first.terminate() }
        let port = String(baseURL.split(separator: ":").last ?? "")
        let taken = try await runCLI(["sim", "--port", port, "--db", "other.sqlite"], in: dir)
        #expect(taken.status == 2 && taken.stderr.contains("cxrun: cannot start the sandbox tenant: 127.0.0.1:\(port) is in use"), "\(taken.stderr)")
        let ran = try await runCLI(["run", "book.lua"], in: dir)
        #expect(ran.status == 0, "\(ran.stderr)")
        let log = try await runCLI(["sim", "--port", "0", "--db", ".cxrun/audit.sqlite"], in: dir)
        #expect(log.status == 2 && log.stderr.contains("cxrun: cannot start the sandbox tenant: .cxrun/audit.sqlite is a cxrun audit log"), "\(log.stderr)")
    }

    @Test(arguments: [["sim", "--host", "0.0.0.0"], ["sim", "--fault", "status429=3"], ["sim", "--client", "nosecret"], ["sim", "--port", "70000"]])
    func badSimOptionsExitTwo(_ arguments: [String]) async throws {
        let r = try await runCLI(arguments)
        #expect(r.status == 2, "\(arguments): \(r.stderr)")
    }
}
