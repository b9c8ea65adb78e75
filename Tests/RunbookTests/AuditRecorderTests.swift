import Foundation
import TestSupport
import JSONCore
import Testing

@testable import Runbook

@Suite("Audit: redaction and when rows are written")
struct AuditRecorderTests {
    let redactor = Redactor(secrets: ["s3cr3t-value", "s3cr3t", "hook-secret-42"])

    @Test func knownSecretsAreMaskedWhereverTheyAppear() {
        #expect(redactor.redact("client s3cr3t-value used") == "client [redacted] used")
        // Longest first: the longer secret is masked whole, not around the shorter one.
        #expect(redactor.redact("a s3cr3t-value b s3cr3t c") == "a [redacted] b [redacted] c")
        #expect(redactor.redact("hook-secret-42hook-secret-42") == "[redacted][redacted]")
        #expect(redactor.redact("ünïcødé s3cr3t ✓") == "ünïcødé [redacted] ✓")
        #expect(redactor.redact("nothing to hide") == "nothing to hide")
        // Shorter than four characters: not a secret worth masking everywhere.
        #expect(Redactor(secrets: ["abc"]).redact("abcabc") == "abcabc")
    }

    @Test func everyBearerTokenIsMasked() {
        #expect(redactor.redact("Authorization: Bearer eyJhbGciOi.J9x-_~+/=") == "Authorization: Bearer [redacted]")
        #expect(redactor.redact("Bearer abcdefgh and Bearer 12345678z.") == "Bearer [redacted] and Bearer [redacted]")
        // Too short to be a token: left alone.
        #expect(redactor.redact("Bearer short") == "Bearer short")
        #expect(redactor.redact("Bearer ") == "Bearer ")
    }

