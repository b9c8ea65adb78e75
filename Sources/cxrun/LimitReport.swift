import ArgumentParser
import Runbook

/// One line that names the limit a run hit and the flag that sets it.
enum LimitReport {
    static func describe(_ kind: RunLimit, limits: RunLimits) -> String {
        switch kind {
        case .memory: return "memory limit hit: the script used more than \(limits.memoryBytes >> 20) MiB (raise it with --memory)"
        case .instructions: return "instruction limit hit: \(limits.instructions) instructions (raise it with --instructions)"
        case .deadline: return "deadline hit: the run took longer than \(limits.timeout) s (raise it with --timeout)"
        case .stack: return "stack limit hit: recursion too deep"
        case .size: return "size limit hit: the script built a string larger than Lua can hold (2 GiB), whatever --memory allows"
        case .interrupted: return "interrupted"
        }
    }
}

/// DESIGN.md §11's exit codes for how a script ended: 0 success, 1 script error, 3 a limit.
/// (A stop signal exits 128 + the signal; see `Interrupts`.)
enum ExitCodes {
    static func of(_ status: RunbookOutcome.Status) -> Int32 {
        switch status {
        case .succeeded: return 0
        case .failed: return 1
        case .limit: return 3
        }
    }

    /// How a run (or a REPL session) ends the process: as signalled, by its outcome, or 4 when it
    /// succeeded but work it handed off did not happen. A stop signal after the script ended (while
    /// deliveries settled) still ends it as signalled.
    static func exit(after result: RunbookResult) throws {
        if result.outcome.status == .limit(.interrupted) || Interrupts.signalled { throw ExitCode(Interrupts.exitCode) }
        let code = of(result.outcome.status)
        if code != 0 { throw ExitCode(code) }
        if !result.lostWork.isEmpty { throw ExitCode(4) }
    }
}
