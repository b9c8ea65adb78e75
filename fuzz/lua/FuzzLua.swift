// Lua-level fuzz target: the input is decoded into a runbook snippet that calls the bindings and
// the standard library (every function reachable from the globals and `cx`) with hostile values —
// NaN and infinities, extreme integers, strings that are not UTF-8, huge strings, cyclic tables,
// metatables whose methods raise, functions, coroutines, cx.null, documents fetched earlier and
// then altered — protected and unprotected, sequentially and under `cx.each`, dry-run or live,
// through the trampoline into a real run (RunbookSession) against an in-process sandbox tenant
// over loopback HTTP. Properties: the host never crashes; a run that fails says why, naming the
// snippet's line; the audit log takes every row.
import CXone
import Foundation
import FuzzSupport
import JSONCore
import Runbook
import SandboxTenant

/// This process's scratch folder (the tenant's state and the audit log), removed when it exits.
let scratchFolder = FileManager.default.temporaryDirectory.appendingPathComponent("cxrun-fuzz-lua-\(getpid())").path

/// The sandbox tenant and scratch folder, started once per process.
final class Fixture: Sendable {
    let tenant: ResolvedTenant
    let folder: String
    let server: SandboxServer

    init() {
        let folder = scratchFolder
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: scratchFolder) }
        var configuration = SandboxConfiguration(databasePath: folder + "/sandbox.sqlite")
        configuration.queueCount = 12
        configuration.webhookSecrets = ["wfm": "fuzz-webhook-secret"]
        configuration.clock = SimClock.parse("2026-01-05T03:00:00Z")!
        let settings = configuration
        let started = blocking { try await SandboxServer.start(settings) }
        guard case .success(let server) = started else { fatalError("the fuzz target's sandbox tenant: \(started)") }
        var tenant = ResolvedTenant(name: "sandbox", endpoint: nil)
        tenant.attachSandbox(baseURL: server.baseURL, clientID: SimClient.demo.id, clientSecret: SimClient.demo.secret, webhookSecret: "fuzz-webhook-secret")
        self.tenant = tenant
        self.folder = folder
        self.server = server
    }
}

let fixture = Fixture()
/// CXRUN_FUZZ_SHOW=1: print each snippet and how its run ended (to see what a corpus does).
let show = ProcessInfo.processInfo.environment["CXRUN_FUZZ_SHOW"] == "1"

/// The checkout's stdlib (the target runs from the repository).
let stdlib = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("stdlib").path

/// Waits on this (non-pool) thread for async work: libFuzzer calls the target synchronously.
func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    Task {
        do { box.set(.success(try await work())) } catch { box.set(.failure(error)) }
        done.signal()
    }
    done.wait()
    return box.get()
}

/// Hands a result from the task to the waiting thread.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    // Safe: written once by the task before the semaphore is signalled, read after the wait.
    private var value: Result<T, any Error>?
    func set(_ v: Result<T, any Error>) { value = v }
    func get() -> Result<T, any Error> { value! }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLua(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    var input = Snippet.Input(bytes: Array(UnsafeRawBufferPointer(start: start, count: count)))
    let dryRun = input.byte() & 1 == 1
    let source = Snippet.make(&input)
    var request = RunbookRequest(
        scriptPath: "fuzz.lua", source: source, args: [], tenant: fixture.tenant, dryRun: dryRun,
        limits: RunLimits(memoryBytes: 64 << 20, instructions: 20_000_000, timeout: 20), concurrency: 4,
        auditPath: fixture.folder + "/audit.sqlite", stdlib: stdlib, output: { _ in }, log: { _, _ in })
    request.lockTimeout = 0.5
    let quick = request
    let outcome = blocking { try await RunbookSession.run(quick) }
    let result: RunbookResult
    switch outcome {
    case .success(let r): result = r
    case .failure(let error): fatalError("a run could not start: \(error)\n--- snippet ---\n\(source)")
    }
    if show {
        print("--- snippet (dry run: \(dryRun)) ---\n\(source)--- \(result.outcome.status): \(result.outcome.message ?? "") — \(result.summary.requests) requests")
    }
    guard result.auditProblems.isEmpty else {
        fatalError("audit rows were lost: \(result.auditProblems)\n--- snippet ---\n\(source)")
    }
    switch result.outcome.status {
    case .succeeded, .limit:
        break
    case .failed:
        let said = (result.outcome.message ?? "") + "\n" + (result.outcome.traceback ?? "")
        guard let message = result.outcome.message, !message.isEmpty else { fatalError("a run failed without a message\n--- snippet ---\n\(source)") }
        guard said.contains("fuzz.lua:") else {
            fatalError("a failure that names no line of the script: \(message)\n--- snippet ---\n\(source)")
        }
    }
    return 0
}

#if !FUZZING
@main enum ReplayLua {
    static func main() { FuzzReplay.main(name: "fuzz-lua", fuzzLua) }
}
#endif
