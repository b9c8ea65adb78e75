import CXShared
import CXone
import Foundation
import JSONCore
import LuaHost
import NIOCore
import NIOPosix
import Synchronization

/// `cxrun test`: runs the `test("name", function(t) ... end)` declarations of `*_test.lua` files.
/// Each test gets a fresh sandbox tenant and the `t` API of Lua/testing.lua (arrange with
/// `t.sim`, act with `t.run`, assert with `t.eq`/`t.truthy`/`t.matches`/`t.raises`).
public enum TestRunner {
    /// One test's outcome.
    public struct Result: Sendable {
        public var file: String
        public var name: String
        public var passed: Bool
        /// Where and why it failed (`file:LINE: message`).
        public var message: String?
        public var seconds: Double
        /// What the test printed (print, log.*), shown under a failure as a debugger would.
        public var output: String = ""
    }

    /// How long a test may run, by default, before it is stopped and fails.
    public static let defaultTestTimeout = 60.0

    /// Runs one test file; `onResult` sees each test as it ends, `onStart` gets a handle that can
    /// interrupt the file (a stop signal). A test still running after `testTimeout` seconds is
    /// stopped and fails; the file goes on. A file that cannot load is one failed result.
    public static func run(
        file: String, filter: String?, tenants: any TestTenants, stdlib: String?, testTimeout: Double = defaultTestTimeout,
        onStart: (@Sendable (RunHandle) -> Void)? = nil, onResult: @escaping @Sendable (Result) -> Void
    ) async -> [Result] {
        let text: String
        switch ScriptFile.read(file) {
        case .success(let source): text = source
        case .failure(let why):
            let r = Result(file: file, name: "(load)", passed: false, message: why.description, seconds: 0)
            onResult(r)
            return [r]
        }
        let session = TestSession(file: file, filter: filter, tenants: tenants, stdlib: stdlib, testTimeout: testTimeout, onResult: onResult)
        let directory = (file as NSString).deletingLastPathComponent
        let sandbox = SandboxOptions(
            args: [], runInfo: ["id": "test", "tenant": "sandbox", "dry_run": false],
            modules: ModuleResolver(stdlib: stdlib, scriptDirectory: directory.isEmpty ? "." : directory),
            output: { session.capture($0) }, log: { session.capture(RunbookRequest.logLine($0, $1)) },
            concurrency: RunbookRequest.defaultConcurrency)
        let request = RunRequest(
            source: text, chunkName: "@\(file)",
            limits: RunLimits(), sandbox: sandbox,
            bindings: { BindingSet(hidden: session.hostFunctions, extensions: [testingExtensionSource]) },
            onStart: { control in
                session.control(control)
                onStart?(RunHandle(control: control))
            })
        let outcome = await ScriptRunner.run(request)
        await session.stopAll()
        var results = session.results
        if outcome.status != .succeeded {
            // A limit that ends the whole file (memory it still holds, the deadline) stops a test
            // midway: that test fails with it, and the count says the rest never ran.
            let running = session.running
            var message = outcome.message ?? "the test file failed"
            // A task nothing waited for fails only once the file has ended: every test ran.
            if !outcome.unwaitedTask && (running != nil || !results.isEmpty) {
                message += "\nthe file stopped here: the tests after this point did not run"
            }
            let r = Result(file: file, name: running ?? "(file)", passed: false, message: message, seconds: outcome.seconds,
                           output: session.takeOutput())
            onResult(r)
            results.append(r)
        }
        return results
    }
}

/// `Lua/testing.lua`, embedded at build time.
let testingExtensionSource = String(decoding: PackageResources.testing_lua, as: UTF8.self)

/// The host half of one test file's run: its tenants and what its tests reported.
final class TestSession: Sendable {
    let file: String
    let filter: String?
    let tenants: any TestTenants
    let stdlib: String?
    let onResult: @Sendable (TestRunner.Result) -> Void
    private struct State {
        var sims: [Int: TestTenant] = [:]
        /// Tenants being started, by the id they will have: the file's end waits for them (a stop
        /// signal can end the run while one starts, and its folder must not outlive the process).
        var starting: [Int: Task<TestTenant, any Error>] = [:]
        /// The file has ended: a tenant that finishes starting now is stopAll's to stop.
        var stopped = false
        var next = 1
        var results: [TestRunner.Result] = []
        var runs = 0
        var started = ContinuousClock.now
        var running: String?
        var output = ""
        /// The run's control, to stop a test past its time; the number of the test running, and
        /// of the last one its time limit stopped.
        var control: RunControl?
        var test = 0
        var timedOut = 0
        /// The runbook runs (`t.run`) going on now, by number: a test stopped or a file ended
        /// stops them, and waits for them to remove their files.
        var inner: [Int: RunHandle] = [:]
    }

