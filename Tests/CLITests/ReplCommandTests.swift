import Foundation
import JSONCore
import Testing

/// `cxrun repl` scripted through standard input (not a terminal: no prompts, a chunk at a time).
@Suite("cxrun repl")
struct ReplCommandTests {
    @Test func evaluatesChunksKeepsGlobalsShowsErrorsAndAuditsOneSession() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        let input = """
            q = fetch(queues()[1].id)
            q.version
            doc = {
              name = q.name,
              levels = cx.array {1, 2},
            }
            doc
            error("boom")
            fetch("no-such-queue")
            deploy(q.id, build(q, {maxWaitTime = 333}))
            fetch(q.id).maxWaitTime
            x = (
            """
        let r = try await runCLI(["repl", "--dry-run"], in: dir, input: input)
        #expect(r.status == 1 && r.stderr.contains("cxrun: 3 of 9 chunks failed\n"), "a piped session whose chunks failed exits 1 at its end: \(r.stderr)")
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "1", "an expression shows its value: \(r.stdout)")
        #expect(r.stdout.contains("\"levels\" : [\n    1,\n    2\n  ]"), "a table as indented JSON, after a multi-line chunk: \(r.stdout)")
        #expect(r.stdout.contains("error: stdin:8: boom\n"), "errors do not end the session, and name the input's line: \(r.stdout)")
        #expect(r.stdout.contains("error: not_found: "), "\(r.stdout)")
        #expect(r.stdout.contains("\"planned\" : true"), "--dry-run plans writes: \(r.stdout)")
        #expect(r.stdout.contains("\n333\n"), "a dry run's fetch reads its planned write, as a real run reads its write: \(r.stdout)")
        #expect(r.stdout.contains("dry run: nothing was changed. Planned changes:\n~ ") && r.stdout.contains("-> 333\nPlan: 1 queue to change.\n"),
                "the session ends with its plan, as a dry run does: \(r.stdout)")
        let export = try await runCLI(["audit", "export", "--format", "jsonl"], in: dir)
        let rows = export.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
        #expect(rows.filter { $0["type"] == "run" }.map { $0["script"] } == ["cxrun repl"], "one run row per session")
        #expect(rows.filter { $0["type"] == "call" }.compactMap { $0["binding"]?.stringValue } == ["queues", "fetch", "fetch", "build", "deploy", "fetch"],
                "\(export.stdout)")
        let tenant = try await runCLI(["repl"], in: dir, input: "fetch(queues()[1].id).maxWaitTime\n")
        #expect(tenant.status == 0 && tenant.stdout != "333\n", "nothing was written: \(tenant.stdout)")
    }

    /// Piped input is a script, and its errors name the script's line: every chunk's said
    /// "stdin:1:", whichever line of the file it was on. Multi-line chunks count every line.
    @Test func aPipedScriptsErrorsNameItsLines() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        let input = "x = 1\nt = {\n  a = 1,\n}\nerror('third chunk')\nif x then\n  y = = 2\nend\nprint(t.a + x)\nlocal z = nil + 1\n"
        let r = try await runCLI(["repl"], in: dir, input: input)
        // As in `lua`, the chunk a syntax error ends is dropped and the next line starts a new one.
        #expect(r.stdout == """
            error: stdin:5: third chunk
            error: stdin:7: unexpected symbol near '='
            error: stdin:8: <eof> expected near 'end'
            2
            error: stdin:10: attempt to perform arithmetic on a nil value

            """, "\(r.stdout)")
        #expect(r.status == 1 && r.stderr.contains("cxrun: 4 of 7 chunks failed"), "\(r.stderr)")
    }

    /// A line that is not UTF-8 (a Latin-1 terminal) is refused as a failed chunk, not repaired
    /// into U+FFFD and run.
    @Test func aLineThatIsNotUTF8IsRefusedNotRepaired() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        let input = Array("x = 'caf".utf8) + [0xE9] + Array("'\nx\n1 + 1\n".utf8)
        let r = try await runCLI(["repl"], in: dir, inputBytes: input)
        #expect(r.stdout == "error: the line is not UTF-8 text: byte 0xE9 at column 9 (is the terminal set to UTF-8?); it was not run\nnil\n2\n",
                "\(r.stdout)")
        #expect(r.status == 1 && r.stderr.contains("cxrun: 1 of 3 chunks failed\n"), "\(r.stderr)")
    }

    /// A local ends with its chunk, as in `lua`; the error that follows says so, naming it, and so
    /// does the name alone at the prompt (it showed a bare `nil`).
    @Test func aLocalOfAnEarlierChunkIsNamedWhereItBites() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        let input = "local q, n <const> = queues()[1], 2\nq.name\nlocal function f() return 1 end\nf()\nn + 1\nundefined_thing.x\nn\nundefined_thing\n"
        let r = try await runCLI(["repl"], in: dir, input: input)
        let hint = " was local to an earlier chunk and ended with it; drop `local` to keep a value)"
        #expect(r.stdout == """
            error: stdin:2: attempt to index a nil value (global 'q') (q\(hint)
            error: stdin:4: attempt to call a nil value (global 'f') (f\(hint)
            error: stdin:5: attempt to perform arithmetic on a nil value (global 'n') (n\(hint)
            error: stdin:6: attempt to index a nil value (global 'undefined_thing')
            nil
            (n\(hint)
            nil

            """, "\(r.stdout)")
    }

    /// `queues = queues()` at the prompt replaces the binding for the rest of the session, and the
    /// next `queues()` failed with "attempt to call a table value": the prompt says so once, at the
    /// assignment, and names what still calls the binding.
    @Test func assigningABindingsNameIsPointedOut() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        let r = try await runCLI(["repl"], in: dir, input: "queues = queues()\n#queues > 0\nqueues = 5\n#cx.queues() > 0\nmine = 1\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == """
            (queues was a binding; in this session the name now holds your value: cx.queues still calls the binding)
            true
            true

            """, "\(r.stdout)")
    }

    /// `help` at the prompt (it showed `nil`) lists the bindings and cx's helpers as the session has
    /// them; a global the session names `help` is its own, and shows as any value does.
    @Test func helpListsTheBindingsUnlessTheSessionDefinedHelp() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        let r = try await runCLI(["repl"], in: dir, input: "help\nhelp()\nhelp = 5\nhelp\n")
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let bindings = try #require(lines.first { $0.hasPrefix("bindings: ") }, "\(r.stdout)")
        for name in ["fetch", "deploy", "validate", "webhook", "agent_status", "rollback"] { #expect(bindings.contains(name), "\(bindings)") }
        #expect(r.stdout.contains("helpers:  cx.array, cx.change, cx.each, cx.require_success"), "\(r.stdout)")
        #expect(lines.filter { $0.hasPrefix("bindings: ") }.count == 2, "help and help() both show it")
        #expect(r.stdout.hasSuffix("Ctrl-D ends the session.\n5\n"), "\(r.stdout)")
    }

    /// A table raised as an error shows its contents (it said "error: table: 0x7f…"), and one
    /// whose __tostring fails is still reported; the session goes on.
    @Test func aTableErrorShowsItsContents() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        let r = try await runCLI(["repl"], in: dir, input: """
            error({code = "x"})
            error(setmetatable({}, {__tostring = function() error("nested") end}))
            print("still here")
            """)
        #expect(r.stdout == "error: error object {\n  \"code\" : \"x\"\n}\nerror: (error object is a table value)\nstill here\n", "\(r.stdout)")
        #expect(r.stderr.contains("cxrun: 2 of 3 chunks failed"), "\(r.stderr)")
    }

    /// A value JSON cannot carry is shown with the reason (it showed the host's own dump of its
    /// error type: "(table: ScriptError(value: JSONCore.JSONValue.string(…".
    @Test func aValueJSONCannotCarryIsShownWithTheReason() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        let r = try await runCLI(["repl"], in: dir, input: """
            {[1] = "a", ["1"] = "b"}
            {x = {[true] = 1}}
            """)
        #expect(r.stdout == """
            (a table JSON cannot show: two keys become the object key "1" (a number and a string))
            (a table JSON cannot show: a boolean key cannot become an object key at x)

            """, "\(r.stdout)")
        #expect(r.status == 0, "showing a value is no failure: \(r.stderr)")
    }

    @Test func aRunawayChunkIsStoppedAndTheSessionGoesOn() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        // Each chunk has the whole budget: the last one alone takes most of it.
        let input = "x = 42\nwhile true do end\nlocal n = 0 for i = 1, 300000 do n = n + i end return n, x + 1\n"
        let r = try await runCLI(["repl", "--instructions", "2000000"], in: dir, input: input)
        #expect(r.stdout == "error: stdin:2: instruction limit exceeded (2000000 instructions)\n45000150000\n43\n", "\(r.stdout) \(r.stderr)")
        #expect(r.status == 1 && r.stderr.contains("1 of 3 chunks failed"), "\(r.stderr)")
        let clean = try await runCLI(["repl"], in: dir, input: "1 + 1\n")
        #expect(clean.status == 0 && clean.stdout == "2\n", "\(clean.stdout) \(clean.stderr)")
    }

    @Test func aChunkCannotTakeTheSessionsOwnFunctionsAway() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        let r = try await runCLI(["repl"], in: dir, input: "print = nil\ntostring = nil\nerror = nil\n1 + 1\nerror('x')\n{a = 1}\n")
        #expect(r.stdout == "2\nerror: stdin:5: attempt to call a nil value (global 'error')\n{\n  \"a\" : 1\n}\n", "\(r.stdout) \(r.stderr)")
        #expect(r.status == 1 && r.stderr.contains("1 of 6 chunks failed"), "\(r.stderr)")
    }

    @Test func memoryIsTheSessionsAndItsLimitEndsIt() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        // The memory is the session's: a chunk that leaves a global holding all but a sixteenth of it ends it.
        let r = try await runCLI(["repl", "--memory", "16"], in: dir, input: "t = {} for i = 1, 1e8 do t[i] = ('x'):rep(1 << 16) end\n1 + 1\n")
        #expect(r.status == 3 && r.stderr.contains("the script used more than 16 MiB (raise it with --memory)"), "\(r.stdout) \(r.stderr)")
        // At the chunk's line, not a line of the REPL's own loop ("cxrun repl:1:").
        #expect(r.stderr.hasPrefix("cxrun: stdin:1: memory limit exceeded (16 MiB)\n"), "\(r.stderr)")
    }

    @Test func aChunkOutOfMemoryWhoseMemoryIsGarbageEndsAlone() async throws {
        // It ended the session, globals and all: what the chunk allocated is garbage once it ends.
        let dir = try scriptFolder(["placeholder.txt": ""])
        let input = "x = 42\nlocal s = {} for i = 1, 1e8 do s[i] = ('x'):rep(100) .. i end\nx + 1\n"
        let r = try await runCLI(["repl", "--memory", "16"], in: dir, input: input)
        #expect(r.stdout == "error: stdin:2: memory limit exceeded (16 MiB)\n43\n", "\(r.stdout) \(r.stderr)")
        #expect(r.status == 1 && r.stderr.contains("1 of 3 chunks failed"), "\(r.stderr)")
    }

    @Test func ctrlCStopsTheChunkAndTheSessionGoesOn() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        // The chunk prints, then loops: the signal comes once it runs, not while a line is read.
        let input = "print('looping') while true do end\nprint('after')\n"
        let r = try await runCLI(["repl", "--instructions", "999999999999"], in: dir, interruptWhenPrinted: "looping", input: input)
        #expect(r.stdout == "looping\nerror: stdin:1: interrupted\nafter\n", "\(r.stdout) \(r.stderr)")
        #expect(r.stderr.contains("cxrun: interrupted (Ctrl-C again to quit at once)"), "\(r.stderr)")
        #expect(r.status == 1 && r.stderr.contains("1 of 2 chunks failed"), "not 130: the session ended at the end of its input: \(r.stderr)")
    }

    @Test func sigtermEndsTheSessionNotJustTheChunk() async throws {
        let dir = try scriptFolder(["placeholder.txt": ""])
        let input = "print('looping') while true do end\nprint('after')\n"
        let r = try await runCLI(["repl", "--instructions", "999999999999"], in: dir, interruptWhenPrinted: "looping", signal: SIGTERM,
                                 input: input)
        #expect(r.status == 143 && !r.stdout.contains("after"), "\(r.stdout) \(r.stderr)")
        let runs = try await runCLI(["audit", "runs"], in: dir)
        #expect(runs.stdout.contains("aborted"), "the session is recorded as aborted: \(runs.stdout)")
    }

    /// Types each line once the prompt shows and the line editor has the terminal (libedit prints
    /// the prompt before it leaves canonical mode; a Ctrl-D typed in that window is read as a NUL
    /// and lost), then Ctrl-D; prints what the terminal showed. While the editor still holds the
    /// terminal a second after the Ctrl-D with nothing printed, the line is cleared (Ctrl-U) and
    /// Ctrl-D typed again: a loaded CI machine lost it once, and the session waited out the
    /// deadline. At its deadline it kills the REPL.
    static let terminalDriver = """
        import os, pty, signal, sys, termios, time, select
        lines = [l for l in os.environ["PTY_LINES"].split("\\n") if l]
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(sys.argv[1], sys.argv[1:])
        out, deadline, heard = b"", time.time() + 60, time.time()
        def pump():
            global out, heard
            r, _, _ = select.select([fd], [], [], 0.05)
            if not r:
                return True
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return False
            out += chunk
            heard = time.time()
            return bool(chunk)
        def editing():
            try:
                return not termios.tcgetattr(fd)[3] & termios.ICANON
            except termios.error:
                return False
        def wait_prompts(n):
            while (out.count(b"cx> ") < n or not editing()) and time.time() < deadline and pump():
                pass
        for i, line in enumerate(lines):
            wait_prompts(i + 1)
            os.write(fd, line.encode() + b"\\r")
        wait_prompts(len(lines) + 1)
        os.write(fd, b"\\x04")
        while time.time() < deadline and pump():
            if time.time() - heard > 1 and editing():
                os.write(fd, b"\\x15\\x04")
                heard = time.time()
        if time.time() >= deadline:
            os.kill(pid, signal.SIGKILL)
            out += b"\\n[driver: killed the REPL at its deadline]"
        os.waitpid(pid, 0)
        sys.stdout.write(out.decode("utf-8", "replace"))
        """

    /// Tab completes the session's names: a global's table keys (`x.alp` to `x.alpha_count`)
    /// and the host's own (`cx.ea` to `cx.each`), nothing added after them.
    @Test func onATerminalTabCompletesTheSessionsNames() async throws {
        let dir = try scriptFolder(["drive.py": Self.terminalDriver])
        let r = try await runCLI([dir.appendingPathComponent("drive.py").path, cxrunBinary, "repl"], in: dir,
                                 environment: ["HOME": dir.path, "PTY_LINES": "x = {alpha_count = 7}\nx.alp\t + 1\ntype(cx.ea\t)"],
                                 executable: "/usr/bin/python3")
        let screen = r.stdout.replacingOccurrences(of: "\r", with: "")
        #expect(screen.contains("\n8\n") && screen.contains("\nfunction\n"), "\(screen) \(r.stderr)")
        let history = try String(contentsOf: dir.appendingPathComponent(".cxrun_history"), encoding: .utf8)
        // libedit keeps a space as \040 in its history file.
        #expect(history.contains("x.alpha_count\\040+") && history.contains("type(cx.each)"), "\(history)")
    }

    @Test func onATerminalItPromptsAndKeepsHistory() async throws {
        let dir = try scriptFolder(["drive.py": Self.terminalDriver])
        let r = try await runCLI([dir.appendingPathComponent("drive.py").path, cxrunBinary, "repl"], in: dir,
                                 environment: ["HOME": dir.path, "PTY_LINES": "1+1\nqueues()[1].name"], executable: "/usr/bin/python3")
        let screen = r.stdout.replacingOccurrences(of: "\r", with: "")
        #expect(screen.contains("cx> 1+1\n2\ncx> "), "\(screen) \(r.stderr)")
        let history = try String(contentsOf: dir.appendingPathComponent(".cxrun_history"), encoding: .utf8)
        #expect(history.contains("1+1\n") && history.contains("queues()[1].name"), "\(history)")
    }
}
