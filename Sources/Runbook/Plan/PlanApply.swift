import CXShared
import CXone
import Foundation
import JSONCore

/// `cxrun apply PLAN`: applies a saved plan exactly, running no script. The whole plan is
/// checked first (digest, tenant, age, not applied before, every target against its planned
/// base); only then is anything written, as one audited run linked to the plan.
public enum PlanApply {
    public struct Options: Sendable {
        /// A plan older than this (seconds) is refused.
        public var maxAge: Double = 3600
        /// Apply what is still current and skip stale targets, instead of refusing the plan.
        public var skipStale = false
        public var now = Date()
        /// How long a write waits for another run's lock on its target, seconds.
        public var lockTimeout = RunbookRequest.defaultLockTimeout
        /// The Lua standard library (cx.validate's rules, which the planned queues are checked against).
        public var stdlib: String?
        /// Apply even when cxrun's rules find problems the planned changes bring (they are not checked).
        public var ignoreRules = false
        public init() {}
    }

    /// What became of one action.
    public struct Line: Sendable {
        public enum State: String, Sendable {
            case applied, merged, unchanged, skipped, failed
        }

        public var action: PlannedChange
        public var state: State
        public var message: String
    }

    public struct Report: Sendable {
        /// The audited run of this apply.
        public var runID: String
        public var lines: [Line]
        /// Targets someone changed in the planned fields since the plan, with those fields.
        public var stale: [(target: String, title: String, fields: [String])]
        /// True when the plan was refused as a whole (nothing written): stale targets, or `broken`.
        public var refused: Bool
        /// Planned queues cxrun's rules find problems in that the queue did not have before, and
        /// agents who may not have their status changed now (role, shift window), with the tenant
        /// as it is now: the plan was refused (the tenant, or cxrun, would refuse them halfway).
        public var broken: [(target: String, title: String, problems: [String])] = []
        /// Why the planned queues could not be checked against the rules (the plan was refused).
        public var unchecked: String?
        /// True when the apply was stopped (its task cancelled: a stop signal) before its end.
        public var interrupted = false

        public var failed: Bool { refused || lines.contains { $0.state == .failed } }
    }

    /// Checks that need no reads of the tenant: its identity, the plan's age and earlier applies
    /// (the digest was checked when the file was read).
    static func check(_ plan: Plan, tenant: ResolvedTenant, store: AuditStore, auditPath: String, options: Options) throws(PlanError) {
        guard plan.tenant == tenant.name, plan.tenantIdentity == tenant.identity else {
            throw PlanError("the plan is for tenant \(plan.tenant) (\(plan.tenantIdentity)), not \(tenant.name) (\(tenant.identity))")
        }
        // Made with the team's log, applied elsewhere, the apply would be missing from the team's
        // history, and the once-only check (kept there) could not see it.
        if let team = plan.teamStore {
            guard case .postgres(let here)? = try? AuditLocation.parse(auditPath), here.identity == team else {
                throw PlanError("the plan was made with the team's audit log \(team); this apply would be recorded in \(auditPath): "
                                + "set CXRUN_AUDIT_URL (or --audit-db) to the team's log, so the apply is in the history the plan came from")
            }
        }
        let age = options.now.timeIntervalSince1970 - plan.createdAt
        guard age <= options.maxAge else {
            throw PlanError("the plan is \(Int(age / 60)) minutes old (--max-age is \(Int(options.maxAge / 60)) minutes): plan again")
        }
        guard age > -300 else { throw PlanError("the plan was created in the future (\(Int(-age)) s from now): check this machine's clock") }
        if let run = try? store.appliedRun(plan: plan.id) {
            throw PlanError("plan \(plan.id) has been applied: run \(run) (cxrun audit show \(run))")
        }
    }

