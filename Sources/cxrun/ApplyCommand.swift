import ArgumentParser
import CXShared
import Foundation
import Runbook

/// `cxrun apply PLAN`: applies a saved plan exactly; runs no script.
struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply a saved plan exactly as it was reviewed; refused when the world moved.",
        discussion: """
            Runs no script. First the whole plan is checked: its digest, the tenant, its age \
            (--max-age), that it was not applied before, that each webhook goes where it was \
            planned to (not to another URL configured here), and every target against what it \
            was planned against. Then:
              - a target unchanged since the plan is written with If-Match on the planned
                version;
              - a target someone changed in other fields gets the planned changes over
                theirs;
              - a target someone changed in a planned field is stale: the plan is refused
                as a whole and nothing is written (exit 1), unless --skip-stale applies
                the rest;
              - a planned queue that cxrun's rules (cx.validate's default rule sets)
                find a new problem in, with the tenant as it is now (every queue
                listed, its skills read), refuses the plan as a whole: nothing is
                written (exit 1). The tenant would refuse that change, halfway
                through the apply. So does an agent whose status the plan sets and
                who may not have it changed now (its role, or its shift over since
                the plan), as the agent_status binding would refuse it.
                --ignore-rules applies anyway (a rule stricter than your tenant).
            A change that fails stops the apply (what follows it was planned with it made: not \
            attempted), and a webhook planned after a skipped stale change is not sent.
            The apply is a run in the audit log, linked to the plan; `cxrun rollback --run \
            ID` reverts it. Exit codes: 0 applied, 1 stale, breaking the rules, or a change \
            failed, 2 the plan was refused.
            """
    )

    @Argument(help: "The plan file (from cxrun plan).")
    var plan: String

    @OptionGroup var target: TenantOptions

    @Option(name: .customLong("max-age"), parsing: .unconditional, help: "Refuse a plan older than this many minutes.")
    var maxAge: Double = 60

    @Flag(name: .customLong("skip-stale"), help: "Apply what is still current; skip (and report) stale targets.")
    var skipStale = false

    @Flag(name: .customLong("ignore-rules"), help: "Apply even when cxrun's rules find problems the planned changes bring (recorded in the audit log).")
    var ignoreRules = false


    func validate() throws {
        guard maxAge > 0 else { throw ValidationError("--max-age must be positive (minutes)") }
    }

    func run() async throws {
        Interrupts.prepare()
        let (loaded, file) = try PlanFile.load(plan)
        let setup = try await target.resolve()
        var options = PlanApply.Options()
        options.maxAge = maxAge * 60
        options.skipStale = skipStale
        options.lockTimeout = setup.lockTimeout
        options.stdlib = StdlibLocator.locate()
        options.ignoreRules = ignoreRules
        let report: PlanApply.Report
        do {
            // A stop signal cancels the apply: no write starts after it, the one in flight is
            // audited as such, and the run is recorded aborted.
            let (tenant, auditPath, options) = (setup.tenant, setup.auditPath, options)
            report = try await Interrupts.cancelling { try await PlanApply.apply(loaded, file: file, tenant: tenant, auditPath: auditPath, options: options) }
        } catch {
            await setup.stop()
            Console.err("cxrun: refused: \((error as? PlanError)?.description ?? "\(error)")\n")
            throw ExitCode(2)
        }
        await setup.stop()
        if let why = report.unchecked {
            Console.err(TerminalText.escaped("cxrun: the planned queues could not be checked against cxrun's rules (\(why)); nothing was written") + "\n")
        } else if !report.broken.isEmpty {
            var text = "cxrun: the plan breaks cxrun's rules, with the tenant as it is now; nothing was written:\n"
            for b in report.broken {
                text += TerminalText.escaped("  \(b.title.isEmpty ? b.target : b.title) (\(b.target)):") + "\n"
                for problem in b.problems { text += TerminalText.escaped("    ! \(problem)") + "\n" }
            }
            text += "the tenant would refuse these changes partway through the apply: fix the script and plan again "
                + "(or, where a rule is stricter than your tenant, apply with --ignore-rules)\n"
            Console.err(text)
        } else if report.refused {
            var text = "cxrun: the plan is stale; nothing was written. Changed since the plan:\n"
            for s in report.stale {
                text += TerminalText.escaped("  \(s.title.isEmpty ? s.target : s.title) (\(s.target)): \(s.fields.joined(separator: ", "))") + "\n"
            }
            text += "plan again, or apply the rest with --skip-stale\n"
            Console.err(text)
        }
        for line in report.lines {
            let name = TerminalText.escaped(line.action.title.isEmpty ? line.action.target : "\(line.action.title) (\(line.action.target))")
            Console.out("\(line.state.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(line.action.kind.rawValue) \(name): \(line.message)\n")
        }
        if report.lines.isEmpty && !report.refused { Console.out("the plan holds no changes: nothing was written\n") }
        Console.err("apply run \(report.runID) of \(loaded.id) (cxrun audit show \(report.runID))\n")
        if report.interrupted || Interrupts.signalled {
            Console.err("cxrun: the apply was interrupted; cxrun rollback --run \(report.runID) undoes what it wrote\n")
            throw ExitCode(Interrupts.exitCode)
        }
        if report.failed { throw ExitCode(1) }
    }
}
