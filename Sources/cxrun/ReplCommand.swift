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
            is shown and the session goes on. Globals persist between chunks (a local lasts its \
            chunk, as in lua). Every binding call is audited like a run (one run row per session; \
            cxrun audit show). Tab completes names: bindings, globals, and a global table's \
            keys (cx.ea<Tab> gives cx.each, q.max<Tab> q.maxWaitTime). `help` lists the bindings \
            and cx's helpers. End with Ctrl-D.

            Each chunk has the whole instruction budget (--instructions). A chunk that runs away \
            is stopped by it, or by Ctrl-C, with an error, and the session goes on; Ctrl-C at \
            the prompt ends the session (exit 130), as SIGTERM does at any time. Memory is the \
            session's (--memory): a chunk out of memory ends with an error and the session goes \
            on if what it allocated was garbage; memory the session still holds (globals) ends it \
            (exit 3).

            With standard input not a terminal it reads and runs a chunk at a time, printing no \
            prompts, so it can be scripted:
              printf 'q = queues()[1]\\nq.name\\n' | cxrun repl
            Errors are shown and the session goes on, but it exits 1 when any chunk failed.
            """
    )

    @OptionGroup var target: TenantOptions

    @Flag(name: .customLong("dry-run"), help: "Change nothing: writes are validated and planned; reads are real.")
    var dryRun = false

    @Option(parsing: .unconditional, help: "Instruction budget of each chunk (default: 1000000000).")
    var instructions: Int64?

    @Option(parsing: .unconditional, help: "Memory limit for the session's Lua state, in MiB (default: 256).")
    var memory: Int?

    func validate() throws {
        if let instructions, instructions <= 0 { throw ValidationError("--instructions must be positive") }
        if let memory, !(4...65_536).contains(memory) { throw ValidationError("--memory must be between 4 and 65536 (MiB)") }
    }

    func run() async throws {
        Interrupts.prepare()
        Interrupts.stopChunksOnly()
        let setup = try await target.resolve()
        let interactive = isatty(STDIN_FILENO) != 0
        let history = (setup.environment["HOME"] ?? ".") + "/.cxrun_history"
        if interactive {
            Console.err("cxrun repl: tenant \(setup.tenant.name)\(dryRun ? " (dry run)" : ""); Ctrl-D ends the session\n")
            cx_edit_read_history(history)
        }
        var limits = RunLimits(timeout: 604_800)
        if let instructions { limits.instructions = instructions }
        if let memory { limits.memoryBytes = memory << 20 }
        var request = RunbookRequest(
            scriptPath: "cxrun repl", source: RunbookSession.replSource, args: [], tenant: setup.tenant, dryRun: dryRun,
            limits: limits, auditPath: setup.auditPath, stdlib: StdlibLocator.locate(),
            output: { Console.out($0) }, log: { Console.err(RunbookRequest.logLine($0, $1)) },
            onStart: { handle in Interrupts.install(handle) },
            readLine: { prompt in
                Interrupts.rearm()  // a Ctrl-C that stopped the last chunk was dealt with
                return await Self.readLine(prompt: interactive ? prompt : nil)
            })
        request.batchInput = !interactive
        let result = try await setup.run(request)
        if interactive { cx_edit_write_history(history) }
        let outcome = result.outcome
        if outcome.status != .succeeded {
            var text = "cxrun: \(outcome.message ?? "the session failed")\n"
            if case .limit(let kind) = outcome.status, kind != .interrupted { text += "cxrun: \(LimitReport.describe(kind, limits: limits))\n" }
            Console.err(text)
        }
        RunCommand.reportAuditProblems(result)
        // The session's writes as one plan: what it would have done, with what cxrun's rules say.
        if dryRun { Console.out(RunCommand.dryRunSummary(result.plannedChanges)) }
        Console.err("\n" + result.summary.text + "\n")
        RunCommand.reportLostWork(result)
        try ExitCodes.exit(after: result)
    }

    /// One line of standard input, read on its own thread (nil at the end of input). On a terminal
    /// through libedit: the prompt, line editing, and history (kept in ~/.cxrun_history); without
    /// libedit, the prompt and a plain line. A line that is not UTF-8 is refused, not repaired.
    static func readLine(prompt: ReplPrompt?) async -> ReplLine? {
        await withCheckedContinuation { continuation in
            Thread {
                guard let prompt else { return continuation.resume(returning: plainLine()) }
                guard cx_edit_available() != 0 else {
                    Console.err(prompt.text)
                    return continuation.resume(returning: plainLine())
                }
                Self.setCompletions(prompt.completions)
                guard let raw = cx_edit_readline(prompt.text) else { return continuation.resume(returning: nil) }
                let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self), count: strlen(raw)))
                free(raw)
                let line = ScriptFile.line(bytes)
                if case .text(let text) = line, !text.trimmingCharacters(in: .whitespaces).isEmpty { cx_edit_add_history(text) }
                continuation.resume(returning: line)
            }.start()
        }
    }

    /// Hands Tab's names to libedit (C strings, copied there).
    private static func setCompletions(_ names: [String]) {
        let copies = names.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        pointers.withUnsafeBufferPointer { cx_edit_set_completions($0.baseAddress, Int32($0.count)) }
    }

    /// A line of standard input as bytes (Swift's readLine would repair what is not UTF-8).
    private static func plainLine() -> ReplLine? {
        var bytes: [UInt8] = []
        while true {
            let c = getchar()
            if c == EOF { return bytes.isEmpty ? nil : ScriptFile.line(bytes) }
            if c == 0x0A { break }
            bytes.append(UInt8(truncatingIfNeeded: c))
        }
        if bytes.last == 0x0D { bytes.removeLast() }
        return ScriptFile.line(bytes)
    }
}