    /// Checks every target against its base, then writes (or refuses, writing nothing).
    public static func apply(_ sealedPlan: Plan, file: String, tenant: ResolvedTenant, auditPath: String, options: Options) async throws(PlanError) -> Report {
        guard let endpoint = tenant.endpoint else { throw PlanError("the tenant has no endpoint") }
        let store: AuditStore
        do { store = try AuditStore(path: auditPath) } catch { throw PlanError("cannot open the audit log \(auditPath): \(error)") }
        try check(sealedPlan, tenant: tenant, store: store, auditPath: auditPath, options: options)
        let plan = try sealedPlan.opened(with: store.seal)
        for action in plan.actions where action.kind == .webhook {
            guard let target = tenant.webhooks[action.target] else {
                throw PlanError("the plan delivers webhook '\(action.target)', which is not configured for tenant \(tenant.name)")
            }
            if let why = target.unavailable { throw PlanError("the plan delivers webhook '\(action.target)', which cannot be signed here: \(why)") }
            // Where the payload goes is part of what was reviewed: configured elsewhere here (a
            // staging WFM on this machine, a URL changed since), it is not sent there.
            if let planned = action.against, planned["sha256"]?.stringValue != PlannedChange.urlSHA256(target.url) {
                let here = PlannedChange.shownURL(target.url)
                throw PlanError("the plan delivers webhook '\(action.target)' to \(TerminalText.escaped(planned["shown"]?.stringValue ?? "?")), "
                                + "and here it goes to \(TerminalText.escaped(here))\(planned["shown"]?.stringValue == here ? " (another path)" : ""): "
                                + "apply it where it was planned, or plan again here")
            }
        }
        let run: HostRun
        do {
            run = try HostRun.begin(script: "cxrun apply \(plan.id)", args: ["plan": .string(plan.id), "skip_stale": .bool(options.skipStale),
                                                                         "ignore_rules": .bool(options.ignoreRules)],
                                    tenant: tenant, endpoint: endpoint, store: store, dryRun: false, planID: plan.id,
                                    lockTimeout: options.lockTimeout)
        } catch { throw PlanError(error.description) }

        // 1. Every target as it is now, against what was planned.
        var checked: [(action: PlannedChange, current: Current, index: Int)] = []
        var stale: [(target: String, title: String, fields: [String])] = []
        var lines: [Line] = []
        for (index, action) in plan.actions.enumerated() {
            do {
                let current = try await read(action, run: run)
                if !current.stale.isEmpty { stale.append((action.target, action.title, current.stale)) }
                checked.append((action, current, index))
            } catch {
                lines.append(Line(action: action, state: .failed, message: "could not be read: \(error.description)"))
            }
        }
        if Task.isCancelled {
            await run.finish(error: "interrupted while reading the targets; nothing was written")
            return Report(runID: run.runID, lines: lines, stale: stale, refused: false, interrupted: true)
        }
        if !lines.isEmpty || (!stale.isEmpty && !options.skipStale) {
            let why = !lines.isEmpty ? "targets could not be read; nothing was written" : "the plan is stale; nothing was written"
            await run.finish(error: why)
            return Report(runID: run.runID, lines: lines, stale: stale, refused: lines.isEmpty)
        }
        // 2. What the plan leaves, against cxrun's rules with the tenant as it is now: a change the
        //    tenant would refuse stops the apply before anything is written, not halfway through.
        // Stale targets the apply skips are not written, so not checked.
        let writes = checked.compactMap { action, current, _ -> PlanCheck.QueueWrite? in
            guard action.kind == .queue, current.stale.isEmpty, let rebased = current.rebased,
                  !current.document.changes(to: rebased.document, ignoring: ThreeWayMerge.serverFields).isEmpty else { return nil }
            return PlanCheck.QueueWrite(action: action, current: current.document, planned: rebased.document)
        }
        let statuses = checked.compactMap { action, current, _ -> PlanCheck.StatusWrite? in
            guard action.kind == .agent, current.stale.isEmpty, !Self.alreadySet(action, current) else { return nil }
            return PlanCheck.StatusWrite(action: action, user: current.document)
        }
        switch options.ignoreRules ? .success([]) : await PlanCheck.broken(writes, statuses: statuses, run: run, stdlib: options.stdlib) {
        case .success(let broken) where !broken.isEmpty:
            await run.finish(error: "the plan breaks cxrun's rules in \(broken.count) planned change\(broken.count == 1 ? "" : "s"); nothing was written")
            var report = Report(runID: run.runID, lines: lines, stale: stale, refused: true)
            report.broken = broken
            return report
        case .success:
            break
        case .failure(let why):
            await run.finish(error: "the planned queues could not be checked against cxrun's rules: \(why); nothing was written")
            var report = Report(runID: run.runID, lines: lines, stale: stale, refused: true)
            report.unchecked = why.description
            return report
        }
        // 3. Claimed once: a second apply of this plan (here or concurrently) is refused.
        do {
            let claim = try run.store.claim(plan: plan.id, file: file, run: run.runID, at: Date().timeIntervalSince1970)
            if !claim.claimed {
                await run.finish(error: "the plan was applied by run \(claim.appliedBy ?? "?")")
                throw PlanError("plan \(plan.id) has been applied: run \(claim.appliedBy ?? "?")")
            }
        } catch let error as PlanError {
            throw error
        } catch {
            await run.finish(error: "cannot record the plan: \(error)")
            throw PlanError("cannot record the plan in the audit log: \(error)")
        }
        // 4. The writes, in the plan's order; a stop signal lets none start after it.
        var skippedStale = 0
        var firstFailed: PlannedChange?
        for (action, current, index) in checked {
            if Task.isCancelled {
                lines.append(Line(action: action, state: .skipped, message: "not attempted: the apply was interrupted"))
                continue
            }
            // What the plan holds after a change that failed was planned with it made, as the
            // script would have stopped at its error: none of it is attempted.
            if let failed = firstFailed {
                let name = failed.title.isEmpty ? failed.target : "\(failed.title) (\(failed.target))"
                lines.append(Line(action: action, state: .skipped, message: "not attempted: an earlier change failed (\(name))"))
                continue
            }
            if !current.stale.isEmpty {
                lines.append(Line(action: action, state: .skipped, message: "skipped (stale): changed since the plan in \(current.stale.joined(separator: ", "))"))
                skippedStale += 1
                continue
            }
            // Its payload was planned with every change before it made (a count, a summary):
            // delivered after a stale one skipped, it would report work that did not happen.
            if action.kind == .webhook && skippedStale > 0 {
                lines.append(Line(action: action, state: .skipped, message: "not sent: planned after \(skippedStale) change\(skippedStale == 1 ? "" : "s") "
                                  + "that did not happen, which its payload may report; deliver it yourself if it still holds"))
                continue
            }
            do {
                let line = try await write(action, at: index, over: current, plan: plan, run: run)
                if line.state == .failed { firstFailed = action }
                lines.append(line)
            } catch {
                firstFailed = action
                lines.append(Line(action: action, state: .failed, message: error.description))
            }
        }
        if Task.isCancelled {
            let done = lines.filter { $0.state == .applied || $0.state == .merged || $0.state == .unchanged }.count
            await run.finish(error: "interrupted after \(done) of \(lines.count) planned changes")
            return Report(runID: run.runID, lines: lines, stale: stale, refused: false, interrupted: true)
        }
        let failed = lines.filter { $0.state == .failed }.count
        let unattempted = firstFailed == nil ? 0 : lines.filter { $0.state == .skipped && $0.message.hasPrefix("not attempted") }.count
        await run.finish(error: failed == 0 ? nil : "\(failed) of \(lines.count) planned changes failed"
                            + (unattempted > 0 ? "; the \(unattempted) after it were not attempted" : ""))
        return Report(runID: run.runID, lines: lines, stale: stale, refused: false)
    }

