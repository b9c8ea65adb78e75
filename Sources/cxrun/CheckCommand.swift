import ArgumentParser
import Foundation
import Runbook

/// `cxrun check`: compiles scripts and reports syntax errors without running anything.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compile scripts; report syntax errors and undefined or overwritten globals as FILE:LINE: message.",
        discussion: """
            Nothing runs and nothing is contacted. A folder stands for every .lua file below it. \
            Besides syntax, a read of a global that nothing defines (neither the sandbox nor the \
            script) is reported with the closest name: `fecth(id)` fails a run where it stands, \
            after the changes before it; here it is found first. (To read a global that may be \
            missing on purpose, use rawget(_G, "name").) So are a field of cx that it does not \
            have (`cx.chnage`), a require of a module neither the stdlib nor the script's \
            folder holds (`require("cx.valdiate")`), and an assignment to a name of the \
            sandbox's own (`fetch = ...`, `print = nil`): the run loses it. Exits 1 when any \
            script fails to compile or has such a problem, 2 when one cannot be read.
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
        let stdlib = StdlibLocator.locate()
        for path in files {
            let source: String
            switch ScriptFile.read(path) {
            case .success(let text): source = text
            case .failure(let why):
                Console.err("cxrun: \(why)\n")
                unreadable += 1
                continue
            }
            let found = RunbookChecker.check(source: source, path: path, stdlib: stdlib)
            if let error = found.syntaxError {
                // Lua's refusal of a binary chunk names no chunk: every line starts with the file.
                Console.err((error.hasPrefix(path + ":") ? error : "\(path): \(error)") + "\n")
                failed += 1
            } else {
                for line in found.problems { Console.err(line + "\n") }
                if found.problems.isEmpty { Console.out("ok  \(path)\n") } else { failed += 1 }
            }
        }
        if unreadable > 0 { throw ExitCode(2) }
        if failed > 0 { throw ExitCode(1) }
    }
}
