/// The limits a run is held to; a run that hits one ends with its `LimitKind`, never a crash.
public struct LuaLimits: Sendable, Equatable {
    /// Memory cap for the Lua state, in bytes (0 = none).
    public var memoryBytes: Int
    /// Instruction budget shared by every coroutine of the run (0 = none).
    public var instructions: Int64
    /// Wall-clock seconds the run may take (0 = none).
    public var timeout: Double

    public init(memoryBytes: Int = 256 << 20, instructions: Int64 = 1_000_000_000, timeout: Double = 600) {
        self.memoryBytes = memoryBytes
        self.instructions = instructions
        self.timeout = timeout
    }

    /// What the host may borrow past the cap while Swift is on the stack (DESIGN.md §2).
    var reserveBytes: Int { memoryBytes == 0 ? 0 : max(16 << 20, memoryBytes / 4) }
}

/// Which limit stopped a run.
public enum LimitKind: String, Sendable, Equatable {
    case memory, instructions, deadline, stack, interrupted
    /// A string or buffer larger than Lua can hold at all (2 GiB): no memory limit allows it.
    case size
}
