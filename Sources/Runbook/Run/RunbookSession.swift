import CXone
import CXShared
import Crypto
import Foundation
import JSONCore
import LuaHost
import Synchronization

/// One runbook run against a tenant.
public struct RunbookRequest: Sendable {
    public var runID: String
    public var scriptPath: String
    public var source: String
    public var args: [String]
    /// The tenant, with its endpoint filled in (the sandbox tenant already started).
    public var tenant: ResolvedTenant
    public var dryRun: Bool
    public var limits: RunLimits
    public var concurrency: Int
    public var auditPath: String
    public var stdlib: String?
    public var output: @Sendable (String) -> Void
    public var log: @Sendable (String, String) -> Void
    public var progress: (@Sendable (Int, Int) -> Void)?
    /// Called on a watchdog thread when the script is stuck past its deadline in one long library
    /// call (or host work overdrew memory), after the run's rows are written; it must end the
    /// process. nil: no watchdog (in-process use, where the hook and scheduler enforce limits).
    public var onStuck: (@Sendable (RunLimit) -> Never)?
    /// Called once the script's state exists, with a handle other threads may use to stop it.
    public var onStart: (@Sendable (RunHandle) -> Void)?
    /// For `cxrun repl`: reads the next line (shown the prompt; nil at the end of input). The run's
    /// source is then `RunbookSession.replSource`.
    public var readLine: (@Sendable (ReplPrompt) async -> ReplLine?)?
    /// For `cxrun repl` reading from a pipe, not a person: a chunk's error is shown and the session
    /// goes on, but the session fails at its end (exit 1) when any chunk failed.
    public var batchInput = false
    /// How long a write waits for another run's lease on its target (run locks), seconds.
    public var lockTimeout: Double = RunbookRequest.defaultLockTimeout
    /// false for a process that ends with the run: the audit log's connection and the run's state
    /// are then left to the process's end, not taken apart (as clang's -disable-free). Their
    /// teardown was 7% of an empty run's instructions — GRDB unregistering from Foundation's
    /// notification center, the first destruction of each generic type. Everything is written
    /// by then; an open connection at exit is what SQLite sees after any process ends.
    public var releasesStateAtEnd = true
    /// The process environment the run reads (the audit log's seal key, a PostgreSQL password);
    /// nil: ProcessInfo's, built anew (a CLI that has it already passes it on).
    public var environment: [String: String]?
    /// Seconds the tenant's clock is ahead of this machine's, for the script's `os.time()` and
    /// `os.date()` (`cxrun test`: a test tenant's pinned clock).
    public var clockOffset: Double = 0

    /// The lock timeout when a run does not say (`--lock-timeout`).
    public static let defaultLockTimeout: Double = 30
    /// `cx.each`'s concurrency when a run does not say (`--concurrency`).
    public static let defaultConcurrency = 4

    /// How a script's `log.LEVEL(message)` reads wherever it is shown: `[warn] message` on its line.
    public static func logLine(_ level: String, _ message: String) -> String { "[\(level)] \(message)\n" }

    public init(runID: String = RunbookSession.newRunID(), scriptPath: String, source: String, args: [String], tenant: ResolvedTenant,
                dryRun: Bool, limits: RunLimits, concurrency: Int = RunbookRequest.defaultConcurrency, auditPath: String, stdlib: String?,
                output: @escaping @Sendable (String) -> Void, log: @escaping @Sendable (String, String) -> Void,
                progress: (@Sendable (Int, Int) -> Void)? = nil, onStuck: (@Sendable (RunLimit) -> Never)? = nil,
                onStart: (@Sendable (RunHandle) -> Void)? = nil, readLine: (@Sendable (ReplPrompt) async -> ReplLine?)? = nil) {
        self.runID = runID
        self.scriptPath = scriptPath
        self.source = source
        self.args = args
        self.tenant = tenant
        self.dryRun = dryRun
        self.limits = limits
        self.concurrency = concurrency
        self.auditPath = auditPath
        self.stdlib = stdlib
        self.output = output
        self.log = log
        self.progress = progress
        self.onStuck = onStuck
        self.onStart = onStart
        self.readLine = readLine
    }
}

