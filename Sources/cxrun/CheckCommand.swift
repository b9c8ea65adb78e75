import ArgumentParser
import Foundation
import Runbook

/// `cxrun check`: compiles scripts and reports syntax errors without running anything.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compile scripts and report syntax errors as FILE:LINE: message.",
        discussion: """
            Nothing runs and nothing is contacted. A folder stands for every .lua file below it. \
            Exits 1 when any script fails to compile, 2 when one cannot be read.
            """
    )

    @Argument(help: "Lua scripts, or folders of them, to check.")
    var scripts: [String]

    func validate() throws {
        if scripts.isEmpty { throw ValidationError("name at least one script") }
    }

    func run() throws {
        var failed = 0, unreadable = 0
        var files: [String] = []
        for path in scripts {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
                files.append(path)
                continue
            }
            let found = LuaFiles.below(path, suffix: ".lua")
            if found.isEmpty {
                Console.err("cxrun: no .lua files in \(path)\n")
                unreadable += 1
            }
            files += found
        }
        for path in files {
            let source: String
            switch ScriptFile.read(path) {
            case .success(let text): source = text
            case .failure(let why):
                Console.err("cxrun: \(why)\n")
                unreadable += 1
                continue
            }
            if let error = RunbookChecker.check(source: source, path: path) {
                // Lua's refusal of a binary chunk names no chunk: every line starts with the file.
                Console.err((error.hasPrefix(path + ":") ? error : "\(path): \(error)") + "\n")
                failed += 1
            } else {
                Console.out("ok  \(path)\n")
            }
        }
        if unreadable > 0 { throw ExitCode(2) }
        if failed > 0 { throw ExitCode(1) }
    }
}
