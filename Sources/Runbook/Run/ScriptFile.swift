import Foundation
import LuaHost

/// A runbook's source as `run`, `plan`, `check` and `test` read it: a file of UTF-8 text. A file
/// in another encoding is refused, not repaired (see `SourceText`).
public enum ScriptFile {
    /// Why a script cannot be run, in words that name it.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// A line typed or piped into `cxrun repl`: its text, or why it is refused.
    public static func line(_ bytes: [UInt8]) -> ReplLine {
        switch SourceText.decode(bytes) {
        case .success(let text): return .text(text)
        case .failure(let why):
            return .refused("the line is not UTF-8 text: byte 0x\(String(why.byte, radix: 16, uppercase: true)) at column \(why.column) "
                            + "(is the terminal set to UTF-8?); it was not run")
        }
    }

    /// The most a script may hold, as a module (`ModuleResolver.maxBytes`): a log or an image
    /// named by mistake is refused at once, not read into memory whole (1 GiB took 2 GiB and 22 s).
    public static let maxBytes = ModuleResolver.defaultMaxBytes

    /// The text of the script at `path`.
    public static func read(_ path: String) -> Result<String, Failure> {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            return .failure(Failure(description: "script '\(path)' is a folder, not a Lua file"))
        }
        let data: Data
        do { data = try BoundedFile.read(path, limit: maxBytes) } catch { return .failure(Failure(description: "script '\(path)' \(error.description)")) }
        return SourceText.decode(data).mapError { Failure(description: "script '\(path)' \($0)") }
    }
}