/// How a runbook run ended.
public struct RunbookResult: Sendable {
    public var outcome: RunbookOutcome
    public var summary: RunSummary
    public var plannedChanges: [PlannedChange]
    /// Audit writes that failed (the run still ended; this is what was lost).
    public var auditProblems: [String]
    /// Work the script handed off without waiting that did not happen (failed webhook deliveries):
    /// a run whose script succeeded is then recorded `failed`, and the CLI exits 4.
    public var lostWork: [String] = []
}

/// Why a run could not start (exit code 2).
public struct RunbookError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Runs a runbook: opens the audit log, records the run, runs the script with the bindings,
/// waits for what is in flight, and finalizes the run row on every path.
public enum RunbookSession {
    /// Time-sortable and unique: `20261122T034700Z-3f9a1c`.
    public static func newRunID(now: Date = Date()) -> String {
        // gmtime, not DateFormatter: formatting with ICU costs a run's start-up several milliseconds.
        var seconds = time_t(now.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Digits by hand, not String(format:): its variadic arguments cost a start-up a conformance scan.
        func digits(_ value: Int32, _ width: Int) -> String { String(value).leftPadded(width) }
        let stamp = digits(parts.tm_year + 1900, 4) + digits(parts.tm_mon + 1, 2) + digits(parts.tm_mday, 2) + "T"
            + digits(parts.tm_hour, 2) + digits(parts.tm_min, 2) + digits(parts.tm_sec, 2) + "Z"
        return "\(stamp)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16).leftPadded(8))"
    }

    /// The main chunk of an interactive session (`readLine` set): the read-eval-print loop.
    public static let replSource = "__repl()\n"

    public static func run(_ request: RunbookRequest) async throws(RunbookError) -> RunbookResult {
        guard let endpoint = request.tenant.endpoint else { throw RunbookError(description: "the tenant has no endpoint") }
        if request.readLine == nil {
            let unconfigured = WebhookPreflight.problems(source: request.source, path: request.scriptPath, tenant: request.tenant)
            if !unconfigured.isEmpty { throw RunbookError(description: unconfigured.joined(separator: "\n")) }
        }
        let store: AuditStore
        do { store = try AuditStore(path: request.auditPath, environment: request.environment ?? ProcessInfo.processInfo.environment) } catch {
            throw RunbookError(description: "cannot open the audit log \(request.auditPath): \(error)")
        }
        let redactor = Redactor(secrets: request.tenant.secrets)
        let started = Date()
        let operatorName = RunOwner.operatorName
        let run = RunRecord(
            id: request.runID, script: request.scriptPath,
            scriptSHA256: Hex.encode(SHA256.hash(data: Array(request.source.utf8))),
            tenant: request.tenant.name, operatorName: operatorName,
            args: redactor.redact(arguments: request.args), dryRun: request.dryRun,
            startedAt: started.timeIntervalSince1970, finishedAt: nil, status: .running, error: nil, summary: nil)
        do { try store.insert(run: run) } catch { throw RunbookError(description: "cannot write the audit log \(request.auditPath): \(error)") }

        let recorder = AuditRecorder(store: store, runID: request.runID, redactor: redactor)
        let client = CXoneClient(endpoint: endpoint)
        let context = RunContext(runID: request.runID, tenant: request.tenant, dryRun: request.dryRun, client: client, recorder: recorder,
                                 lockTimeout: request.lockTimeout, operatorName: operatorName)
        let handle = Mutex<RunControl?>(nil)
        let scriptDir = (request.scriptPath as NSString).deletingLastPathComponent
        var sandbox = SandboxOptions(
            args: request.args,
            runInfo: ["id": .string(request.runID), "tenant": .string(request.tenant.name), "dry_run": .bool(request.dryRun)],
            modules: ModuleResolver(stdlib: request.stdlib, scriptDirectory: scriptDir.isEmpty ? "." : scriptDir,
                                    scriptDirectoryDisplay: scriptDir.isEmpty ? "." : scriptDir),
            output: request.output, log: { level, message in request.log(level, redactor.redact(message)) },
            progress: request.progress, concurrency: request.concurrency)
        sandbox.clockOffset = request.clockOffset
        let script = RunRequest(
            // The REPL's driver is host code: its refusal ("3 of 8 chunks failed") names no line of it.
            source: request.source, chunkName: request.readLine == nil ? "@\(request.scriptPath)" : hostChunkName, limits: request.limits, sandbox: sandbox,
            varargs: request.args.map(JSONValue.string),
            bindings: {
                let pure = PureBindings(context: context)
                var set = BindingSet(
                    globals: QueueBindings(context: context).all + ReadBindings(context: context).all + pure.globals
                        + WebhookBinding(context: context).all + ReassignBinding(context: context).all,
                    hidden: pure.hidden + AgentStatusBinding(context: context).hidden, extensions: [runbookExtensionSource])
                if let readLine = request.readLine {
                    // Waiting for the operator: what the last chunk did reaches the log first, not
                    // at the session's next write or its end.
                    let waiting: @Sendable (ReplPrompt) async -> ReplLine? = { prompt in
                        recorder.flush()
                        return await readLine(prompt)
                    }
                    set.hidden += ReplBindings(readLine: waiting, batch: request.batchInput).hidden
                    set.extensions.append(replExtensionSource)
                }
                return set
            },
            watchdog: watchdog(request.onStuck, savingRowsOf: recorder),
            onStart: { control in
                handle.withLock { $0 = control }
                request.onStart?(RunHandle(control: control))
            })
        var outcome = RunbookOutcome(await ScriptRunner.run(script))
        // A stop signal while deliveries settle ends the wait: the operator asked to stop.
        let stop: @Sendable () -> Bool = { handle.withLock { $0?.stopRequested ?? false } }
        let unfinished = await context.webhooks.settle(timeout: 30, stop: stop)
        await recorder.settle(timeout: 15, stop: stop)
        if let message = outcome.message { outcome.message = redactor.redact(message) }
        if let traceback = outcome.traceback { outcome.traceback = redactor.redact(traceback) }
        let lost = context.lostWork
        var status = outcome.auditStatus
        var error = outcome.message
        if !lost.isEmpty && status == .succeeded {
            status = .failed
            error = "the script succeeded, but \(lost.count) handed-off \(lost.count == 1 ? "delivery" : "deliveries") failed: " + lost.joined(separator: "; ")
        }
        let stats = client.transport.stats
        var summary = RunSummary(runID: request.runID, tenant: request.tenant.name, status: status, stats: recorder.callStats, unknownWrites: recorder.unsettledWrites,
                                 requests: stats.requests, retries: stats.retries,
                                 rateLimited: stats.rateLimited, auditPath: request.auditPath, seconds: Date().timeIntervalSince(started))
        if status != .succeeded && !request.dryRun, let calls = try? store.calls(run: request.runID) {
            summary.undoable = Rollback.undoable(calls) { try store.snapshots(run: request.runID) }
            summary.statusesSet = Rollback.statusesSet(calls)
        }
        var problems = recorder.auditProblems
        if unfinished > 0 { problems.append("\(unfinished) webhook deliveries were still running when the run ended; their rows stay pending") }
        do {
            try store.finish(run: request.runID, status: status, error: error, summary: summary.json, at: Date().timeIntervalSince1970)
        } catch {
            problems.append("finalizing the run row failed: \(error)")
        }
        context.leases.releaseAll()
        if !request.releasesStateAtEnd {
            _ = Unmanaged.passRetained(store)
            _ = Unmanaged.passRetained(context)
        }
        var planned = Plan.netActions(context.plannedChanges)
        if request.dryRun { planned = await PlanCheck.annotate(planned, context: context, stdlib: request.stdlib) }
        return RunbookResult(outcome: outcome, summary: summary, plannedChanges: planned, auditProblems: problems, lostWork: lost)
    }

    /// The watchdog ends the process: the rows still in memory are written first.
    private static func watchdog(_ onStuck: (@Sendable (RunLimit) -> Never)?, savingRowsOf recorder: AuditRecorder) -> WatchdogPolicy {
        guard let onStuck else { return .disabled }
        return .terminate(grace: 0.5, onExpire: { kind in
            recorder.flushAll()
            onStuck(kind)
        })
    }

    /// Finalizes a run that cannot finish normally (the watchdog is about to end the process).
    public static func abandon(runID: String, auditPath: String, status: RunStatus, message: String) {
        guard let store = try? AuditStore(path: auditPath) else { return }
        try? store.finish(run: runID, status: status, error: message, summary: nil, at: Date().timeIntervalSince1970)
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
