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
    /// The failure is a task's that nothing waited for (`cx.spawn` without `cx.wait`): the main
    /// chunk had run to its end.
    public var unwaitedTask = false
    /// What the main chunk returned.
    public var results: [LuaValue]
    public var instructions: Int64
    public var memoryPeak: Int
    public var seconds: Double

}
