import JSONCore
import LuaHost

/// `Lua/repl.lua`, embedded at build time.
let replExtensionSource = String(decoding: PackageResources.repl_lua, as: UTF8.self)

/// The host half of `cxrun repl`: reading a line, showing a value as indented JSON, and whether
/// the input is a script from a pipe (its failed chunks then fail the session at its end).
struct ReplBindings {
    let readLine: @Sendable (String) async -> String?
    let batch: Bool

    var hidden: [(String, LuaFunction)] {
        [
            ("read_line", { [readLine] call throws(ScriptError) in
                let prompt = call.string(1) ?? ""
                return .suspend(.async {
                    guard let line = await readLine(prompt) else { return .success([]) }
                    return .success([.string(line)])
                })
            }),
            ("batch", { [batch] call throws(ScriptError) in try call.returning(.bool(batch)) }),
            ("pretty", { call throws(ScriptError) in
                let value: JSONValue
                do { value = try call.value(1) } catch { return try call.returning(.string("(\(call.typeName(1)): \(error))")) }
                return try call.returning(.string(value.jsonString(pretty: true)))
            }),
        ]
    }
}