    private let state = Mutex(State())

    /// Where a test's time limit and the file's end wait: an event loop's timers, as a run's own
    /// waits (`cx.sleep`). Dispatch's timers did not fire under a shifted clock (libfaketime, as
    /// the hour-independence check runs), so a hung test waited out its file's deadline there.
    private static let timers = NIOSingletons.posixEventLoopGroup.next()

    /// The most of one test's output kept (a print in a loop must not take the run's memory).
    static let maxOutputBytes = 64 << 10

    let testTimeout: Double

    init(file: String, filter: String?, tenants: any TestTenants, stdlib: String?, testTimeout: Double,
         onResult: @escaping @Sendable (TestRunner.Result) -> Void) {
        self.testTimeout = testTimeout
        self.file = file
        self.filter = filter
        self.tenants = tenants
        self.stdlib = stdlib
        self.onResult = onResult
    }

    var results: [TestRunner.Result] { state.withLock { $0.results } }

    func control(_ control: RunControl) { state.withLock { $0.control = control } }

    /// Test `number`'s time is up: if it still runs, its contained call is stopped. Under the
    /// lock, so that it cannot reach the next test (which numbers itself under the same lock
    /// before its contained call starts, and that start drops a break left over).
    private func timeUp(_ number: Int) {
        state.withLock { s in
            guard s.test == number, s.running != nil, let control = s.control else { return }
            s.timedOut = number
            control.breakContainedCall()
            for run in s.inner.values { run.interrupt() }
        }
    }

    private static func seconds(_ t: Double) -> String { t == t.rounded() ? String(Int(t)) : String(t) }

    /// Keeps what the running test printed, up to `maxOutputBytes`.
    func capture(_ text: String) {
        state.withLock { s in
            let room = Self.maxOutputBytes - s.output.utf8.count
            guard room > 0 else { return }
            if text.utf8.count <= room { return s.output += text }
            s.output += String(decoding: text.utf8.prefix(room), as: UTF8.self)
            s.output += "\n[output cut at \(Self.maxOutputBytes >> 10) KiB]\n"
        }
    }

    /// The running test's output, cleared for the next.
    func takeOutput() -> String { state.withLock { s in defer { s.output = "" }; return s.output } }
    /// The test started and not yet reported, if any.
    var running: String? { state.withLock { $0.running } }

    func stopAll() async {
        // Runbook runs a stopped test left going end first (their audit files removed): at most a
        // scheduler pass each, bounded here should one not notice.
        state.withLock { s in
            s.stopped = true
            for run in s.inner.values { run.interrupt() }
        }
        let clock = ContinuousClock(), until = clock.now + .seconds(10)
        while state.withLock({ !$0.inner.isEmpty }) && clock.now < until {
            try? await Self.timers.scheduleTask(in: .milliseconds(10)) {}.futureResult.get()
        }
        let (sims, starting) = state.withLock { s in
            defer { (s.sims, s.starting) = ([:], [:]) }
            return (Array(s.sims.values), Array(s.starting.values))
        }
        for sim in sims { await sim.stop() }
        for start in starting { await (try? start.value)?.stop() }
    }

    private func sim(_ id: Int) throws(ScriptError) -> TestTenant {
        guard let sim = state.withLock({ $0.sims[id] }) else { throw .message("no such sandbox tenant (it was stopped)") }
        return sim
    }

