import Testing
import TestSupport

@testable import Runbook

/// "Did you mean …?" is one rule in two languages: the host's (script globals, binding options,
/// config keys) and the standard library's `cx.names` (runbook arguments, cx.check options, the
/// schema's fields, t.run's result). The same names must get the same suggestion from both.
@Suite("nearest name: Swift and cx.names agree")
struct NearestNameTests {
    static let candidates = ["channel", "strategy", "limit", "maxWaitTime", "id", "auto_available", "concurrency", "rules", "check",
                             "base_url", "client_secret_env", "_private", "ab_", "ac"]
    static let names = ["chanel", "CHANNEL", "lmit", "maxWaitTme", "maxwait", "ix", "xy", "autoAvailable", "concurency", "rule",
                        "chek", "base-url", "client_secret", "_privat", "ab", "strategy", "", "ztrategyy"]

    @Test func theHostAndTheStandardLibrarySuggestAlike() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let list = { (items: [String]) in "{" + items.map { "\"\($0)\"" }.joined(separator: ", ") + "}" }
            let (result, out) = try await bench.run("""
                local names = require("cx.names")
                for _, name in ipairs(\(list(Self.names))) do
                  print(name .. "=" .. tostring(names.nearest(name, \(list(Self.candidates)))))
                end
                """)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let lua = out.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            let swift = Self.names.map { "\($0)=\(NearestName.nearest(to: $0, in: Self.candidates) ?? "nil")" }
            #expect(lua == swift)
            #expect(swift.contains("autoAvailable=auto_available") && swift.contains("maxwait=nil") && swift.contains("ab=ab_") && swift.contains("_privat=nil"), "\(swift)")
        }
    }
}
