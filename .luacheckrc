-- luacheck configuration: runbooks and the stdlib run inside cxrun's sandbox.
std = "lua54"
max_line_length = 150

-- The host's globals (DESIGN.md §5): bindings, cx and log.
local host_globals = {
  "cx", "log", "fetch", "build", "validate", "deploy", "patch", "rollback", "reassign", "agent_status", "webhook",
  "queues", "skills", "routing_profiles", "agents", "agent", "analytics", "unpack",
}

files["scripts/"] = { read_globals = host_globals }
-- Runbook tests (cxrun test) also see test().
files["**/*_test.lua"] = { read_globals = { "test" } }
files["stdlib/cx/"] = { read_globals = host_globals }
-- Tests run under the stock interpreter and may use its io/os/debug.
files["stdlib/tests/"] = { std = "lua54" }
-- LuaLS declarations (---@meta): globals defined on purpose, bodies empty.
exclude_files = { "stdlib/cxrun.d.lua" }
