import CXone
import Foundation
import JSONCore
import Testing
import TestSupport

@testable import Runbook

/// Secret-named fields of queue documents: out of the audit log in clear, yet restored exactly.
@Suite("Sealed secrets in snapshots")
struct SealedSecretTests {
    static func queue(_ bench: Bench, _ id: String) async throws -> JSONValue {
        try await CXoneClient(endpoint: bench.tenant().endpoint!).queue(id).value
    }

    /// Every byte the audit log's files hold.
    static func auditBytes(_ bench: Bench) throws -> String {
        try FileManager.default.contentsOfDirectory(atPath: bench.directory).filter { $0.hasPrefix("audit.sqlite") }
            .map { String(decoding: FileManager.default.contents(atPath: bench.directory + "/" + $0) ?? Data(), as: UTF8.self) }.joined()
    }

    static func deploy(_ bench: Bench, _ fields: String) async throws -> (runID: String, id: String) {
        let (result, output) = try await bench.run("""
            local q = fetch(queues()[1].id)
            deploy(q.id, build(q, \(fields)))
            print(q.id)
            """)
        #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
        return (result.summary.runID, output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func rollback(_ bench: Bench, _ runID: String, force: Bool = false) async throws -> [RollbackSession.Line] {
        try await RollbackSession.run(of: runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath, force: force, dryRun: false).lines
    }

    @Test func aChangedTokenIsRolledBackExactlyAndNeverStoredInClear() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (_, id) = try await Self.deploy(bench, #"{integration = {apiToken = "tok-OLD-111111", passwordHint = "pw-hint-OLD"}}"#)
            let (runID, _) = try await Self.deploy(bench, #"{integration = {apiToken = "tok-NEW-222222", passwordHint = "pw-hint-NEW"}, maxWaitTime = 260}"#)
            let audit = try Self.auditBytes(bench)
            #expect(!audit.contains("tok-OLD") && !audit.contains("tok-NEW") && !audit.contains("pw-hint"), "no secret in the audit log's files")
            #expect(audit.contains(SecretSeal.prefix))
            let key = try #require(FileManager.default.attributesOfItem(atPath: bench.directory + "/audit.key")[.posixPermissions] as? Int)
            #expect(key == 0o600, "the key file is the owner's alone")

            let lines = try await Self.rollback(bench, runID)
            #expect(lines.map(\.ok) == [true], "\(lines.map(\.message))")
            let q = try await Self.queue(bench, id)
            #expect(q.value(at: ["integration", "apiToken"]) == "tok-OLD-111111" && q.value(at: ["integration", "passwordHint"]) == "pw-hint-OLD")
            #expect(!q.jsonString().contains(Redactor.mask) && !q.jsonString().contains("sealed"), "\(q.jsonString())")
        }
    }

    @Test func withoutTheKeyASecretIsLeftAsItIsAndTheRollbackSaysSo() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (_, id) = try await Self.deploy(bench, #"{integration = {apiToken = "tok-OLD-111111"}}"#)
            let before = try await Self.queue(bench, id)
            let (runID, _) = try await Self.deploy(bench, #"{integration = {apiToken = "tok-NEW-222222"}, maxWaitTime = 271}"#)
            try FileManager.default.removeItem(atPath: bench.directory + "/audit.key")
            for force in [false, true] {
                let lines = try await Self.rollback(bench, runID, force: force)
                #expect(lines.map(\.ok) == [false], "a restore that left a field is not reported as done: \(lines.map(\.message))")
                #expect(lines.first?.message.contains("left as is: integration.apiToken") == true, "\(lines.map(\.message))")
                let q = try await Self.queue(bench, id)
                #expect(q.value(at: ["integration", "apiToken"]) == "tok-NEW-222222", "never a placeholder: \(q.jsonString())")
                #expect(q["maxWaitTime"] == before["maxWaitTime"], "the rest is restored")
            }
        }
    }

    /// Left partly undone for want of the key, the rollback is finished by running it again with
    /// the key: the fields the first one restored agree with it, they are no conflict. Another
    /// key is named as such, not as a missing one.
    @Test func aRollbackLeftPartForWantOfTheKeyIsFinishedWithIt() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (_, id) = try await Self.deploy(bench, #"{integration = {apiToken = "tok-OLD-111111"}}"#)
            let before = try await Self.queue(bench, id)
            let (runID, _) = try await Self.deploy(bench, #"{integration = {apiToken = "tok-NEW-222222"}, maxWaitTime = 271}"#)
            let keyFile = bench.directory + "/audit.key"
            try FileManager.default.moveItem(atPath: keyFile, toPath: keyFile + ".away")
            var lines = try await Self.rollback(bench, runID)
            #expect(lines.map(\.ok) == [false] && lines.first?.message.contains("is not here to open them") == true, "\(lines.map(\.message))")
            try Data((0..<32).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: keyFile))
            lines = try await Self.rollback(bench, runID)
            #expect(lines.map(\.ok) == [false] && lines.first?.message.contains("does not open them: they were sealed with another key") == true,
                    "\(lines.map(\.message))")
            try FileManager.default.removeItem(atPath: keyFile)
            try FileManager.default.moveItem(atPath: keyFile + ".away", toPath: keyFile)
            lines = try await Self.rollback(bench, runID)
            #expect(lines.map(\.ok) == [true], "\(lines.map(\.message))")
            let q = try await Self.queue(bench, id)
            #expect(q.value(at: ["integration", "apiToken"]) == "tok-OLD-111111" && q["maxWaitTime"] == before["maxWaitTime"], "\(q.jsonString())")
        }
    }

    @Test func sealedValuesOpenOnlyWithTheirKey() throws {
        let dir = try temporaryFolder("seal")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let seal = SecretSeal(auditPath: dir + "/audit.sqlite", environment: [:])
        let doc: JSONValue = ["name": "q", "integration": ["apiToken": "tok-1", "url": "https://x"], "clientSecret": ["a": 1]]
        let sealed = seal.seal(doc, redactor: Redactor(secrets: []))
        #expect(!sealed.jsonString().contains("tok-1") && sealed.value(at: ["integration", "url"]) == "https://x")
        #expect(seal.open(sealed).document == doc && seal.open(sealed).unknown.isEmpty)
        let other = SecretSeal(auditPath: dir + "/audit.sqlite", environment: ["CXRUN_AUDIT_KEY": "another key"])
        #expect(Set(other.open(sealed).unknown) == [["integration", "apiToken"], ["clientSecret"]])
        let legacy: JSONValue = ["integration": ["apiToken": .string(Redactor.mask)]]
        #expect(seal.open(legacy).unknown == [["integration", "apiToken"]], "a value masked before sealing existed is unknown too")
        // A planned change: a sealed value opens; one masked (no key at planning) never passes as opened.
        let change = seal.seal(JSONChange(path: ["integration", "apiToken"], old: "tok-0", new: "tok-1"), redactor: Redactor(secrets: []))
        #expect(seal.open(change).change == JSONChange(path: ["integration", "apiToken"], old: "tok-0", new: "tok-1") && !seal.open(change).unopened)
        let masked = JSONChange(path: ["integration", "apiToken"], old: nil, new: .string(Redactor.mask))
        #expect(seal.open(masked).unopened, "apply must refuse to write a placeholder")
    }
}
