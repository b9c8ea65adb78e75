import ArgumentParser
import Foundation
import Runbook

/// `cxrun run`: runs one runbook in a fresh sandbox under limits, every binding call audited.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Lua runbook against a tenant (the built-in sandbox tenant when nothing is configured).",
        discussion: """
            Arguments after `--` reach the script as cx.args[1..n] and as the chunk's `...`; \
            KEY=VALUE arguments are also cx.args.KEY. Every binding call is recorded in the audit \
            log with its latency; a summary is printed at the end (stderr, or stdout with --json; \
            stdout then holds that JSON alone, and what the script prints goes to stderr).

            With --dry-run reads are real, but deploy, rollback, agent_status and webhook change \
            nothing: they check their arguments, return {planned=true, changed=...}, and the run \
            ends with a diff per target.

            Exit codes are listed in `cxrun --help`: 1 when the script failed, which for the \
            shipped runbooks includes a change asked for that did not happen (cx.require_success \
            names each, after the report); 2 when nothing ran (usage, configuration, a webhook \
            the script names that the tenant does not configure).

            Examples:
              cxrun run scripts/hello.lua -- name=ops
              cxrun run --dry-run scripts/rebalance.lua -- strategy=priority
            """
    )

    @Argument(help: "The Lua script to run.")
    var script: String

    @Argument(parsing: .postTerminator, help: "Arguments for the script (after `--`).")
    var scriptArgs: [String] = []

    @OptionGroup var target: TenantOptions

    @Flag(name: .customLong("dry-run"), help: "Change nothing: writes are validated and planned; reads are real.")
    var dryRun = false

    @Flag(help: "Print a machine-readable summary (and planned changes) on stdout.")
    var json = false


    // The defaults are RunLimits' and RunbookRequest's (the help says them; a test checks it), not property
    // defaults: ArgumentParser renders a property's default by reflection at every invocation,
    // 6% of a run's start-up.
    @Option(parsing: .unconditional, help: "Wall-clock limit for the whole run, in seconds (default: 600).")
    var timeout: Double?

    @Option(parsing: .unconditional, help: "Memory limit for the script's Lua state, in MiB (default: 256).")
    var memory: Int?

    @Option(parsing: .unconditional, help: "Instruction budget shared by all coroutines of the run (default: 1000000000).")
    var instructions: Int64?

    @Option(parsing: .unconditional, help: "Default concurrency of cx.each (default: 4).")
    var concurrency: Int?

    func validate() throws {
        try Self.validate(timeout: timeout)
        if let memory, !(4...65_536).contains(memory) { throw ValidationError("--memory must be between 4 and 65536 (MiB)") }
        if let instructions, instructions <= 0 { throw ValidationError("--instructions must be positive") }
        if let concurrency, !(1...256).contains(concurrency) { throw ValidationError("--concurrency must be between 1 and 256") }
    }

    /// `--timeout` of a run or a planning run: a deadline there must be, and one a run can reach.
    static func validate(timeout: Double?) throws {
        if let timeout, !(timeout > 0 && timeout <= 604_800) { throw ValidationError("--timeout must be above 0 and at most 604800 seconds (7 days)") }
    }

    /// The limits asked for, the others at their defaults.
    var limits: RunLimits {
        var limits = RunLimits()
        if let memory { limits.memoryBytes = memory << 20 }
        if let instructions { limits.instructions = instructions }
        if let timeout { limits.timeout = timeout }
        return limits
    }

    func run() async throws {
        Interrupts.prepare()
        let setup = try await target.resolve()
        let limits = self.limits
        var request = try Self.request(script: script, args: scriptArgs, tenant: setup.tenant, dryRun: dryRun, limits: limits,
                                       concurrency: concurrency ?? RunbookRequest.defaultConcurrency, auditDB: setup.auditPath)
        // stdout is the JSON summary alone, parseable whatever the script prints (as plan --json).
        if json { request.output = { Console.err($0) } }
        let result = try await setup.run(request)
        report(result, limits: limits)
        try ExitCodes.exit(after: result)
    }

    /// A script run as `run` and `plan` start it: limits, watchdog, output, stop signals.
    static func request(
        script: String, args: [String], tenant: ResolvedTenant, dryRun: Bool, limits: RunLimits, concurrency: Int, auditDB: String
    ) throws -> RunbookRequest {
        let source: String
        switch ScriptFile.read(script) {
        case .success(let text): source = text
        case .failure(let why): throw CLIError.usage(why.description)
        }
        if let why = RunbookChecker.check(arguments: args) { throw CLIError.usage(why) }
        let runID = RunbookSession.newRunID()
        var request = RunbookRequest(
            runID: runID, scriptPath: script, source: source, args: args, tenant: tenant,
            dryRun: dryRun, limits: limits, concurrency: concurrency, auditPath: auditDB, stdlib: StdlibLocator.locate(),
            output: { Console.out($0) }, log: { Console.err(RunbookRequest.logLine($0, $1)) },
            progress: Console.stderrIsTTY ? Console.eachProgress : nil,
            onStuck: { kind in
                let message = "\(LimitReport.describe(kind, limits: limits)); the script was stuck in one long library call and the process was stopped"
                RunbookSession.abandon(runID: runID, auditPath: auditDB, status: .failed, message: message)
                Console.err("cxrun: \(message)\n")
                Foundation.exit(3)
            },
            onStart: { handle in Interrupts.install(handle) })
        request.releasesStateAtEnd = false  // the process ends with the run
        return request
    }

    /// What a dry run (a script's, a REPL session's) would have changed, as a plan reads.
    static func dryRunSummary(_ planned: [PlannedChange]) -> String {
        "\ndry run: nothing was changed. Planned changes:\n" + PlanText.render(planned, color: Console.colorOnStdout)
    }

    private func report(_ result: RunbookResult, limits: RunLimits) {
        let outcome = result.outcome
        if outcome.status != .succeeded {
            var text = "cxrun: \(outcome.message ?? "the run failed")\n"
            if case .limit(let kind) = outcome.status { text += "cxrun: \(LimitReport.describe(kind, limits: limits))\n" }
            if let traceback = outcome.traceback, !traceback.isEmpty { text += traceback + "\n" }
            Console.err(text)
        }
        Self.reportAuditProblems(result)
        if json {
            Console.out(result.jsonReport(dryRun: dryRun) + "\n")
        } else {
            if dryRun { Console.out(Self.dryRunSummary(result.plannedChanges)) }
            Console.err("\n" + result.summary.text + "\n")
        }
        Self.reportLostWork(result)
    }

    /// Rows the audit log did not take (a run, a REPL session).
    static func reportAuditProblems(_ result: RunbookResult) {
        for problem in result.auditProblems { Console.err("cxrun: audit: \(problem)\n") }
    }

    /// Work handed off that did not happen (a failed webhook delivery nobody waited for).
    static func reportLostWork(_ result: RunbookResult) {
        if !result.lostWork.isEmpty {
            Console.err("cxrun: work that did not happen:\n" + result.lostWork.map { "  \($0)\n" }.joined())
        }
    }
}
