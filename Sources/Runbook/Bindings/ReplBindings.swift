import JSONCore
import LuaHost

/// `Lua/repl.lua`, embedded at build time.
let replExtensionSource = String(decoding: PackageResources.repl_lua, as: UTF8.self)

/// A line `cxrun repl` read: its text, or why it was refused (not UTF-8: repaired, a Latin-1 `é`
/// would be sent as U+FFFD), which the session reports as a failed chunk.
public enum ReplLine: Sendable, Equatable {
    case text(String)
    case refused(String)
}

/// What `cxrun repl` shows before reading a line: the prompt, and the names Tab completes there
/// (the session's globals, and `name.key` for their tables' keys).
public struct ReplPrompt: Sendable, Equatable {
    public var text: String
    public var completions: [String]

    public init(text: String, completions: [String] = []) {
        self.text = text
        self.completions = completions
    }
}

/// The host half of `cxrun repl`: reading a line, showing a value as indented JSON, and whether
/// the input is a script from a pipe (its failed chunks then fail the session at its end).
struct ReplBindings {
    let readLine: @Sendable (ReplPrompt) async -> ReplLine?
    let batch: Bool

    var hidden: [(String, LuaFunction)] {
        [
            ("read_line", { [readLine] call throws(ScriptError) in
                let prompt = ReplPrompt(text: call.string(1) ?? "", completions: (try? call.value(2))?.arrayValue?.compactMap(\.stringValue) ?? [])
                return .suspend(.async {
                    switch await readLine(prompt) {
                    case nil: return .success([])
                    case .text(let line)?: return .success([.string(line)])
                    case .refused(let why)?: return .success([.bool(false), .string(why)])
                    }
                })
            }),
            ("batch", { [batch] call throws(ScriptError) in try call.returning(.bool(batch)) }),
            ("pretty", { call throws(ScriptError) in
                let value: JSONValue
                do throws(LuaHostError) { value = try call.convertedValue(1) } catch {
                    return try call.returning(.string("(a \(call.typeName(1)) JSON cannot show: \(error.description))"))
                }
                return try call.returning(.string(value.jsonString(pretty: true)))
            }),
        ]
    }
}