    var hostFunctions: [(String, LuaFunction)] {
        [
            ("filter", { [filter] call throws(ScriptError) in
                guard let filter else { return .values(0) }
                return try call.returning(.string(filter))
            }),
            ("new_sim", { [self] call throws(ScriptError) in
                let name = call.string(1)
                let tenants = self.tenants
                let start = Task { try await tenants.start() }
                let (id, number) = state.withLock { s in
                    // What the file printed outside a test is nobody's output.
                    (s.running, s.output) = (name, "")
                    s.test += 1
                    defer { s.next += 1 }
                    s.starting[s.next] = start
                    return (s.next, s.test)
                }
                return .suspend(.async {
                    do {
                        let tenant = try await start.value
                        let kept = self.state.withLock { s in
                            guard !s.stopped else { return false }  // stopAll has it, and stops it
                            s.starting[id] = nil
                            s.sims[id] = tenant
                            s.started = .now
                            return true
                        }
                        guard kept else { return .failure(.message("the test file was stopped")) }
                        // The test's own time, from its tenant ready (a loaded machine starts one slowly).
                        Self.timers.scheduleTask(in: .nanoseconds(Int64(self.testTimeout * 1e9))) { [weak self] in self?.timeUp(number) }
                        return .success([.int(Int64(id))])
                    } catch {
                        self.state.withLock { _ = $0.starting.removeValue(forKey: id) }
                        return .failure(.message("cannot start a sandbox tenant: \(error)"))
                    }
                })
            }),
            ("stop_sim", { [self] call throws(ScriptError) in
                let id = Int(call.number(1) ?? 0)
                let sim = state.withLock { $0.sims.removeValue(forKey: id) }
                return .suspend(.async {
                    await sim?.stop()
                    return .success([])
                })
            }),
            ("sim_call", { [self] call throws(ScriptError) in
                let sim = try self.sim(Int(call.number(1) ?? 0))
                let method = call.string(2) ?? "GET", path = call.string(3) ?? "/"
                let body = try call.value(4)
                let token = call.string(5)
                return .suspend(.async {
                    do {
                        let reply = try await PlainHTTP.json(method, sim.baseURL + path, body: body == .null ? nil : body,
                                                             headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [])
                        return .success([["status": .int(Int64(reply.status)), "body": reply.body]])
                    } catch {
                        return .failure(.message("sandbox tenant: \(error)"))
                    }
                })
            }),
            ("run_script", { [self] call throws(ScriptError) in
                let sim = try self.sim(Int(call.number(1) ?? 0))
                guard let path = call.string(2) else { throw call.argumentError(1, "t.run", expected: "script path") }
                let args = try call.value(3), opts = try call.value(4)
                return .suspend(.async { .success([await self.runScript(path, args: args, opts: opts, on: sim)]) })
            }),
            ("report", { [self] call throws(ScriptError) in
                let (elapsed, timedOut) = state.withLock { (ContinuousClock.now - $0.started, $0.timedOut == $0.test) }
                var message = call.string(2)
                if timedOut, var stopped = message, stopped.hasSuffix("interrupted") {
                    // Stopped in the host's own Lua (t.run's wait): its line means nothing to the
                    // author, the file does.
                    if stopped.hasPrefix("[cx]:"), let colon = stopped.dropFirst(5).firstIndex(of: ":") {
                        stopped = file + String(stopped[colon...])
                    }
                    // The break's own word, said as what happened.
                    message = String(stopped.dropLast("interrupted".count))
                        + "the test ran past its \(Self.seconds(testTimeout)) s limit and was stopped (cxrun test --timeout)"
                }
                // A binding called in the test itself, the test author's common first mistake: said what to do.
                if let text = message, let name = text.firstMatch(of: /\(global '([A-Za-z_][A-Za-z0-9_]*)'\)/)?.1,
                    let hint = RunbookChecker.testFileHint(for: String(name))
                {
                    message = text + " (\(hint))"
                }
                let result = TestRunner.Result(file: file, name: call.string(1) ?? "?", passed: message == nil, message: message,
                                               seconds: elapsed.seconds, output: takeOutput())
                state.withLock { $0.results.append(result); $0.running = nil }
                onResult(result)
                return .values(0)
            }),
        ]
    }

