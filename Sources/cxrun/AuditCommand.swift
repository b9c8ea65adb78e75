import ArgumentParser
import CXShared
import Foundation
import Runbook

/// `cxrun audit runs|show|export`.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read the audit log: list runs, show one, export JSONL.",
        subcommands: [Runs.self, Show.self, Export.self]
    )

    struct Location: ParsableArguments {
        @Option(name: .customLong("audit-db"), help: AuditLocationOption.help)
        var auditDB: String?

        @Option(help: "Configuration file, for its [audit] url (default: ./cxrun.toml, then ~/.config/cxrun/cxrun.toml).")
        var config: String?

        func open() throws -> AuditStore {
            let location = try AuditLocationOption.resolve(flag: auditDB, config: config)
            if !AuditLocation.isURL(location) {
                guard FileManager.default.fileExists(atPath: location) else { throw CLIError.usage("no audit log at \(location)") }
            }
            // Read-only: reading the log changes nothing and works on a read-only file.
            do { return try AuditStore(path: location, readOnly: true) } catch { throw CLIError.usage("cannot open the audit log \(location): \(error)") }
        }

        /// The log opened for writing (created and migrated if new): `cxrun locks`.
        func openForWriting() throws -> AuditStore {
            let location = try AuditLocationOption.resolve(flag: auditDB, config: config)
            do { return try AuditStore(path: location) } catch { throw CLIError.usage("cannot open the audit log \(location): \(error)") }
        }
    }

    /// Which runs to read (`runs` and `export`): each option narrows.
    struct Filter: ParsableArguments {
        @Option(name: .customLong("operator"), help: "Only runs by this operator.") var operatorName: String?
        @Option(help: "Only runs against this tenant.") var tenant: String?
        @Option(help: "Only runs of scripts whose path contains this text (any case).") var script: String?
        @Option(help: "Only runs started at or after this time: 2026-11-20 (UTC) or 2026-11-20T09:00:00Z.") var since: String?
        @Option(help: "Only runs in this state: running, succeeded, failed, aborted or abandoned.") var status: String?
        @Option(help: "Only runs that wrote this queue or agent id (or may have: a write left pending).") var target: String?

        func validate() throws {
            if let since, RFC3339.date(since) == nil && RFC3339.time(since) == nil {
                throw ValidationError("--since '\(since)' is not a date such as 2026-11-20 or a time such as 2026-11-20T09:00:00Z")
            }
            if let status, RunStatus(rawValue: status) == nil {
                throw ValidationError("--status '\(status)' is none of running, succeeded, failed, aborted, abandoned")
            }
        }

        var filter: RunFilter {
            RunFilter(operatorName: operatorName, tenant: tenant, script: script, since: since.flatMap { RFC3339.date($0) ?? RFC3339.time($0) },
                      status: status.flatMap(RunStatus.init(rawValue:)), target: target)
        }
    }

    static func time(_ t: Double?) -> String {
        guard let t else { return "-" }
        return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: t))
    }

    struct Runs: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "runs", abstract: "List recent runs, newest first.")
        @OptionGroup var location: Location
        @OptionGroup var filter: Filter
        @Option(parsing: .unconditional, help: "How many runs.") var limit = 20
        @Flag(help: "One JSON object per run (as `cxrun audit export` writes runs), newest first.") var json = false

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() throws {
            let store = try location.open()
            let runs = try store.runs(limit: limit, where: filter.filter)
            if json { return runs.forEach { Console.out($0.exportLine + "\n") } }
            let counts = try store.callCounts(runs: runs.map(\.id))
            for r in runs {
                let (calls, errors) = counts[r.id] ?? (0, 0)
                Console.out(TerminalText.escaped(
                    "\(r.id)  \(AuditCommand.time(r.startedAt))  \(r.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) "
                        + "\(r.dryRun ? "dry-run " : "")tenant=\(r.tenant) by=\(r.operatorName) calls=\(calls) errors=\(errors)  \(r.script)")
                    + "\n")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one run and its calls (the latest run when no id is given).")
        @OptionGroup var location: Location
        @Argument(help: "The run id (default: the latest run).") var runID: String?

        func run() throws {
            let store = try location.open()
            let found = try runID.map { try store.run($0) } ?? store.runs(limit: 1).first
            guard let r = found else { throw CLIError.usage(runID.map { "no run \($0)" } ?? "the audit log has no runs yet") }
            var text = "run      \(r.id)\nscript   \(r.script)\(r.scriptSHA256.isEmpty ? "" : " (sha256 \(r.scriptSHA256.prefix(12)))")\n"
            // A team's log holds runs of many machines: which one ran it (a laptop, a CI runner).
            text += "tenant   \(r.tenant)\noperator \(r.operatorName)\(r.owner.map { " on \($0.host) (pid \($0.pid))" } ?? "")\n"
            text += "status   \(r.status.rawValue)\(r.dryRun ? " (dry run)" : "")\nstarted  \(AuditCommand.time(r.startedAt))\nfinished \(AuditCommand.time(r.finishedAt))\n"
            if let error = r.error { text += "error    \(error)\n" }
            let calls = try store.calls(run: r.id)
            for line in RunSummary.leftChanged(run: r, calls: calls, snapshots: { try store.snapshots(run: r.id) }) { text += "left     \(line)\n" }
            if let planID = r.planID {
                text += "plan     \(planID)\n"
                // The plan as it was applied (checked then; kept in the audit log with the run).
                if let file = try store.planFile(appliedBy: r.id), let plan = Plan.stored(file) {
                    text += PlanText.render(plan.actions, color: false).split(separator: "\n", omittingEmptySubsequences: false)
                        .map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n")
                }
            }
            text += "calls:\n"
            for c in calls {
                // Right-aligned, so the targets after it line up.
                let latency = c.latencyMs.map { String(format: "%9.1f ms", $0) } ?? "        - ms"
                text += "  \(String(c.seq).padding(toLength: 4, withPad: " ", startingAt: 0)) \(c.binding.padding(toLength: 13, withPad: " ", startingAt: 0)) "
                text += "\(c.status.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(latency)  "
                text += "\(c.target ?? "")\(c.errorCode.map { " [\($0)]" } ?? "") \(c.resultText)\n"
            }
            // A shared log holds other people's runs: what their scripts and tenants wrote is shown, never acted on.
            Console.out(text.split(separator: "\n", omittingEmptySubsequences: false).map { TerminalText.escaped(String($0)) }.joined(separator: "\n"))
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", abstract: "Export runs and calls as JSON lines.")
        @OptionGroup var location: Location
        @OptionGroup var filter: Filter
        @Option(name: .customLong("run"), help: "Only this run.") var runID: String?
        @Option(help: "Output format (jsonl).") var format = "jsonl"

        func validate() throws {
            guard format == "jsonl" else { throw ValidationError("--format: only jsonl is supported") }
        }

        func run() throws {
            let store = try location.open()
            func export(_ r: RunRecord) throws {
                Console.out(r.exportLine + "\n")
                for c in try store.calls(run: r.id) { Console.out(c.exportLine + "\n") }
            }
            guard let runID else { return try store.eachRun(where: filter.filter) { try export($0); return true } }  // however many
            guard let r = try store.run(runID) else { throw CLIError.usage("no run \(runID)") }
            try export(r)
        }
    }
}