    /// Whether an agent already has the status the plan sets (someone set it since): nothing to do.
    private static func alreadySet(_ action: PlannedChange, _ current: Current) -> Bool {
        current.document["status"] == action.changes.first?.new && current.document["status"] != action.against
    }

    /// A target as read at apply time; for a queue, the planned changes laid over it.
    struct Current: Sendable {
        var document: JSONValue = .null
        var stale: [String] = []
        var rebased: PlanRebase?
    }

    private static func read(_ action: PlannedChange, run: HostRun) async throws(BindingError) -> Current {
        let client = run.context.client
        switch action.kind {
        case .queue:
            let id = action.target
            let outcome = try await run.call("fetch", target: id, args: ["queue_id": .string(id)], effect: .read) { _ async throws(BindingError) in
                let sent = try await api { () async throws(APIError) in try await client.queue(id) }
                return .init(values: [sent.value], result: ["version": sent.value["version"] ?? .null], httpStatus: sent.status, attempts: sent.attempts)
            }
            let document = outcome.values.first ?? .null
            let unchanged = document["version"]?.intValue == action.baseVersion && PlannedChange.sha256(document) == action.baseSHA256
            let rebased = PlanRebase(action.changes, onto: document)
            return Current(document: document, stale: unchanged ? [] : rebased.stale, rebased: rebased)
        case .agent:
            return try await readAgent(action, field: "status", run: run)
        case .profile:
            return try await readAgent(action, field: "routingProfileId", run: run)
        case .webhook:
            return Current()
        }
    }

