import LuaHost

/// The limits a runbook run is held to (memory, instructions, wall clock); each one hit is
/// reported as a limit, never a crash.
public struct RunLimits: Sendable, Equatable {
    /// Memory cap for the script's Lua state, in bytes.
    public var memoryBytes: Int
    /// Instruction budget shared by every coroutine of the run.
    public var instructions: Int64
    /// Wall-clock seconds the run may take.
    public var timeout: Double

    public init(memoryBytes: Int = 256 << 20, instructions: Int64 = 1_000_000_000, timeout: Double = 600) {
        self.memoryBytes = memoryBytes
        self.instructions = instructions
        self.timeout = timeout
    }

    var lua: LuaLimits { LuaLimits(memoryBytes: memoryBytes, instructions: instructions, timeout: timeout) }
}

/// Which limit stopped a run.
public enum RunLimit: String, Sendable, Equatable {
    case memory, instructions, deadline, stack, interrupted

    init(_ kind: LimitKind) {
        switch kind {
        case .memory: self = .memory
        case .instructions: self = .instructions
        case .deadline: self = .deadline
        case .stack: self = .stack
        case .interrupted: self = .interrupted
        }
    }
}
