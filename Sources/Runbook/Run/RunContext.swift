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
    /// The run's locks on the targets it writes.
    let leases: LeaseKeeper

    /// Every document version `fetch` returned: queue id → version → document.
    private let fetched = Mutex<[String: [Int64: JSONValue]]>([:])
    /// Known skills (from `skills()`), for the validators.
    private let knownSkills = Mutex<[JSONValue]>([])
    private let skillsLoads = Atomic<Int>(0)
    /// This run's latest deploy per queue: what `rollback` restores.
    private let deploys = Mutex<[String: DeployRecord]>([:])
    /// This run's routing-profile changes per user: the profile before the first, the one set last.
    private let reassigns = Mutex<[String: (previous: JSONValue, set: String)]>([:])
    /// The tenant's routing profiles (`{id, name}`), read on a run's first `reassign`; `.some(nil)`:
    /// the tenant does not list them.
    let routingProfiles = Mutex<[JSONValue]??>(nil)
    /// Dry run: each agent's status as the run planned it.
    private let plannedStatuses = Mutex<[String: JSONValue]>([:])
    private let plans = Mutex<[PlannedChange]>([])
    private let listedAll = Atomic<Bool>(false)
    /// What the read filters accept (`channel`, `status`), from cx.rules as the run's Lua loaded it.
    private let filterValueLists = Mutex<[String: [String]]>([:])
    private let lost = Mutex<[String]>([])
    private let otherRuns = Mutex<[String: [String: DeployRecord]]>([:])
    private let plannedDocuments = Mutex<[String: (over: Int64, document: JSONValue)]>([:])
    /// How many writes (made or planned) `deploy` and `patch` began per queue: `cx.change` asks, to
    /// tell when its changes function wrote the queue itself.
    private let queueWrites = Mutex<[String: Int]>([:])
    private let overflow = Mutex(OverflowGraph())

    struct DeployRecord: Sendable {
        var seq: Int
        var pre: JSONValue
        var post: JSONValue
        var producedVersion: Int64?
        /// Secret fields whose recorded values could not be opened (no key, another key): left as they are.
        var unknown: [[String]] = []
        /// Why they could not, for messages.
        var unopenedReason = ""
        /// The deploy's row is still `pending`: its write may yet land (its run ended mid-request).
        var inFlight = false

        /// This record with `later`, another write of the same queue in the run, folded in: the
        /// earliest pre-image and the latest post, by version — concurrent writes of one queue
        /// complete in any order, and a replanned write re-snapshots its pre-image — so a rollback
        /// undoes what the run did to the queue, not only one of its steps.
        func spanning(_ later: DeployRecord) -> DeployRecord {
            var record = self
            if (later.pre["version"]?.intValue ?? .max) < (pre["version"]?.intValue ?? .max) { record.pre = later.pre }
            if (later.producedVersion ?? .min) >= (producedVersion ?? .min) {
                (record.seq, record.post, record.producedVersion) = (later.seq, later.post, later.producedVersion)
            }
            record.inFlight = inFlight || later.inFlight
            return record
        }
    }

    init(runID: String, tenant: ResolvedTenant, dryRun: Bool, client: CXoneClient, recorder: AuditRecorder, lockTimeout: Double,
         operatorName: String) {
        self.runID = runID
        self.leases = LeaseKeeper(store: recorder.store, tenant: tenant.identity, runID: runID, operatorName: operatorName, timeout: lockTimeout)
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
        overflow.withLock { $0.remember(queue) }
    }

    /// The longest overflow chain already leading into queue `id`, over every queue seen.
    func overflowUpstream(of id: String) -> (depth: Int, head: String?) { overflow.withLock { $0.upstream(of: id) } }

    func fetchedDocument(_ id: String, version: Int64) -> JSONValue? { fetched.withLock { $0[id]?[version] } }

    /// Whether the run has listed all of the tenant's queues.
    var listedAllQueues: Bool { listedAll.load(ordering: .relaxed) }
    func rememberListedAll() { listedAll.store(true, ordering: .relaxed) }
    /// The values each read filter key accepts (none known: any).
    var filterValues: [String: [String]] {
        get { filterValueLists.withLock { $0 } }
        set { filterValueLists.withLock { $0 = newValue } }
    }

    /// The latest fetched document of a queue.
    func latestFetched(_ id: String) -> JSONValue? {
        fetched.withLock { $0[id].flatMap(Self.latest) }
    }

    /// Every queue the run has seen, its latest fetched document each.
    var knownQueues: [String: JSONValue] {
        fetched.withLock { $0.compactMapValues(Self.latest) }
    }

    /// The highest version's document of a queue's fetched versions.
    private static func latest(_ versions: [Int64: JSONValue]) -> JSONValue? { versions.max { $0.key < $1.key }?.value }

    func remember(skills: [JSONValue]) {
        knownSkills.withLock { $0 = skills }
        skillsLoads.add(1, ordering: .relaxed)
    }
    var skills: [JSONValue] { knownSkills.withLock { $0 } }
    /// The skills the run loaded, by id, as the validators take them (null: not loaded).
    var skillsByID: JSONValue {
        var byID: [String: JSONValue] = [:]
        for s in skills { if let id = s["id"]?.stringValue { byID[id] = s } }
        return byID.isEmpty ? .null : .object(byID)
    }
    /// How many times the skills were loaded: what the Lua side keys its copy of them by.
    var skillsGeneration: Int { skillsLoads.load(ordering: .relaxed) }

    /// Records a deploy of `queue`, folded into the run's earlier ones (`DeployRecord.spanning`).
    func record(deploy: DeployRecord, queue: String) {
        deploys.withLock { all in all[queue] = all[queue].map { $0.spanning(deploy) } ?? deploy }
    }
    func deploy(of queue: String) -> DeployRecord? { deploys.withLock { $0[queue] } }

    /// Counts a write of `queue` that `deploy` or `patch` is about to make or plan.
    func beganWrite(of queue: String) { queueWrites.withLock { $0[queue, default: 0] += 1 } }
    /// How many writes of `queue` `deploy` and `patch` began in this run.
    func writesBegun(of queue: String) -> Int { queueWrites.withLock { $0[queue] ?? 0 } }

    /// What another run did to `queue`, from the audit log: a finished run's rows are read once
    /// (a script rolling its queues back one by one would read them all again for each).
    func deploy(of queue: String, inRun run: RunRecord) throws -> DeployRecord? {
        if let known = otherRuns.withLock({ $0[run.id] }) { return known[queue] }
        let records = try Rollback.deployRecords(run: run.id, store: recorder.store)
        if run.status != .running { otherRuns.withLock { $0[run.id] = records } }
        return records[queue]
    }

    func record(reassign user: String, previous: JSONValue, to profile: String) {
        reassigns.withLock { $0[user] = (previous: $0[user]?.previous ?? previous, set: profile) }
    }
    func reassignment(of user: String) -> (previous: JSONValue, set: String)? { reassigns.withLock { $0[user] } }

    /// Dry run: an agent's status as the run planned it, read back by its next `agent_status` as
    /// a real run's is.
    func plannedStatus(of user: String) -> JSONValue? { plannedStatuses.withLock { $0[user] } }
    func planStatus(of user: String, _ status: JSONValue) { plannedStatuses.withLock { $0[user] = status } }

    /// Scopes a write needs: one of each set (the API's `update` and `write` spellings).
    enum WriteScope {
        static let queue: Set<String> = ["routing:queue:update", "routing:queue:write"]
        static let status: Set<String> = ["user:status:write", "user:status:update"]
        static let profile: Set<String> = ["users:write", "routing:queue:write", "routing:queue:update"]
    }

    /// Fails a write before anything is sent when the token was granted none of `scopes`
    /// (when the token endpoint says what it granted), naming what is missing.
    func requireScope(anyOf scopes: Set<String>, for binding: String) async throws(BindingError) {
        let granted = try await api { () async throws(APIError) in try await client.transport.grantedScopes() }
        guard let granted, granted.isDisjoint(with: scopes) else { return }
        throw BindingError(.forbidden, message: "\(binding): the token was not granted \(scopes.sorted().joined(separator: " or ")) "
                           + "(granted: \(granted.isEmpty ? "none" : granted.sorted().joined(separator: ", "))); nothing was sent")
    }

    /// Work the script handed off and did not wait for, which did not happen (a failed delivery).
    func noteLost(_ what: String) { lost.withLock { $0.append(what) } }
    var lostWork: [String] { lost.withLock { $0 } }

    func plan(_ change: PlannedChange) { plans.withLock { $0.append(change) } }
    var plannedChanges: [PlannedChange] { plans.withLock { $0 } }

    /// Dry run: a queue's planned write — `changes` over `base` (the fetched or planned queue) —
    /// recorded for the plan and laid over what the run planned for the queue before (or `base`),
    /// at the version a real run's write would leave: a later fetch reads what the run wrote, and
    /// the plan is what a real run would do. `over`: the tenant's version the first planned write
    /// was built on.
    func planWrite(of queue: String, base: JSONValue, changes: [JSONChange], note: String? = nil) {
        plan(PlannedChange(queue: queue, base: base, changes: changes, note: note))
        guard !changes.isEmpty else { return }  // as a real run's write with nothing to change: skipped
        let baseVersion = base["version"]?.intValue ?? 0
        let planned = plannedDocuments.withLock { all in
            let previous = all[queue]
            var document = previous?.document ?? base
            for change in changes { document = document.applying(change) }
            let version = max(previous?.document["version"]?.intValue ?? baseVersion, baseVersion) + 1
            all[queue] = (over: previous?.over ?? baseVersion, document: document.setting(.int(version), at: ["version"]))
            return all[queue]?.document
        }
        // As a real run remembers what it wrote: the run's overflow graph and the documents
        // `validate` walks see the planned link (a chain built by the run's own writes is judged whole).
        if let planned { remember(planned) }
    }

    /// Dry run: the queue as the run's planned writes leave it, if it planned any.
    func plannedDocument(of queue: String) -> JSONValue? { plannedDocuments.withLock { $0[queue]?.document } }

    /// Dry run: the queue as planned and as fetched before the first planned write, for a
    /// planned rollback.
    func plannedRestore(of queue: String) -> (planned: JSONValue, before: JSONValue)? {
        guard let entry = plannedDocuments.withLock({ $0[queue] }), let before = fetchedDocument(queue, version: entry.over) else { return nil }
        return (entry.document, before)
    }

    /// Dry run: the queue as the run's planned writes leave it, when they were planned over the
    /// tenant's `version` (another admin's change since shows as it is).
    func plannedDocument(of queue: String, tenantVersion version: Int64?) -> JSONValue? {
        plannedDocuments.withLock { all in all[queue].flatMap { $0.over == version ? $0.document : nil } }
    }

    // MARK: audited calls

    /// What a finished call hands back: the script's values and the audit row's fields.
    struct Outcome: Sendable {
        var values: [JSONValue]
        var result: JSONValue?
        var status = CallStatus.ok
        var httpStatus: Int?
        var attempts = 1
        var snapshots: [SnapshotRecord] = []
        /// For an outcome that is a failure without an error thrown (a webhook never delivered).
        var errorCode: String?
        /// How long the call took, as its audit row records it (set by `perform`).
        var latencyMs: Double?
        /// The call happened as its row records (status and snapshots), yet did not do all it was
        /// asked: the script gets this error, and the row its code.
        var failure: BindingError?
    }

    /// What an audited call does to the tenant, which decides when its row is written.
    enum Effect: Sendable {
        /// Changes nothing: the row is written once the call is over.
        case read
        /// Changes the tenant: the row (with `snapshots` of the call's seq) is committed
        /// `pending` before any request is sent.
        case write(snapshots: @Sendable (Int) -> [SnapshotRecord] = { _ in [] })
    }

    /// A document argument a write would send (payload, request): one JSON cannot carry (NaN,
    /// infinity, invalid UTF-8) is refused as `invalid`, naming the path, before anything is sent.
    func document(_ call: LuaCall, _ index: Int32, binding: String, target: String, args: JSONValue, name: String) throws(ScriptError) -> JSONValue {
        do { return try call.convertedValue(index) } catch {
            throw refuse(binding, target: target, args: args, BindingError(.invalid, message: "\(binding): the \(name) cannot be JSON: \(error.description)"))
        }
    }

    /// Runs `work` as one audited call of the script; the outcome completes its row.
    func audited(
        _ binding: String, target: String?, args: JSONValue, effect: Effect,
        _ work: @escaping @Sendable (Int) async throws(BindingError) -> Outcome
    ) throws(ScriptError) -> LuaReply {
        let call = recorder.start(binding, target: target, args: args)
        recorder.began(call)
        // The audit write and the I/O both happen off the Lua thread, which goes on with other coroutines.
        return .suspend(.async {
            do throws(BindingError) {
                let outcome = try await self.perform(call, effect: effect, work)
                var values = outcome.values
                // A write's result says how long it took (as its audit row does), as the seeds report it;
                // a planned one wrote nothing, so it reports no write's latency (a plan would carry it on).
                if case .write = effect, case .object(var fields)? = values.first, fields["planned"] != .bool(true),
                    let latency = outcome.latencyMs
                {
                    fields["latency_ms"] = .double((latency * 10).rounded() / 10)
                    values[0] = .object(fields)
                }
                return .success(values)
            } catch {
                return .failure(Self.scriptError(error))
            }
        })
    }

    /// The life of one `began` call: a write's row is committed `pending` before `work` can send
    /// anything; the outcome, or the error, completes the row.
    func perform(
        _ call: CallRecord, effect: Effect, _ work: @Sendable (Int) async throws(BindingError) -> Outcome
    ) async throws(BindingError) -> Outcome {
        let started = Date()
        var record = call
        let done: Outcome
        do throws(BindingError) {
            if case .write(let snapshots) = effect {
                let images = snapshots(call.seq)
                if !dryRun, let key = LeaseKeeper.key(binding: call.binding, target: call.target, args: call.args), let lease = leases.unheld(key) {
                    // The lease with the pending row, in one transaction; held by another run, it is
                    // waited for first: a write waiting for another run's has no pending row yet.
                    if try commitPending(call, snapshots: images, taking: lease) {
                        leases.took(key)
                    } else {
                        try await leases.acquire(key, for: call.binding)
                        try commitPending(call, snapshots: images)
                    }
                } else {
                    try commitPending(call, snapshots: images)
                }
            }
            var outcome = try await work(call.seq)
            record.finish(with: outcome, startedAt: started)
            recorder.completed(record, snapshots: outcome.snapshots)
            outcome.latencyMs = record.latencyMs
            done = outcome
        } catch {
            record.finish(with: error, startedAt: started)
            // A write that may have applied keeps its row pending, as one cut off by a crash:
            // its outcome is unknown, and a rollback fences it rather than trusting an error.
            if case .write = effect, error.outcomeUnknown { record.status = .pending }
            recorder.completed(record)
            throw error
        }
        // Thrown once the row is complete, so it is not recorded a second time as an error.
        if let failure = done.failure { throw failure }
        return done
    }

    /// A write whose work runs on after the binding returned (a webhook delivery): the same
    /// lifecycle, with the pending row committed before the binding returns, so a refused audit
    /// write fails the call at once. The run waits for `webhooks` before it ends.
    func detachedWrite<T: Sendable>(
        _ binding: String, target: String?, args: JSONValue, pendingResult: JSONValue?,
        _ work: @escaping @Sendable () async -> (T, Outcome)
    ) throws(ScriptError) -> Task<T, Never> {
        var call = recorder.start(binding, target: target, args: args)
        call.result = pendingResult
        recorder.began(call)
        do { try commitPending(call) } catch {
            call.finish(with: error, startedAt: Date())
            recorder.completed(call)
            throw Self.scriptError(error)
        }
        let (recorder, started, pending) = (self.recorder, Date(), call)
        return webhooks.start {
            let (value, outcome) = await work()
            var record = pending
            record.finish(with: outcome, startedAt: started)
            recorder.completed(record, snapshots: outcome.snapshots)
            return value
        }
    }

    /// Commits a `began` write's row `pending`; when the audit log cannot be written the call is
    /// not attempted, and the error says so. With `lease`, takes it in the same transaction:
    /// false, with nothing written, when another run holds it.
    @discardableResult
    func commitPending(_ call: CallRecord, snapshots: [SnapshotRecord] = [], taking lease: LeaseRecord? = nil) throws(BindingError) -> Bool {
        do { return try recorder.commitPending(call, snapshots: snapshots, taking: lease) } catch {
            throw BindingError(.sandbox, message: "the audit log could not be written, so \(call.binding) was not attempted: \(error)")
        }
    }

    /// Commits the snapshots a write's rollback will need before the write is sent; when the
    /// audit log cannot be written the write is not sent, and the error says so.
    func commitSnapshots(_ snapshots: [SnapshotRecord], before binding: String) throws(BindingError) {
        do { try recorder.snapshots(snapshots) } catch {
            throw BindingError(.sandbox, message: "the audit log could not be written, so \(binding) was not sent: \(error)")
        }
    }

    /// A pure (no I/O) call: runs now, its row is buffered.
    func pure(
        _ binding: String, target: String?, args: JSONValue, _ work: () throws(BindingError) -> (values: [JSONValue], result: JSONValue?, status: CallStatus)
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
            record.status = .error
            record.errorCode = error.code.rawValue
            record.result = ["message": .string(error.message)]
            throw Self.scriptError(error)
        }
    }

    /// A call refused before any I/O: its one row says why; the error goes to the script.
    func refuse(_ binding: String, target: String?, args: JSONValue, _ error: BindingError) -> ScriptError {
        var record = recorder.start(binding, target: target, args: args)
        record.status = .error
        record.errorCode = error.code.rawValue
        record.result = ["message": .string(error.message)]
        record.latencyMs = 0
        recorder.finished(record)
        return Self.scriptError(error)
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        ((ContinuousClock.now - start).seconds * 10_000).rounded() / 10
    }

    static func scriptError(_ error: BindingError) -> ScriptError {
        ScriptError(value: error.json, form: .structured)
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

extension CallRecord {
    /// Fills in a finished call's outcome.
    mutating func finish(with outcome: RunContext.Outcome, startedAt started: Date) {
        status = outcome.status
        errorCode = outcome.errorCode ?? outcome.failure?.code.rawValue
        result = outcome.result
        // What the server did not apply stays with the write it belongs to (deploy, rollback, apply, status, profile).
        if let missing = outcome.failure?.details?["not_applied"] { result = (result ?? .object([:])).setting(missing, at: ["not_applied"]) }
        httpStatus = outcome.httpStatus
        attempts = outcome.attempts
        latencyMs = Date().timeIntervalSince(started) * 1000
    }

    /// Fills in a failed call's error.
    mutating func finish(with error: BindingError, startedAt started: Date) {
        status = .error
        errorCode = error.code.rawValue
        httpStatus = error.status
        attempts = error.attempts
        result = ["message": .string(error.message)]
        latencyMs = Date().timeIntervalSince(started) * 1000
    }
}
