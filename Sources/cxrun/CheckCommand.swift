import ArgumentParser
import Foundation
import Runbook

/// `cxrun check`: compiles scripts and reports syntax errors without running anything.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compile scripts and report syntax errors as FILE:LINE: message.",
        discussion: "Nothing runs and nothing is contacted. Exits 1 when any script fails to compile, 2 when one cannot be read."
    )

    @Argument(help: "Lua scripts to check.")
    var scripts: [String]

    func validate() throws {
        if scripts.isEmpty { throw ValidationError("name at least one script") }
    }

    func run() throws {
        var failed = 0, unreadable = 0
        for path in scripts {
            let source: String
            switch ScriptFile.read(path) {
            case .success(let text): source = text
            case .failure(let why):
                Console.err("cxrun: \(why)\n")
                unreadable += 1
                continue
            }
            if let error = RunbookChecker.check(source: source, path: path) {
                Console.err("\(error)\n")
                failed += 1
            } else {
                Console.out("ok  \(path)\n")
            }
        }
        if unreadable > 0 { throw ExitCode(2) }
        if failed > 0 { throw ExitCode(1) }
    }
}