    /// `t.run(path, args, opts)`: the runbook against this test's tenant, as `cxrun run` would.
    private func runScript(_ path: String, args: JSONValue, opts: JSONValue, on sim: TestTenant) async -> JSONValue {
        let directory = (file as NSString).deletingLastPathComponent
        let candidates = [(directory as NSString).appendingPathComponent(path), path]
        guard let resolved = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            return ["ok": false, "error": .string("t.run: no script \(path) (looked beside the test file and in the current folder)")]
        }
        let source: String
        switch ScriptFile.read(resolved) {
        case .success(let text): source = text
        case .failure(let why): return ["ok": false, "error": .string("t.run: \(why)")]
        }
        // As on the command line: each argument its text (t.run has refused tables).
        var list: [String] = args.arrayValue?.map { $0.stringValue ?? $0.jsonString() } ?? []
        for (key, value) in (args.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            list.append("\(key)=\(value.stringValue ?? value.jsonString())")
        }
        var tenant = ResolvedTenant(name: "sandbox", endpoint: nil)
        tenant.attachSandbox(baseURL: sim.baseURL, clientID: sim.clientID, clientSecret: sim.clientSecret, webhookSecret: sim.webhookSecret)
        let number = state.withLock { s in defer { s.runs += 1 }; return s.runs }
        let auditPath = FileManager.default.temporaryDirectory.appendingPathComponent("cxrun-test-audit-\(UUID().uuidString)-\(number).sqlite").path
        // Last out: the run counts as gone only once its files are.
        defer { state.withLock { _ = $0.inner.removeValue(forKey: number) } }
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: auditPath + suffix) } }
        let printed = Mutex("")
        var request = RunbookRequest(
            scriptPath: resolved, source: source, args: list, tenant: tenant,
            dryRun: opts["dry_run"]?.boolValue ?? false, limits: RunLimits(timeout: 300), auditPath: auditPath, stdlib: stdlib,
            output: { text in printed.withLock { $0 += text } }, log: { level, text in printed.withLock { $0 += RunbookRequest.logLine(level, text) } },
            onStart: { [weak self] handle in
                // Started after its test's time ran out or its file ended: stopped at once.
                let late = self?.state.withLock { s in
                    s.inner[number] = handle
                    return s.stopped || s.timedOut == s.test
                } ?? true
                if late { handle.interrupt() }
            })
        request.clockOffset = await Self.clockOffset(of: sim)
        do {
            let result = try await RunbookSession.run(request)
            let calls = (try? AuditStore(path: auditPath).calls(run: result.summary.runID)) ?? []
            // As cxrun run exits: work handed off that did not happen (a failed delivery) is not ok.
            var fields: [String: JSONValue] = [
                "ok": .bool(result.outcome.status == .succeeded && result.lostWork.isEmpty), "stdout": .string(printed.withLock { $0 }),
                "lost": .array(result.lostWork.map(JSONValue.string)),
                // A field a call does not have is absent (nil in Lua), not cx.null: cx.null is
                // truthy, so `if c.error_code then` held for every call.
                "calls": .array(calls.map { c in
                    var call: [String: JSONValue] = ["binding": .string(c.binding), "status": .string(c.status.rawValue)]
                    call["target"] = c.target.map(JSONValue.string)
                    call["error_code"] = c.errorCode.map(JSONValue.string)
                    call["http_status"] = c.httpStatus.map { .int(Int64($0)) }
                    call["result"] = c.result.flatMap { $0 == .null ? nil : $0 }
                    return .object(call)
                }),
                "planned": .array(result.plannedChanges.map { .string($0.text) }),
                "run_id": .string(result.summary.runID),
            ]
            if let message = result.outcome.message {
                fields["error"] = .string(message)
            } else if !result.lostWork.isEmpty {
                fields["error"] = .string("work that did not happen: " + result.lostWork.joined(separator: "; "))
            }
            return .object(fields)
        } catch {
            return ["ok": false, "error": .string(error.description)]
        }
    }

    /// How far the test tenant's clock (pinned, or set by t.sim.clock) is ahead of this machine's,
    /// in seconds: the script's os.time() and os.date() read the tenant's, so a runbook deciding
    /// by the hour does the same in its tests at any hour. 0 when it cannot be read.
    private static func clockOffset(of sim: TestTenant) async -> Double {
        let asked = Date().timeIntervalSince1970
        guard let reply = try? await PlainHTTP.json("GET", sim.baseURL + "/_sim/clock"), reply.status == 200,
            let text = reply.body["now"]?.stringValue, let now = RFC3339.time(text)
        else { return 0 }
        // The tenant read its clock between asking and answering: the midpoint, to the millisecond.
        return now - (asked + Date().timeIntervalSince1970) / 2
    }
}
