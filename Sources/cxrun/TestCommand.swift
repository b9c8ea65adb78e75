import ArgumentParser
import Foundation
import Runbook
import SandboxTenant

/// `cxrun test`: runs runbook tests (`*_test.lua`), each test against a fresh sandbox tenant.
struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run runbook tests (*_test.lua), each test against a fresh, seeded sandbox tenant.",
        discussion: """
            A test file declares tests with test("name", function(t) ... end). Each test gets its own \
            in-process sandbox tenant (seeded, clock pinned at 2026-01-05T03:00:00Z, nothing shared \
            with the next test) and t:
              t.sim.queues(), t.sim.queue(id), t.sim.edit(id, patch), t.sim.deliveries(),
              t.sim.faults{status429 = 0.2} (t.sim.faults() reads them),
              t.sim.clock("2026-01-05T12:00:00Z"),
              t.sim.written(), t.sim.users(), t.sim.reset() (back to the seed)
              t.run("scripts/rebalance.lua", {channel = "voice"}, {dry_run = true})
                -> {ok, error, stdout, calls = {{binding, target, status, ...}},
                    planned, lost, run_id}; reading any other field fails the test
              t.eq(got, want), t.truthy(x), t.matches(s, pattern), t.raises(fn, code)
            Paths in t.run are relative to the test file, else to the current folder. A script \
            t.run runs reads the tenant's clock in os.time() and os.date().

            With no PATH: every *_test.lua below scripts/, and those in the current folder.
            What a failed test printed (print, log.*) is shown under its failure, and in the \
            JUnit file as the test's system-out. Ends with "N passed, N failed"; exits 1 when \
            any test failed, or when no test ran (a --filter that matches none). A test that \
            checks nothing (no t.eq, t.truthy, t.matches, t.raises or assert ran) fails: it \
            could not have failed otherwise. A test still \
            running --timeout seconds (60) after its tenant is ready is stopped and fails; the \
            file goes on. Ctrl-C stops the test running (its tenant's state removed) and \
            starts no further file: what ran is reported, and the exit code is 130.

            Example:
              cxrun test
              cxrun test scripts/rebalance_test.lua --filter "dry run"
              cxrun test --junit test-results.xml
            """
    )

    @Argument(help: "Test files or folders (default: scripts/ and the current folder).")
    var paths: [String] = []

    @Option(help: "Run only tests whose name contains this text.")
    var filter: String?

    @Option(help: "Also write the results as JUnit XML to this file.")
    var junit: String?

    @Option(parsing: .unconditional, help: "Seconds a test may run (from its tenant ready) before it is stopped and fails; the file goes on (default: 60).")
    var timeout: Double?

    func validate() throws {
        if let timeout, !(timeout > 0 && timeout <= 86_400) { throw ValidationError("--timeout must be between 0 and 86400 seconds") }
    }

    func run() async throws {
        let files = try discover()
        guard !files.isEmpty else {
            Console.err("cxrun: no *_test.lua files found\(paths.isEmpty ? " below scripts/ or in the current folder" : "")\n")
            throw ExitCode(2)
        }
        // A stop signal ends the test running (its tenant stopped, its state removed) and the
        // files after it are not started; what ran is reported, and the exit code is the signal's.
        Interrupts.prepare()
        var results: [TestRunner.Result] = []
        var notRun = 0
        for (index, file) in files.enumerated() {
            if Interrupts.signalled {
                notRun = files.count - index
                break
            }
            let before = results.count
            defer {
                // A file whose tests were all commented out passed as if tested.
                if filter == nil, results.count == before, !Interrupts.signalled { Console.err("cxrun: \(file) declares no test\n") }
            }
            results += await TestRunner.run(file: file, filter: filter, tenants: SandboxTestTenants(), stdlib: StdlibLocator.locate(),
                                            testTimeout: timeout ?? TestRunner.defaultTestTimeout, onStart: { Interrupts.install($0) }) { r in
                if r.passed {
                    Console.out("ok    \(r.file): \(r.name) (\(String(format: "%.2f", r.seconds)) s)\n")
                } else {
                    Console.out("FAIL  \(r.file): \(r.name)\n" + Self.indented(r.message ?? "")
                        + (r.output.isEmpty ? "" : "      printed:\n" + Self.indented(r.output, by: 8)))
                }
            }
        }
        Interrupts.uninstall()
        let failed = results.filter { !$0.passed }.count
        Console.out("\(results.count - failed) passed, \(failed) failed"
                    + (Interrupts.signalled ? "; interrupted\(notRun > 0 ? ", \(notRun) file\(notRun == 1 ? "" : "s") not run" : "")" : "") + "\n")
        if let junit {
            do { try OutputFile.write(JUnitReport.xml(results), to: junit) } catch {
                Console.err("cxrun: cannot write \(junit): \(error)\n")
                throw ExitCode(2)
            }
        }
        if Interrupts.signalled { throw ExitCode(Interrupts.exitCode) }
        if failed > 0 { throw ExitCode(1) }
        // Nothing tested is not a pass: a misspelt --filter would keep a CI green with no test run.
        if results.isEmpty {
            Console.err("cxrun: no test ran: " + (filter.map { "--filter '\($0)' matched no test's name" }
                ?? "the files declare no test (test(\"name\", function(t) ... end))") + "\n")
            throw ExitCode(1)
        }
    }

    /// `text`'s lines, each indented (a final line break ends the last line, not a blank one).
    static func indented(_ text: String, by columns: Int = 6) -> String {
        let body = text.hasSuffix("\n") ? String(text.dropLast()) : text
        let pad = String(repeating: " ", count: columns)
        return body.split(separator: "\n", omittingEmptySubsequences: false).map { pad + $0 + "\n" }.joined()
    }

    private func discover() throws -> [String] {
        let fm = FileManager.default
        var files: [String] = []
        func walk(_ folder: String, recursive: Bool) { files += LuaFiles.below(folder, suffix: "_test.lua", recursive: recursive) }
        if paths.isEmpty {
            walk("scripts", recursive: true)
            walk(".", recursive: false)
        } else {
            for path in paths {
                var isDir: ObjCBool = false
                guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw ValidationError("no such file or folder: \(path)") }
                if isDir.boolValue { walk(path, recursive: true) } else { files.append(path) }
            }
        }
        return files
    }
}

