import Foundation
import JSONCore
import TestSupport

/// The repository root (this file is Tests/CLITests/CLIHarness.swift).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The cxrun binary built by `swift build` (or `$CXRUN_BIN`).
let cxrunBinary: String = {
    if let bin = ProcessInfo.processInfo.environment["CXRUN_BIN"] { return bin }
    return repoRoot.appendingPathComponent(".build/debug/cxrun").path
}()

/// The clock every CLI test pins the in-process sandbox tenant at (override with `environment`).
let sandboxClock = "2026-01-05T03:00:00Z"

/// Seconds after which any invocation is killed (SIGKILL): its test then fails on the status.
let cliHardLimit: Double = 300

/// What one cxrun invocation did.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var seconds: Double
}

/// Runs cxrun with `arguments` in `directory`; `signal` is sent once stdout shows `marker` and
/// `condition` holds (never after a fixed delay: that would depend on the machine's speed).
/// Waits without blocking a thread (output goes to files, exit arrives through a handler).
func runCLI(_ arguments: [String], in directory: URL = repoRoot,
            interruptWhenPrinted marker: String? = nil, interruptWhen condition: (@Sendable () -> Bool)? = nil,
            signal: Int32 = SIGINT, environment: [String: String] = [:],
            input: String? = nil, inputBytes: [UInt8]? = nil, executable: String? = nil, stdoutPath: String? = nil) async throws -> CLIResult {
    let scratch = URL(fileURLWithPath: try temporaryFolder("cli"))
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
    try Data().write(to: outURL)
    try Data().write(to: errURL)
    var stdin = ChildProcess.Stream.null
    if let input = inputBytes ?? input.map({ Array($0.utf8) }) {
        let inURL = scratch.appendingPathComponent("in")
        try Data(input).write(to: inURL)
        stdin = .file(inURL.path)
    }
    // The in-process sandbox tenant's traffic follows its clock: pin a quiet hour unless the test picks one.
    let pinned = ["CXRUN_SANDBOX_CLOCK": sandboxClock]
    let started = Date()
    // `stdoutPath`: somewhere else for standard output (e.g. /dev/full); `stdout` is then empty.
    let child = try ChildProcess(executable ?? cxrunBinary, arguments, directory: directory.path,
                                 environment: ProcessInfo.processInfo.environment.merging(pinned) { _, new in new }.merging(environment) { _, new in new },
                                 stdin: stdin, stdout: .file(stdoutPath ?? outURL.path), stderr: .file(errURL.path))
    if marker != nil || condition != nil {
        // The signal once stdout shows the marker (and `condition` holds): the script is
        // running, whatever the machine's speed.
        let path = outURL.path
        DispatchQueue.global().async {
            for _ in 0..<1200 where child.isRunning {
                let printed = marker.map { String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self).contains($0) } ?? true
                if printed && (condition?() ?? true) { child.signal(signal); return }
                usleep(50_000)
            }
        }
    }
    // A hung cxrun fails its test instead of holding the whole suite (and CI) until its limit.
    DispatchQueue.global().asyncAfter(deadline: .now() + cliHardLimit) { child.signal(SIGKILL) }
    let status = await child.exitCode()
    let read = { (url: URL) in String(decoding: (try? Data(contentsOf: url)) ?? Data(), as: UTF8.self) }
    return CLIResult(status: status, stdout: read(outURL), stderr: read(errURL), seconds: Date().timeIntervalSince(started))
}

/// Writes a script into a fresh folder and returns the folder.
func scriptFolder(_ files: [String: String]) throws -> URL {
    let dir = URL(fileURLWithPath: try temporaryFolder("scripts"))
    for (name, text) in files {
        let url = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
    return dir
}

/// A standalone `cxrun sim` on a free port (client `ops` with the test's secret); its process and URL.
func startSim(in dir: URL, extra: [String] = []) async throws -> (process: ChildProcess, baseURL: String) {
    // Its output is read until it listens: blocking work, kept off the cooperative pool.
    try await offPool { try startSimBlocking(in: dir, extra: extra) }
}

private func startSimBlocking(in dir: URL, extra: [String]) throws -> (process: ChildProcess, baseURL: String) {
    let process = try ChildProcess(cxrunBinary, ["sim", "--port", "0", "--clock", sandboxClock, "--db", dir.appendingPathComponent("sim.sqlite").path,
                                                 "--client", "ops:S3cret-From-Env-4321"] + extra, stdout: .pipe)
    var text = ""
    while !text.contains("listening on"), let handle = process.stdout {
        let data = handle.availableData
        if data.isEmpty { break }
        text += String(decoding: data, as: UTF8.self)
    }
    guard let range = text.range(of: "http://127.0.0.1:[0-9]+", options: .regularExpression) else {
        process.terminate()
        throw CocoaError(.fileReadUnknown)
    }
    return (process, String(text[range]))
}

/// GET with curl (no auth: control plane); the body.
func curlGet(_ url: String) async throws -> String {
    try await offPool { try curlGetBlocking(url) }
}

func curlGetBlocking(_ url: String) throws -> String {
    try ChildProcess.output("/usr/bin/curl", ["-s", url]).text
}

/// PUT a JSON body with curl (no auth: control plane).
func curlPut(_ url: String, _ body: String) async throws -> Bool {
    try await offPool { try curlPutBlocking(url, body) }
}

func curlPutBlocking(_ url: String, _ body: String) throws -> Bool {
    try ChildProcess.output("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PUT", "-d", body, url]).text == "200"
}

/// Whether the tenant at `baseURL` holds `count` API writes (`holdWrites`), read with curl
/// (blocking: for `runCLI`'s `interruptWhen`).
func tenantHoldsWrites(_ baseURL: String, _ count: Int) -> Bool {
    guard let text = try? curlGetBlocking(baseURL + "/_sim/faults"), let faults = try? JSONValue.parse(text) else { return false }
    return faults["writesHeld"] == .int(Int64(count))
}
