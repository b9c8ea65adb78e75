import LuaHost

/// How the script of a run ended.
public struct RunbookOutcome: Sendable {
    public enum Status: Sendable, Equatable {
        case succeeded
        case failed
        /// A limit stopped it (an interrupt counts as one: the operator's).
        case limit(RunLimit)
    }

    public var status: Status
    /// The error, naming the script line (`script.lua:12: message`), when it did not succeed.
    public var message: String?
    /// The Lua traceback of the failing coroutine.
    public var traceback: String?
    public var instructions: Int64
    public var memoryPeak: Int
    public var seconds: Double

    init(_ outcome: RunOutcome) {
        switch outcome.status {
        case .succeeded: status = .succeeded
        case .failed: status = .failed
        case .limit(let kind): status = .limit(kind)
        }
        message = outcome.message
        traceback = outcome.traceback
        instructions = outcome.instructions
        memoryPeak = outcome.memoryPeak
        seconds = outcome.seconds
    }

    /// The run row's status: an interrupted run was aborted, any other unsuccessful one failed.
    var auditStatus: RunStatus {
        switch status {
        case .succeeded: return .succeeded
        case .limit(.interrupted): return .aborted
        default: return .failed
        }
    }
}
