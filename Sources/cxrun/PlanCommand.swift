import ArgumentParser
import Foundation
import Runbook

/// `cxrun plan`: a dry run saved as a plan file, to review and then apply exactly.
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Run a script as a dry run and save what it would change as a plan to review and apply.",
        discussion: """
            Reads are real; writes are validated and planned. The plan file (JSON) records the \
            tenant, the script and its sha256, the arguments, who planned it and where, and every \
            action in order: for each queue the version and document hash it was planned against \
            and each field's old and new value; agent status changes with the status they were \
            planned against; webhook payloads. A digest over the content (an HMAC when \
            CXRUN_PLAN_KEY is set) makes any later edit show.

            Then: cxrun show PLAN (read it again), cxrun apply PLAN (apply exactly that).

            Example:
              cxrun plan scripts/rebalance.lua -- channel=chat strategy=weighted
            """
    )

    @Argument(help: "The Lua script to plan.")
    var script: String

    @Argument(parsing: .postTerminator, help: "Arguments for the script (after `--`).")
    var scriptArgs: [String] = []

    @OptionGroup var target: TenantOptions

    @Option(help: "Where to save the plan (default: .cxrun/plans/<id>.cxplan).")
    var out: String?

    @Flag(help: "Print the plan file on stdout instead of the readable plan (the script's own output goes to stderr).")
    var json = false


    // Its default is RunLimits' (see RunCommand's limits for why it is not a property default).
    @Option(parsing: .unconditional, help: "Wall-clock limit for the planning run, in seconds (default: 600).")
    var timeout: Double?

    // A 0, negative or NaN deadline was taken as none: the planning run had no time limit at all.
    func validate() throws { try RunCommand.validate(timeout: timeout) }

    func run() async throws {
        Interrupts.prepare()
        let setup = try await target.resolve()
        var request = try RunCommand.request(script: script, args: scriptArgs, tenant: setup.tenant, dryRun: true,
                                             limits: timeout.map { RunLimits(timeout: $0) } ?? RunLimits(),
                                             concurrency: RunbookRequest.defaultConcurrency, auditDB: setup.auditPath)
        // With --json stdout holds the plan file alone; what the script prints goes to stderr.
        if json { request.output = { Console.err($0) } }
        let result = try await setup.run(request)
        if result.outcome.status != .succeeded || Interrupts.signalled {
            Console.err("cxrun: \(result.outcome.message ?? "the planning run failed"); no plan was saved\n")
            if let traceback = result.outcome.traceback, !traceback.isEmpty { Console.err(traceback + "\n") }
            throw ExitCode(Interrupts.signalled ? Interrupts.exitCode : max(1, ExitCodes.of(result.outcome.status)))
        }
        let plan = Plan(request: request, result: result)
        let file = plan.file(key: PlanKey.fromEnvironment())
        let path = out ?? ".cxrun/plans/\(plan.id).cxplan"
        do { try OutputFile.write(file, to: path) } catch {
            Console.err("cxrun: cannot save the plan to \(path): \(error)\n")
            throw ExitCode(1)
        }
        if json {
            Console.out(file)
        } else {
            Console.out("\n" + PlanText.render(plan.actions, color: Console.colorOnStdout))
        }
        Console.err("\nplan saved: \(path)\n  review: cxrun show \(path)\n  apply:  cxrun apply \(path)\n")
    }
}
