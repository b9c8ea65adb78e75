// libFuzzer target for the configuration reader (cxrun.toml through cxrun's TOML parser and
// Configuration): the input is the file's bytes. For the default tenant, every tenant the file
// names and the audit location, the reader gives a result or a ConfigError naming the file
// (never a crash); a tenant it resolves has an http(s) base URL and a rate limit in range; and no
// error message ever shows a secret's value (the fuzzer may point `*_env` keys at a variable that
// holds one).
import Foundation
import FuzzSupport
import JSONCore

@testable import Runbook

let secretValue = "fuzz-s3cr3t-value"
let environment = ["HOME": "/nonexistent", "CXRUN_FUZZ_SECRET": secretValue, "SECRET": secretValue]
let file = FileManager.default.temporaryDirectory.appendingPathComponent("cxrun-fuzz-config-\(getpid()).toml").path

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    guard FileManager.default.createFile(atPath: file, contents: data) else { fatalError("cannot write \(file)") }
    defer { try? FileManager.default.removeItem(atPath: file) }
    // An error may quote the file (a key it does not know): the secret's text written in the file is no leak.
    let holdsSecret = String(decoding: data, as: UTF8.self).contains(secretValue)
    var names: [String?] = [nil, "sandbox"]
    if let root = try? TOMLFile.parse(data), let tenants = root["tenants"]?.objectValue { names += tenants.keys.sorted().prefix(8).map(Optional.some) }
    for name in names {
        do {
            let tenant = try Configuration.resolve(configPath: file, tenant: name, environment: environment, workingDirectory: "/nonexistent")
            if let endpoint = tenant.endpoint {
                guard endpoint.baseURL.hasPrefix("http://") || endpoint.baseURL.hasPrefix("https://") else {
                    fatalError("tenant \(tenant.name) resolved with base URL \(endpoint.baseURL)")
                }
                guard endpoint.rateLimit >= 0 && endpoint.rateLimit <= 100_000 else { fatalError("rate limit \(endpoint.rateLimit) resolved") }
            }
        } catch {
            check(error, fileHoldsSecret: holdsSecret)
        }
    }
    do {
        _ = try Configuration.auditLocation(flag: nil, configPath: file, environment: environment, workingDirectory: "/nonexistent")
    } catch {
        check(error, fileHoldsSecret: holdsSecret)
    }
    return 0
}

/// A configuration error names this file (with a line, or a key) and shows no secret the file does not hold.
func check(_ error: ConfigError, fileHoldsSecret: Bool) {
    let text = error.description
    guard text.hasPrefix(file) else { fatalError("a configuration error that does not name its file: \(text)") }
    guard !error.message.isEmpty else { fatalError("an empty configuration error: \(text)") }
    guard fileHoldsSecret || !text.contains(secretValue) else { fatalError("a configuration error shows a secret: \(text)") }
}

#if !FUZZING
@main enum ReplayConfig {
    static func main() { FuzzReplay.main(name: "fuzz-config", fuzzConfig) }
}
#endif
