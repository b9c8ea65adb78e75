import LuaHost

/// A handle on a running runbook that other threads may use (a signal watcher, a UI).
public struct RunHandle: Sendable {
    let control: RunControl

    /// Asks the script to stop at its next check; the run ends audited as aborted.
    public func interrupt() { control.interrupt() }

    /// In `cxrun repl`: stops the chunk running now (the session goes on), or the session when
    /// it is waiting for input.
    public func interruptChunk() { control.breakCall() }

    /// Whether the run was asked to stop.
    public var stopRequested: Bool { control.stopRequested }
}

/// Compiling without running (`cxrun check`).
public enum RunbookChecker {
    /// nil when `source` compiles as text-only Lua 5.4, else the error as `chunk:LINE: message`.
    public static func check(source: String, path: String) -> String? {
        ScriptChecker.check(source: source, chunkName: "@\(path)")
    }

    /// Why `args` cannot start a run, nil when they can: a `KEY=VALUE` key given twice (one
    /// value would win unseen in `cx.args.KEY`).
    public static func check(arguments args: [String]) -> String? {
        ScriptArguments.repeatedKey(in: args).map { "script argument \($0.key) is given twice (\($0.first) and \($0.second)): give it once" }
    }
}
