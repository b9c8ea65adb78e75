import JSONCore
/// An error a binding raises into the script: what `pcall` receives.
public struct ScriptError: Error, Sendable, Equatable {
    /// How the value is raised.
    public enum Form: Sendable, Equatable {
        /// A string message, prefixed with the calling script line (like `error("...")`).
        case message
        /// The value as is (like `error(v, 0)`).
        case value
        /// A table that gets the host's error metatable (with `__tostring`).
        case structured
    }

    public var value: LuaValue
    public var form: Form

    public init(value: LuaValue, form: Form) {
        self.value = value
        self.form = form
    }

    /// A message raised with the calling script line prefixed.
    public static func message(_ text: String) -> ScriptError {
        ScriptError(value: .string(text), form: .message)
    }
}

extension ScriptError: CustomStringConvertible {
    /// What a person reads: the message, or a raised value as JSON (never the type's dump).
    public var description: String {
        if case .string(let text) = value { return text }
        return value.jsonString()
    }
}

/// Errors of the host itself (setting up a VM, loading a script), as opposed to script errors.
public enum LuaHostError: Error, Sendable, Equatable, CustomStringConvertible {
    case stateCreationFailed
    case setupFailed(String)
    case conversion(String)

    public var description: String {
        switch self {
        case .stateCreationFailed: return "could not create a Lua state"
        case .setupFailed(let m): return "sandbox setup failed: \(m)"
        case .conversion(let m): return m
        }
    }
}
