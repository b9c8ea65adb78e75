import ArgumentParser
import CXShared
import Foundation
import Runbook

/// `cxrun show PLAN`: a saved plan, as a reviewer reads it.
struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a saved plan (after checking its digest).",
        discussion: "Exits 2 when the file is not a plan or was changed after planning."
    )

    @Argument(help: "The plan file.")
    var plan: String

    @Flag(help: "Print the plan file itself.")
    var json = false

    func run() async throws {
        let (loaded, file) = try PlanFile.load(plan)
        if json { return Console.out(file) }
        let created = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: loaded.createdAt))
        // The header is the plan file's text (a colleague's): shown, never acted on by the terminal.
        // Line by line: its own line breaks are the layout, one inside a value is escaped.
        let lines = [
            "plan \(loaded.id)",
            "  tenant:  \(loaded.tenant) (\(loaded.tenantIdentity))",
            "  script:  \(loaded.script) (sha256 \(loaded.scriptSHA256.prefix(12))…) \(loaded.args.jsonString())",
            "  planned: \(created) by \(loaded.operatorName) on \(loaded.host)",
        ] + (loaded.teamStore.map { ["  audit:   \($0) (the team's log: apply records there)"] } ?? [])
        let header = lines.map(TerminalText.escaped).joined(separator: "\n")
        Console.out(header + "\n\n" + PlanText.render(loaded.actions, color: Console.colorOnStdout))
    }
}

/// Reading a plan file for `show` and `apply`: a missing, malformed or altered file exits 2.
enum PlanFile {
    /// The most a plan file may hold (a plan for 5,000 queues takes a few MiB).
    static let maxBytes = 64 << 20

    static func load(_ path: String) throws -> (Plan, String) {
        let data: Data
        do { data = try BoundedFile.read(path, limit: maxBytes) } catch {
            Console.err("cxrun: cannot read plan file '\(path)': it \(error.description)\n")
            throw ExitCode(2)
        }
        let text = String(decoding: data, as: UTF8.self)
        do {
            return (try Plan.read(text, key: PlanKey.fromEnvironment()), text)
        } catch {
            Console.err("cxrun: \(path): \(error.description)\n")
            throw ExitCode(2)
        }
    }
}