    /// An agent as read at apply time: stale when the planned `field` (status, routing profile) is
    /// neither what the plan was made against nor what it sets.
    private static func readAgent(_ action: PlannedChange, field: String, run: HostRun) async throws(BindingError) -> Current {
        let (id, client) = (action.target, run.context.client)
        let outcome = try await run.call("agent", target: id, args: ["user_id": .string(id)], effect: .read) { _ async throws(BindingError) in
            let sent = try await api { () async throws(APIError) in try await client.user(id) }
            return .init(values: [sent.value], result: [field: sent.value[field] ?? .null], httpStatus: sent.status, attempts: sent.attempts)
        }
        let user = outcome.values.first ?? .null
        let now = user[field] ?? .null
        return Current(document: user, stale: now == action.against || now == action.changes.first?.new ? [] : [field])
    }

    private static func write(_ action: PlannedChange, at index: Int, over current: Current, plan: Plan, run: HostRun) async throws(BindingError) -> Line {
        let context = run.context
        switch action.kind {
        case .queue:
            let id = action.target
            let rebased = current.rebased ?? PlanRebase(action.changes, onto: current.document)
            if current.document.changes(to: rebased.document, ignoring: ThreeWayMerge.serverFields).isEmpty {
                return Line(action: action, state: .unchanged, message: "already as planned (\(rebased.alreadyDone.joined(separator: ", ")))")
            }
            let version = current.document["version"]?.intValue
            let paths = JSONValue.array(action.changes.map { .string($0.dotted) })
            let merged = version != action.baseVersion
            let args: JSONValue = ["queue_id": .string(id), "base_version": version.map(JSONValue.int) ?? .null, "changed": paths, "plan": .string(plan.id)]
            let outcome = try await run.call("deploy", target: id, args: args, effect: .write(snapshots: { seq in
                [SnapshotRecord(runID: context.runID, seq: seq, queueID: id, kind: .pre, version: version, document: current.document),
                 SnapshotRecord(runID: context.runID, seq: seq, queueID: id, kind: .post, version: nil, document: rebased.document)]
            })) { seq async throws(BindingError) in
                try await context.requireScope(anyOf: RunContext.WriteScope.queue, for: "deploy")
                let writer = QueueWriter(context: context, queueID: id, seq: seq, operation: "the apply")
                let w = try await writer.write(rebased.document, over: current.document, ifMatch: version) { theirs throws(BindingError) in
                    let again = PlanRebase(action.changes, onto: theirs)
                    guard again.stale.isEmpty else {
                        throw BindingError(.conflict, status: 409, message: "queue \(id) was changed during the apply in the planned fields: \(again.stale.joined(separator: ", ")); nothing was overwritten")
                    }
                    return again.document
                }
                return QueueBindings.success(id, written: w.document, pre: w.pre, ifMatch: w.ifMatch ?? version ?? 0, seq: seq, context: context,
                                             changed: paths, merged: merged || w.replanned, attempts: w.attempts, status: w.httpStatus ?? 200,
                                             failure: w.notAppliedError(queue: id, operation: writer.operation))
            }
            let now = outcome.result?["version"]?.jsonString() ?? "?"
            return merged || outcome.result?["merged"]?.boolValue == true
                ? Line(action: action, state: .merged, message: "applied over someone else's changes to other fields (v\(action.baseVersion ?? 0) -> v\(now))")
                : Line(action: action, state: .applied, message: "applied (v\(action.baseVersion ?? 0) -> v\(now))")
        case .agent:
            let id = action.target
            let body = action.body ?? .null
            if Self.alreadySet(action, current) {
                return Line(action: action, state: .unchanged, message: "already \(current.document["status"]?.jsonString() ?? "")")
            }
            _ = try await run.call("agent_status", target: id, args: ["user_id": .string(id), "request": body, "plan": .string(plan.id)], effect: .write()) {
                _ async throws(BindingError) in
                try await context.requireScope(anyOf: RunContext.WriteScope.status, for: "agent_status")
                let sent = try await api { () async throws(APIError) in try await context.client.setStatus(id, body) }
                let result: JSONValue = ["status": sent.value["status"] ?? .null, "previous_status": current.document["status"] ?? .null]
                return .init(values: [result], result: result, httpStatus: sent.status, attempts: sent.attempts)
            }
            return Line(action: action, state: .applied, message: "status set")
        case .profile:
            let id = action.target
            guard let profile = action.changes.first?.new?.stringValue else {
                throw BindingError(.invalid, message: "the plan's routing-profile change for \(id) names no profile")
            }
            let outcome = try await run.call("reassign", target: id, args: ["user_id": .string(id), "routing_profile_id": .string(profile),
                                                                              "plan": .string(plan.id)], effect: .write()) { seq async throws(BindingError) in
                // Still the profile it was planned against, or a change since the read is a conflict, not overwritten.
                try await ReassignBinding.set(id, to: profile, seq: seq, context: context, unless: action.against?.stringValue)
            }
            return outcome.result?["changed"]?.boolValue == true
                ? Line(action: action, state: .applied, message: "routing profile set to \(profile)")
                : Line(action: action, state: .unchanged, message: "already \(profile)")
        case .webhook:
            guard let target = context.tenant.webhooks[action.target] else {
                throw BindingError(.invalid, message: "webhook '\(action.target)' is not configured")
            }
            let payload = action.body ?? .null
            let id = Plan.deliveryID(plan: plan.id, action: index)
            let outcome = try await run.call("webhook", target: action.target, args: ["name": .string(action.target), "payload": payload, "plan": .string(plan.id)],
                                             effect: .write()) { _ async throws(BindingError) in
                let delivered = await context.deliver(target, deliveryID: id, payload: payload)
                guard delivered.delivered else {
                    throw BindingError(.unavailable, status: delivered.httpStatus, message: "webhook '\(action.target)' was not delivered: \(delivered.json.jsonString())")
                }
                return .init(values: [], result: delivered.json, httpStatus: delivered.httpStatus, attempts: delivered.attempts)
            }
            return Line(action: action, state: .applied, message: "delivered (\(outcome.attempts) attempt\(outcome.attempts == 1 ? "" : "s"))")
        }
    }
}
