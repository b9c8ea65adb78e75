import ArgumentParser
import Foundation

/// The cxrun command line: parses, runs, and maps every outcome to DESIGN.md §11's exit codes.
@main
struct Cxrun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cxrun",
        abstract: "Run Lua runbooks against a contact-center REST API, with limits and an audit trail.",
        discussion: """
            Exit codes:
              0    success
              1    the script failed (the error names the script line); a shipped runbook
                   also fails when a change it was asked for did not happen
              2    usage or configuration error
              3    a sandbox limit was hit (memory, instructions, deadline, stack depth,
                   or a string larger than Lua can hold)
              4    the script finished, but work did not happen: a webhook delivery it
                   did not wait for failed (listed after the summary), or the output
                   could not be written (e.g. a full disk)
              130  interrupted (Ctrl-C); 143 terminated (SIGTERM), 129 on SIGHUP
                   (the run stops and is audited as aborted; a second signal quits at once)
            """,
        version: "0.1.0",
        subcommands: [RunCommand.self, PlanCommand.self, ApplyCommand.self, ShowCommand.self, CheckCommand.self, TestCommand.self, ReplCommand.self, SimCommand.self, AuditCommand.self, RollbackCommand.self, LocksCommand.self]
    )

    /// Ends the process; output that could not be written makes a success exit 4, saying why.
    static func exitReportingOutput(_ code: Int32) -> Never {
        if let failure = Console.outputFailure {
            Console.err("cxrun: the output could not be written (\(failure)); what was printed is incomplete\n")
            Foundation.exit(code == 0 ? 4 : code)
        }
        Foundation.exit(code)
    }

    static func main() async {
        Console.prepare()
        do {
            var command = try parseAsRoot()
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            exitReportingOutput(0)
        } catch let code as ExitCode {
            exitReportingOutput(code.rawValue)
        } catch let error as CLIError {
            Console.err("cxrun: \(error)\n")
            Foundation.exit(2)
        } catch {
            if exitCode(for: error) == .success {  // --help, --version
                Console.out(fullMessage(for: error) + "\n")
                Foundation.exit(0)
            }
            Console.err(fullMessage(for: error) + "\n")
            if let hint = ScriptArgumentHint.hint(for: Array(CommandLine.arguments.dropFirst())) { Console.err("Hint: \(hint)\n") }
            Foundation.exit(2)
        }
    }
}
