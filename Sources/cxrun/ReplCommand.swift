import ArgumentParser
import CLineEditor
import Foundation
import Runbook

/// `cxrun repl`: an interactive Lua prompt in the runbook sandbox, every binding at hand.
struct ReplCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "An interactive Lua prompt inside the runbook sandbox, with every binding (the sandbox tenant by default).",
        discussion: """
            Type Lua: an expression shows its value (tables and documents as indented JSON), a \
            statement runs; an incomplete chunk continues on the next line (prompt ">>"); an error \
            is shown and the session goes on. Globals persist between chunks. Every binding call is \
            audited like a run (one run row per session; cxrun audit show). End with Ctrl-D.

            With standard input not a terminal it reads and runs a chunk at a time, printing no \
            prompts, so it can be scripted:
              printf 'q = queues()[1]\\nq.name\\n' | cxrun repl
            """
    )

    @OptionGroup var target: TenantOptions

    @Flag(name: .customLong("dry-run"), help: "Change nothing: writes are validated and planned; reads are real.")
    var dryRun = false


    func run() async throws {
        Interrupts.prepare()
        let setup = try await target.resolve()
        let interactive = isatty(STDIN_FILENO) != 0
        let history = (setup.environment["HOME"] ?? ".") + "/.cxrun_history"
        if interactive {
            Console.err("cxrun repl: tenant \(setup.tenant.name)\(dryRun ? " (dry run)" : ""); Ctrl-D ends the session\n")
            cx_edit_read_history(history)
        }
        let request = RunbookRequest(
            scriptPath: "cxrun repl", source: RunbookSession.replSource, args: [], tenant: setup.tenant, dryRun: dryRun,
            limits: RunLimits(timeout: 604_800), auditPath: setup.auditPath, stdlib: StdlibLocator.locate(),
            output: { Console.out($0) }, log: { level, message in Console.err("[\(level)] \(message)\n") },
            onStart: { handle in Interrupts.install(handle) },
            readLine: { prompt in await Self.readLine(prompt: interactive ? prompt : nil) })
        let result = try await setup.run(request)
        if interactive { cx_edit_write_history(history) }
        if let message = result.outcome.message, result.outcome.status != .succeeded { Console.err("cxrun: \(message)\n") }
        Console.err("\n" + result.summary.text + "\n")
        if Interrupts.signalled { throw ExitCode(Interrupts.exitCode) }
    }

    /// One line of standard input, read on its own thread (nil at the end of input). On a terminal
    /// through libedit: the prompt, line editing, and history (kept in ~/.cxrun_history); without
    /// libedit, the prompt and a plain line.
    static func readLine(prompt: String?) async -> String? {
        await withCheckedContinuation { continuation in
            Thread {
                guard let prompt else { return continuation.resume(returning: Swift.readLine(strippingNewline: true)) }
                guard cx_edit_available() != 0 else {
                    Console.err(prompt)
                    return continuation.resume(returning: Swift.readLine(strippingNewline: true))
                }
                guard let raw = cx_edit_readline(prompt) else { return continuation.resume(returning: nil) }
                let line = String(cString: raw)
                free(raw)
                if !line.trimmingCharacters(in: .whitespaces).isEmpty { cx_edit_add_history(line) }
                continuation.resume(returning: line)
            }.start()
        }
    }
}
