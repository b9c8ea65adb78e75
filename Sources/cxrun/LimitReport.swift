import LuaHost

/// One line that names the limit a run hit and the flag that sets it.
enum LimitReport {
    static func describe(_ kind: LimitKind, limits: LuaLimits) -> String {
        switch kind {
        case .memory: return "memory limit hit: the script used more than \(limits.memoryBytes >> 20) MiB (raise it with --memory)"
        case .instructions: return "instruction limit hit: \(limits.instructions) instructions (raise it with --instructions)"
        case .deadline: return "deadline hit: the run took longer than \(limits.timeout) s (raise it with --timeout)"
        case .stack: return "stack limit hit: recursion too deep"
        case .interrupted: return "interrupted"
        }
    }
}