/// Fresh in-process sandbox tenants for runbook tests: a temporary state file each, the clock
/// pinned at a quiet hour, no rate limit, a random webhook secret; stopping one removes its state.
struct SandboxTestTenants: TestTenants {
    func start() async throws -> TestTenant {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cxrun-test-sim-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var configuration = SandboxConfiguration(databasePath: dir + "/sandbox.sqlite")
        configuration.clock = SimClock.parse("2026-01-05T03:00:00Z")
        configuration.rateLimit = 0
        let secret = UUID().uuidString
        configuration.webhookSecrets = ["wfm": secret]
        let server = try await SandboxServer.start(configuration)
        return TestTenant(baseURL: server.baseURL, clientID: SimClient.demo.id, clientSecret: SimClient.demo.secret, webhookSecret: secret) {
            await server.stop()
            try? FileManager.default.removeItem(atPath: dir)
        }
    }
}

/// JUnit XML for CI: one test suite per file.
enum JUnitReport {
    static func xml(_ results: [TestRunner.Result]) -> String {
        var byFile: [(String, [TestRunner.Result])] = []
        for r in results {
            if let i = byFile.firstIndex(where: { $0.0 == r.file }) { byFile[i].1.append(r) } else { byFile.append((r.file, [r])) }
        }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
        for (file, cases) in byFile {
            let failures = cases.filter { !$0.passed }.count
            out += "  <testsuite name=\"\(escape(file))\" tests=\"\(cases.count)\" failures=\"\(failures)\">\n"
            for c in cases {
                out += "    <testcase classname=\"\(escape(file))\" name=\"\(escape(c.name))\" time=\"\(String(format: "%.3f", c.seconds))\""
                if c.passed && c.output.isEmpty {
                    out += "/>\n"
                    continue
                }
                out += ">\n"
                if !c.passed {
                    let message = c.message ?? "failed"
                    out += "      <failure message=\"\(escape(String(message.prefix(200))))\">\(escape(message))</failure>\n"
                }
                if !c.output.isEmpty { out += "      <system-out>\(escape(c.output))</system-out>\n" }
                out += "    </testcase>\n"
            }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default:
                // XML 1.0 allows no other control characters than tab and newline.
                if scalar.value < 0x20 && scalar != "\t" && scalar != "\n" { out += " " } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
