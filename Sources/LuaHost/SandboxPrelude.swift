/// The prelude's chunk name: tracebacks and error positions skip its frames.
let preludeChunkName = "=[cx]"

/// `Lua/prelude.lua`, embedded at build time: builds the sandbox environment (DESIGN.md §3).
let sandboxPreludeSource = String(decoding: PackageResources.prelude_lua, as: UTF8.self)
