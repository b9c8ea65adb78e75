import ArgumentParser
import CXShared
import Foundation
import Runbook

/// `cxrun locks [release RUN]`: the run locks held now, and freeing a dead run's.
struct LocksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "locks",
        abstract: "List the run locks held now (queues and agents a run is writing), or free a dead run's.",
        discussion: """
            A run takes a lock on each queue and agent before its first write to it and holds it until \
            it ends; another run that writes the same target waits (--lock-timeout) and then fails that \
            write naming the holder. A crashed run's locks expire after 60 s, or at once when its process \
            is seen gone on the same host. With a shared audit database (PostgreSQL) locks hold across machines.
            """,
        subcommands: [List.self, Release.self],
        defaultSubcommand: List.self
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the locks held now.")
        @OptionGroup var location: AuditCommand.Location
        @Flag(help: "One JSON object per lock.") var json = false

        func run() throws {
            let store = try location.openForWriting()
            let leases = try store.leases()
            if leases.isEmpty && !json { Console.err("no locks are held\n") }
            for l in leases {
                if json {
                    Console.out(l.exportLine + "\n")
                } else {
                    Console.out(TerminalText.escaped("\(l.target)  \(l.tenant)  held by \(l.holderDescription)") + "\n")
                }
            }
        }
    }

    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "release",
            abstract: "Free the locks of a run that cannot free them itself (audited as a run of its own).")
        @Argument(help: "The run whose locks to free (see `cxrun locks`).") var runID: String
        @OptionGroup var location: AuditCommand.Location

        func run() throws {
            let store = try location.openForWriting()
            let released: LockRelease.Released
            do { released = try LockRelease.release(run: runID, store: store) } catch {
                Console.err("cxrun: \(error)\n")
                throw ExitCode(1)
            }
            for l in released.leases { Console.out(TerminalText.escaped("released \(l.target) (\(l.tenant))") + "\n") }
            Console.err("recorded as run \(released.runID) (cxrun audit show \(released.runID))\n")
        }
    }
}
