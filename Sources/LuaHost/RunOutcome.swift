import JSONCore
/// How a run ended, with what the CLI and the audit log need to report it.
public struct RunOutcome: Sendable {
    public enum Status: Sendable, Equatable {
        case succeeded
        case failed
        case limit(LimitKind)
    }

    public var status: Status
    /// The error, naming the script line (`script.lua:12: message`), when the run did not succeed.
    public var message: String?
    /// The Lua traceback of the failing coroutine.
    public var traceback: String?
    /// What the main chunk returned.
    public var results: [LuaValue]
    public var instructions: Int64
    public var memoryPeak: Int
    public var seconds: Double

    /// The process exit code of DESIGN.md §11: 0 success, 1 script error, 3 limit (130 on SIGINT).
    public var exitCode: Int32 {
        switch status {
        case .succeeded: return 0
        case .failed: return 1
        case .limit(.interrupted): return 130
        case .limit: return 3
        }
    }
}
