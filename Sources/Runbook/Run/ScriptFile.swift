import Foundation
import LuaHost

/// A runbook's source as `run`, `plan`, `check` and `test` read it: a file of UTF-8 text. A file
/// in another encoding is refused, not repaired (see `SourceText`).
public enum ScriptFile {
    /// Why a script cannot be run, in words that name it.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The text of the script at `path`.
    public static func read(_ path: String) -> Result<String, Failure> {
        guard let data = FileManager.default.contents(atPath: path) else { return .failure(Failure(description: "cannot read script '\(path)'")) }
        return SourceText.decode(data).mapError { Failure(description: "script '\(path)' \($0)") }
    }
}
