/// `Lua/runbook.lua`, embedded at build time: `validate` and `cx.tenant` inside each run's sandbox.
let runbookExtensionSource = String(decoding: PackageResources.runbook_lua, as: UTF8.self)
