/// The prelude's chunk name: tracebacks and error positions skip its frames.
let preludeChunkName = "=[cx]"

/// The chunk name for a host's own Lua run as the script (a REPL's driver loop): its frames are
/// skipped as the prelude's, so what it raises names no line of it.
public let hostChunkName = preludeChunkName

/// `Lua/prelude.lua`, embedded at build time: builds the sandbox environment (DESIGN.md §3).
let sandboxPreludeSource = String(decoding: PackageResources.prelude_lua, as: UTF8.self)
