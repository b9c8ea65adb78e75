import CXone
import Foundation
import JSONCore
import LuaHost
import Synchronization

/// Everything one run's bindings share: the client, the audit trail, what was fetched, the
/// deploys made, the plans of a dry run, and the webhook deliveries in flight.
final class RunContext: Sendable {
    let runID: String
    let tenant: ResolvedTenant
    let dryRun: Bool
    let client: CXoneClient
    let recorder: AuditRecorder
    let webhooks: WebhookDispatcher

    /// Every document version `fetch` returned: queue id → version → document.
    private let fetched = Mutex<[String: [Int64: JSONValue]]>([:])
    /// Known skills (from `skills()`), for the validators.
    private let knownSkills = Mutex<[JSONValue]>([])
    /// This run's latest deploy per queue: what `rollback` restores.
    private let deploys = Mutex<[String: DeployRecord]>([:])
    private let plans = Mutex<[PlannedChange]>([])

    struct DeployRecord: Sendable {
        var seq: Int
        var pre: JSONValue
        var post: JSONValue
        var producedVersion: Int64?
    }

    init(runID: String, tenant: ResolvedTenant, dryRun: Bool, client: CXoneClient, recorder: AuditRecorder) {
        self.runID = runID
        self.tenant = tenant
        self.dryRun = dryRun
        self.client = client
        self.recorder = recorder
        self.webhooks = WebhookDispatcher()
    }

    // MARK: memory

    func remember(_ queue: JSONValue) {
        guard let id = queue["id"]?.stringValue, let version = queue["version"]?.intValue else { return }
        fetched.withLock { $0[id, default: [:]][version] = queue }
    }

    func fetchedDocument(_ id: String, version: Int64) -> JSONValue? { fetched.withLock { $0[id]?[version] } }

    /// The latest fetched document of a queue.
    func latestFetched(_ id: String) -> JSONValue? {
        fetched.withLock { $0[id]?.max { $0.key < $1.key }?.value }
    }

    func remember(skills: [JSONValue]) { knownSkills.withLock { $0 = skills } }
    var skills: [JSONValue] { knownSkills.withLock { $0 } }

    func record(deploy: DeployRecord, queue: String) { deploys.withLock { $0[queue] = deploy } }
    func deploy(of queue: String) -> DeployRecord? { deploys.withLock { $0[queue] } }

    func plan(_ change: PlannedChange) { plans.withLock { $0.append(change) } }
    var plannedChanges: [PlannedChange] { plans.withLock { $0 } }

    // MARK: audited calls

    /// What a finished call hands back: the script's values and the audit row's fields.
    struct Outcome: Sendable {
        var values: [JSONValue]
        var result: JSONValue?
        var status = "ok"
        var httpStatus: Int?
        var attempts = 1
        var snapshots: [SnapshotRecord] = []
    }

    /// What an audited call does to the tenant, which decides when its row is written.
    enum Effect {
        /// Reads nothing back into the tenant: the row is written once the call is over.
        case read
        /// Changes the tenant: the row (with `snapshots` of the call's seq) is committed
        /// `pending` before the coroutine yields, so before any request is sent.
        case write(snapshots: (Int) -> [SnapshotRecord] = { _ in [] })
    }

    /// Runs `work` as one audited call; the outcome completes its row.
    func audited(
        _ binding: String, target: String?, args: JSONValue, effect: Effect,
        _ work: @escaping @Sendable (Int) async throws(CXoneError) -> Outcome
    ) throws(ScriptError) -> LuaReply {
        let pending = recorder.start(binding, target: target, args: args)
        let seq = pending.seq
        switch effect {
        case .read:
            recorder.began(pending)
        case .write(let snapshots):
            do {
                try recorder.commitPending(pending, snapshots: snapshots(seq))
            } catch {
                throw Self.scriptError(CXoneError(.sandbox, message: "the audit log could not be written, so \(binding) was not attempted: \(error)"))
            }
        }
        let recorder = self.recorder
        let started = Date()
        return .suspend(.async {
            var record = pending
            do throws(CXoneError) {
                let outcome = try await work(seq)
                record.finish(with: outcome, startedAt: started)
                recorder.completed(record, snapshots: outcome.snapshots)
                return .success(outcome.values)
            } catch {
                record.finish(with: error, startedAt: started)
                recorder.completed(record)
                return .failure(Self.scriptError(error))
            }
        })
    }

    /// A pure (no I/O) call: runs now, its row is buffered.
    func pure(
        _ binding: String, target: String?, args: JSONValue, _ work: () throws(CXoneError) -> (values: [JSONValue], result: JSONValue?, status: String)
    ) throws(ScriptError) -> [JSONValue] {
        var record = recorder.start(binding, target: target, args: args)
        let started = Date()
        defer {
            record.latencyMs = Date().timeIntervalSince(started) * 1000
            recorder.finished(record)
        }
        do {
            let (values, result, status) = try work()
            record.status = status
            record.result = result
            return values
        } catch {
            record.status = "error"
            record.errorCode = error.code.rawValue
            record.result = ["message": .string(error.message)]
            throw Self.scriptError(error)
        }
    }

    /// A call refused before any I/O: its one row says why; the error goes to the script.
    func refuse(_ binding: String, target: String?, args: JSONValue, _ error: CXoneError) -> ScriptError {
        var record = recorder.start(binding, target: target, args: args)
        record.status = "error"
        record.errorCode = error.code.rawValue
        record.result = ["message": .string(error.message)]
        record.latencyMs = 0
        recorder.finished(record)
        return Self.scriptError(error)
    }

    static func scriptError(_ error: CXoneError) -> ScriptError {
        ScriptError(value: error.json, form: .structured)
    }
}

extension CallRecord {
    /// Fills in a finished call's outcome.
    mutating func finish(with outcome: RunContext.Outcome, startedAt started: Date) {
        status = outcome.status
        result = outcome.result
        httpStatus = outcome.httpStatus
        attempts = outcome.attempts
        latencyMs = Date().timeIntervalSince(started) * 1000
    }

    /// Fills in a failed call's error.
    mutating func finish(with error: CXoneError, startedAt started: Date) {
        status = "error"
        errorCode = error.code.rawValue
        httpStatus = error.status
        attempts = Int(error.details?["attempts"]?.intValue ?? 1)
        result = ["message": .string(error.message)]
        latencyMs = Date().timeIntervalSince(started) * 1000
    }
}
