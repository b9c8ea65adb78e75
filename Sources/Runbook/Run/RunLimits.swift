import LuaHost

/// The limits a runbook run is held to (memory, instructions, wall clock): the Lua host's own,
/// named for the run; each one hit is reported as a limit (exit code 3), never a crash.
public typealias RunLimits = LuaLimits

/// Which limit stopped a run.
public typealias RunLimit = LimitKind
