import ArgumentParser
import CXShared
import Foundation
import Runbook

/// `cxrun rollback --run ID [QUEUE...]`.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Restore the queues a run deployed to their pre-images, newest first, and the routing profiles it reassigned.",
        discussion: """
            A queue changed since the deploy has only the run's own fields reverted, and only \
            when nobody touched them since; otherwise it is reported as a conflict (--force \
            restores the pre-image anyway). The rollback is itself a run in the audit log.

            A run still running is not rolled back (exit 2): its rows show only part of what it \
            will do. Stop it first (Ctrl-C where it runs). It counts as running while its process \
            lives (this host) or, on another host, while it renews its locks. The rollback \
            writes the tenant the run wrote: select it (--tenant) or it is refused.
            """
    )

    @Option(name: .customLong("run"), help: "The run whose deploys to undo (see `cxrun audit runs`).")
    var sourceRun: String

    @Argument(help: "Only these queues or users (default: every queue the run deployed and every user it reassigned).")
    var queues: [String] = []

    @OptionGroup var target: TenantOptions


    @Flag(help: "Restore the pre-image even over later changes by others.")
    var force = false

    @Flag(name: .customLong("dry-run"), help: "Show what would be restored; change nothing.")
    var dryRun = false

    func run() async throws {
        Interrupts.prepare()
        let setup = try await target.resolve()
        let (sourceRun, queues, tenant, audit, force, dryRun) = (self.sourceRun, queues, setup.tenant, setup.auditPath, force, dryRun)
        let result: (runID: String, lines: [RollbackSession.Line])
        do {
            // A stop signal cancels the rollback: no target is begun after it; the run is recorded aborted.
            let lockTimeout = setup.lockTimeout
            result = try await Interrupts.cancelling {
                try await RollbackSession.run(of: sourceRun, queues: queues, tenant: tenant, auditPath: audit, force: force, dryRun: dryRun,
                                              lockTimeout: lockTimeout)
            }
        } catch {
            await setup.stop()
            Console.err("cxrun: \(error)\n")
            throw ExitCode(2)
        }
        await setup.stop()
        for line in result.lines { Console.out("\(line.ok ? "ok  " : "FAIL") \(TerminalText.escaped("\(line.title): \(line.message)"))\n") }
        if result.lines.isEmpty { Console.out("nothing to restore: run \(sourceRun) wrote no queue and reassigned no user\n") }
        if let note = RollbackSession.notUndone(run: sourceRun, auditPath: audit) { Console.out("note: \(note)\n") }
        Console.err("rollback run \(result.runID) (cxrun audit show \(result.runID))\n")
        if Interrupts.signalled {
            Console.err("cxrun: the rollback was interrupted; run it again to finish it\n")
            throw ExitCode(Interrupts.exitCode)
        }
        if result.lines.contains(where: { !$0.ok }) { throw ExitCode(1) }
    }
}