    @Test func sensitiveScriptArgumentsKeepTheirKeyNotTheirValue() {
        #expect(redactor.redact(arguments: ["password=hunter2", "api_token=tok123", "channel=voice", "note=s3cr3t", "plain"])
                == ["password=[redacted]", "api_token=[redacted]", "channel=voice", "note=[redacted]", "plain"])
    }

    @Test func sensitiveKeysAreMaskedInDocuments() {
        #expect(Redactor.isSensitiveKey("client_SECRET"))
        #expect(Redactor.isSensitiveKey("X-Api-Key"))
        #expect(Redactor.isSensitiveKey("accessToken"))
        #expect(!Redactor.isSensitiveKey("maxWaitTime"))
        #expect(Redactor.isSensitiveKey("TOKEN") && Redactor.isSensitiveKey("Bearer"))
        #expect(!Redactor.isSensitiveKey("") && !Redactor.isSensitiveKey("id") && !Redactor.isSensitiveKey("tokn"))
        #expect(redactor.redact("") == "")
        let doc: JSONValue = ["name": "q", "password": "hunter22", "nested": ["note": "uses s3cr3t", "token": .null], "list": ["Bearer abcdefghij"]]
        #expect(redactor.redact(doc) == ["name": "q", "password": "[redacted]", "nested": ["note": "uses [redacted]", "token": .null],
                                         "list": ["Bearer [redacted]"]])
    }

    /// The key matcher looks only at the words starting with each letter: it must say what a
    /// plain search for every word in the lowercased key says, wherever and however cased.
    @Test func theKeyMatcherAgreesWithAPlainSearchForEveryWord() {
        let words = ["secret", "token", "password", "passwd", "authorization", "apikey", "api_key", "api-key", "credential", "bearer"]
        func reference(_ key: String) -> Bool { words.contains { key.lowercased().contains($0) } }
        var keys = ["", "a", "s", "secre", "ecret", "toke", "oken", "apikez", "api key", "api_Ke", "maxWaitTime", "skills", "overflow.targetQueueId",
                    "passwor", "pass_wd", "credentia", "bearr", "authorizatio", "tokentoken", "ssecret", "ppasswd", "aapi-key"]
        for word in words {
            keys += [word, word.uppercased(), "x" + word, word + "Ref", "my" + word.prefix(1).uppercased() + word.dropFirst() + "Hint",
                     String(word.dropLast()), String(word.dropFirst())]
        }
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("secrtokanpwdhizy_-ASECRTOKBP0")
        for _ in 0..<2_000 {
            keys.append(String((0..<Int.random(in: 0...14, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }))
        }
        for key in keys { #expect(Redactor.isSensitiveKey(key) == reference(key), "\(key)") }
    }

    /// Documents with nothing to mask (most of them) come back as they were; a masked one
    /// changes where it must and nowhere else.
    @Test func aDocumentWithNothingToMaskIsReturnedAsItWas() {
        let clean: JSONValue = ["name": "q", "skills": [["id": "s1", "level": 3]], "overflow": ["enabled": false, "note": "fine"], "n": .null]
        #expect(redactor.redacted(clean) == nil)
        #expect(redactor.redact(clean) == clean)
        #expect(redactor.redacted(["apiToken": .string(Redactor.mask)]) == nil, "already masked: nothing to change")
        let dirty: JSONValue = ["name": "q", "skills": [["id": "s1", "note": "has s3cr3t"]], "integration": ["apiToken": "abc", "url": "u"]]
        #expect(redactor.redacted(dirty) == ["name": "q", "skills": [["id": "s1", "note": "has [redacted]"]],
                                             "integration": ["apiToken": "[redacted]", "url": "u"]])
    }

    /// A store in `dir` with run r1 running, and that run's recorder.
    private func recorder(in dir: String) throws -> (AuditStore, AuditRecorder) {
        let store = try AuditStore(path: dir + "/audit.sqlite")
        try store.insert(run: RunRecord(id: "r1", script: "t.lua", scriptSHA256: "", tenant: "t", operatorName: "op", args: [], dryRun: false,
                                        startedAt: 0, finishedAt: nil, status: .running, error: nil, summary: nil))
        return (store, AuditRecorder(store: store, runID: "r1", redactor: redactor))
    }

    @Test func readsAreBufferedAndAReadInFlightAtTheEndIsWrittenPending() throws {
        let dir = try temporaryFolder("recorder")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (store, recorder) = try recorder(in: dir)

        var read = recorder.start("fetch", target: "q1", args: ["queue_id": "q1"])
        recorder.began(read)
        let unfinished = recorder.start("fetch", target: "q2", args: ["queue_id": "q2"])
        recorder.began(unfinished)
        #expect(try store.calls(run: "r1").isEmpty, "a read writes nothing when it starts")

        read.status = .ok
        read.result = ["note": "s3cr3t"]
        recorder.completed(read)
        #expect(try store.calls(run: "r1").isEmpty, "a finished read is buffered")

        // A write (seq 3) commits the buffered rows with its pending row, before its request.
        let write = recorder.start("deploy", target: "q1", args: [:])
        try recorder.commitPending(write)
        #expect(try store.calls(run: "r1").map(\.status) == [.ok, .pending])
        #expect(try store.calls(run: "r1").first?.result == ["note": "[redacted]"])

        // The run ends with q2 (seq 2) still being read: its row is written pending, and a late outcome updates it.
        recorder.flushAll()
        #expect(try store.calls(run: "r1").map(\.status) == [.ok, .pending, .pending])
        // With the run's rows written, no later commit would carry it: a late outcome is written at once.
        var late = unfinished
        late.status = .ok
        recorder.completed(late)
        let rows = try store.calls(run: "r1")
        #expect(rows.map(\.seq) == [1, 2, 3])
        #expect(rows.map(\.status) == [.ok, .ok, .pending])
    }

    /// A write's outcome (and the snapshot of what it wrote) is committed with the next write's
    /// pending row — one transaction per write, not two — and the row says `pending` until then,
    /// so a process that dies in between leaves an outcome unknown, never one claimed.
    @Test func aWritesOutcomeIsCommittedWithTheNextWritesPendingRow() throws {
        let dir = try temporaryFolder("recorder")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (store, recorder) = try recorder(in: dir)
        var first = recorder.start("deploy", target: "q1", args: [:])
        recorder.began(first)
        try recorder.commitPending(first, snapshots: [SnapshotRecord(runID: "r1", seq: first.seq, queueID: "q1", kind: .pre, version: 1, document: ["v": 1])])
        first.status = .ok
        first.result = ["version": 2]
        recorder.completed(first, snapshots: [SnapshotRecord(runID: "r1", seq: first.seq, queueID: "q1", kind: .post, version: 2, document: ["v": 2])])
        #expect(try store.calls(run: "r1").map(\.status) == [.pending], "not yet committed")
        #expect(try store.snapshots(run: "r1").map(\.kind) == [.pre])
        #expect(recorder.unsettledWrites == 0, "settled in memory: the summary counts it done")

        let second = recorder.start("deploy", target: "q2", args: [:])
        recorder.began(second)
        try recorder.commitPending(second)
        #expect(try store.calls(run: "r1").map(\.status) == [.ok, .pending])
        #expect(try store.calls(run: "r1").first?.result == ["version": 2])
        #expect(try store.snapshots(run: "r1").map(\.kind) == [.post, .pre], "both images of the first write")
    }
}
