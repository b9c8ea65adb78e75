import ArgumentParser
import Foundation
import LuaHost

/// `cxrun run`: runs one runbook in a fresh sandbox under limits.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Lua runbook.",
        discussion: """
            Arguments after `--` reach the script as cx.args[1..n] and as the chunk's `...`; \
            KEY=VALUE arguments are also cx.args.KEY.

            Example:  cxrun run scripts/hello.lua -- name=ops

            Limits stop the run with exit code 3 and say which limit was hit.
            """
    )

    @Argument(help: "The Lua script to run.")
    var script: String

    @Argument(parsing: .postTerminator, help: "Arguments for the script (after `--`).")
    var scriptArgs: [String] = []

    @Option(help: "Wall-clock limit for the whole run, in seconds.")
    var timeout: Double = 600

    @Option(help: "Memory limit for the script's Lua state, in MiB.")
    var memory: Int = 256

    @Option(help: "Instruction budget shared by all coroutines of the run.")
    var instructions: Int64 = 1_000_000_000

    @Option(help: "Default concurrency of cx.each.")
    var concurrency: Int = 4

    func validate() throws {
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds") }
        guard memory >= 4 else { throw ValidationError("--memory must be at least 4 (MiB)") }
        guard instructions > 0 else { throw ValidationError("--instructions must be positive") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: script) else {
            throw ValidationError("cannot read script '\(script)'")
        }
        let limits = LuaLimits(memoryBytes: memory << 20, instructions: instructions, timeout: timeout)
        let scriptDir = (script as NSString).deletingLastPathComponent
        let progress: (@Sendable (Int, Int) -> Void)? = Console.stderrIsTTY ? Console.eachProgress : nil
        let sandbox = SandboxOptions(
            args: scriptArgs,
            runInfo: ["dry_run": false],
            modules: ModuleResolver(
                stdlib: StdlibLocator.locate(), scriptDirectory: scriptDir.isEmpty ? "." : scriptDir,
                scriptDirectoryDisplay: scriptDir.isEmpty ? "." : scriptDir),
            output: { Console.out($0) },
            log: { level, message in Console.err("[\(level)] \(message)\n") },
            progress: progress,
            concurrency: concurrency
        )
        let request = RunRequest(
            source: String(decoding: data, as: UTF8.self),
            chunkName: "@\(script)",
            limits: limits,
            sandbox: sandbox,
            varargs: scriptArgs.map(LuaValue.string),
            watchdog: .terminate(grace: 0.5, onExpire: { kind in
                Console.err("cxrun: \(LimitReport.describe(kind, limits: limits)); the script was stuck in one long library call and the process was stopped\n")
                Foundation.exit(3)
            }),
            onStart: { control in Interrupts.install(control) }
        )
        let outcome = ScriptRunner.run(request)
        Interrupts.uninstall()
        report(outcome, limits: limits)
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }

    private func report(_ outcome: RunOutcome, limits: LuaLimits) {
        guard outcome.status != .succeeded else { return }
        var text = "cxrun: \(outcome.message ?? "the run failed")\n"
        if case .limit(let kind) = outcome.status {
            text += "cxrun: \(LimitReport.describe(kind, limits: limits))\n"
        }
        if let traceback = outcome.traceback, !traceback.isEmpty { text += traceback + "\n" }
        Console.err(text)
    }
}
