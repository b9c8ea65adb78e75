import CXone
import Foundation
import JSONCore

/// `cxrun rollback --run ID [TARGET...]`: restores every queue a run deployed, newest first, and
/// every agent routing profile it reassigned, as a run of its own in the audit log.
public enum RollbackSession {
    /// One queue's outcome.
    public struct Line: Sendable {
        /// The target's id (a queue's, or `user ID`).
        public var queue: String
        public var ok: Bool
        public var message: String
        /// How an operator reads the target: `queue NAME (ID)`, as `cxrun apply` names it.
        public var title: String

        init(queue: String, ok: Bool, message: String, title: String? = nil) {
            (self.queue, self.ok, self.message, self.title) = (queue, ok, message, title ?? queue)
        }
    }

    /// What a rollback of `run` leaves as it is, to say so: agent status changes (the agents'
    /// live state has moved on since; restoring an old status would be wrong) and webhook
    /// deliveries (sent). Nil when the run made none.
    public static func notUndone(run: String, auditPath: String) -> String? {
        guard let calls = try? AuditStore(path: auditPath, readOnly: true).calls(run: run) else { return nil }
        func count(_ binding: String) -> Int { calls.filter { $0.binding == binding && ($0.status == .ok || $0.status == .pending) }.count }
        let kinds = [(count("agent_status"), "agent status change", "agent status changes", "an agent's status is live state, since moved on"),
                     (count("webhook"), "webhook delivery", "webhook deliveries", "what was delivered cannot be called back")].filter { $0.0 > 0 }
        guard !kinds.isEmpty else { return nil }
        return "not undone by a rollback: the run's " + kinds.map { "\($0.0) \($0.0 == 1 ? $0.1 : $0.2)" }.joined(separator: " and ")
            + " (" + kinds.map(\.3).joined(separator: "; ") + ")"
    }

    public static func run(
        of sourceRun: String, queues requested: [String], tenant: ResolvedTenant, auditPath: String, force: Bool, dryRun: Bool,
        lockTimeout: Double = RunbookRequest.defaultLockTimeout
    ) async throws(RunbookError) -> (runID: String, lines: [Line]) {
        let store: AuditStore
        do { store = try AuditStore(path: auditPath) } catch { throw RunbookError(description: "cannot open the audit log \(auditPath): \(error)") }
        guard let record = (try? store.run(sourceRun)) ?? nil else { throw RunbookError(description: "no run \(sourceRun) in \(auditPath)") }
        let refusal: BindingError?
        do { refusal = try Rollback.refusal(of: record, tenant: tenant.name, store: store) } catch { throw RunbookError(description: "\(error)") }
        if let refusal { throw RunbookError(description: refusal.message) }
        let deployed: [String]
        let records: [String: RunContext.DeployRecord]
        let reassigned: [ReassignBinding.Reassignment]
        do {
            // The run's rows, read once for all three.
            let (calls, snapshots) = (try store.calls(run: sourceRun), try store.snapshots(run: sourceRun))
            deployed = Rollback.deployedQueues(calls: calls)
            records = Rollback.deployRecords(calls: calls, snapshots: snapshots, seal: store.seal)
            reassigned = ReassignBinding.reassigned(calls: calls, snapshots: snapshots)
        } catch { throw RunbookError(description: "\(error)") }
        if let unknown = requested.first(where: { id in !deployed.contains(id) && !reassigned.contains { $0.user == id } }) {
            let did = [deployed.isEmpty ? nil : "it deployed: " + deployed.joined(separator: ", "),
                       reassigned.isEmpty ? nil : "it reassigned: " + reassigned.map(\.user).joined(separator: ", ")].compactMap { $0 }
            throw RunbookError(description: "run \(sourceRun) did not deploy queue \(unknown) nor reassign user \(unknown) ("
                               + (did.isEmpty ? "it deployed no queue and reassigned no user" : did.joined(separator: "; ")) + ")")
        }
        let queues = requested.isEmpty ? deployed : deployed.filter(requested.contains)
        let users = requested.isEmpty ? reassigned : reassigned.filter { requested.contains($0.user) }
        guard let endpoint = tenant.endpoint else { throw RunbookError(description: "the tenant has no endpoint") }
        let run = try HostRun.begin(
            script: "cxrun rollback --run \(sourceRun)", args: ["run": .string(sourceRun), "queues": .array(queues.map(JSONValue.string)), "force": .bool(force)],
            tenant: tenant, endpoint: endpoint, store: store, dryRun: dryRun, planID: nil,
            lockTimeout: lockTimeout)
        let context = run.context
        var lines: [Line] = []
        /// A stop signal cancels the rollback: no target is begun after it.
        func stopped(_ target: String) -> Bool {
            guard Task.isCancelled else { return false }
            lines.append(Line(queue: target, ok: false, message: "not attempted: the rollback was interrupted"))
            return true
        }
        for queue in queues {
            // Named as the deploy found it (its pre-image): the id alone says nothing at a glance.
            let title = records[queue].flatMap { $0.pre["name"]?.stringValue }.map { "queue \($0) (\(queue))" } ?? "queue \(queue)"
            if stopped(queue) { continue }
            guard let source = records[queue] else {
                lines.append(Line(queue: queue, ok: false, message: "no snapshot recorded", title: title))
                continue
            }
            do {
                let outcome = try await run.call("rollback", target: queue, args: ["queue_id": .string(queue), "run": .string(sourceRun), "force": .bool(force)],
                                                 effect: .write()) { seq async throws(BindingError) in
                    try await Rollback.restore(queue, source: source, force: force, seq: seq, context: context)
                }
                let restored = outcome.result?["restored"]?.boolValue ?? false
                let planned = outcome.status == .planned
                var message = planned ? "would restore: " + (outcome.result?["changed"]?.jsonString() ?? "")
                    : restored ? "restored (now version \(outcome.result?["version"]?.jsonString() ?? "?"))" : "already as before the deploy"
                if outcome.result?["fenced"]?.boolValue == true {
                    message += "; the deploy's write was in flight when its run ended: the queue was rewritten at version "
                        + "\(outcome.result?["version"]?.jsonString() ?? "?") so that write is refused (409) if it still arrives"
                }
                let untouched = outcome.result?["untouched"]?.arrayValue?.compactMap(\.stringValue) ?? []
                if !untouched.isEmpty {
                    message += "; left as is: \(untouched.joined(separator: ", ")) (secret values recorded sealed; \(source.unopenedReason))"
                }
                lines.append(Line(queue: queue, ok: untouched.isEmpty || planned, message: message, title: title))
            } catch {
                lines.append(Line(queue: queue, ok: false, message: error.description, title: title))
            }
        }
        for change in users {
            if stopped("user \(change.user)") { continue }
            do {
                let outcome = try await run.call("reassign", target: change.user, args: [
                    "user_id": .string(change.user), "routing_profile_id": .string(change.previous), "run": .string(sourceRun), "force": .bool(force),
                ], effect: .write()) { seq async throws(BindingError) in
                    try await ReassignBinding.set(change.user, to: change.previous, seq: seq, context: context, unless: force ? nil : change.set,
                                                  note: "rollback of run \(sourceRun)")
                }
                var message = outcome.status == .planned ? "would restore routing profile \(change.previous)"
                    : outcome.result?["changed"]?.boolValue == true ? "routing profile restored to \(change.previous)"
                    : "routing profile already \(change.previous)"
                if change.inFlight && outcome.status != .planned {
                    // Users carry no version to make a late write fail, as a queue's rollback does.
                    message += "; the reassignment's write was in flight when its run ended and cannot be refused if it still arrives: "
                        + "check that user \(change.user) keeps \(change.previous)"
                }
                lines.append(Line(queue: "user \(change.user)", ok: true, message: message))
            } catch {
                lines.append(Line(queue: "user \(change.user)", ok: false, message: error.description))
            }
        }
        let failed = lines.filter { !$0.ok }.count
        let unrestored = "\(failed) of \(lines.count) targets were not restored"
        await run.finish(error: Task.isCancelled ? "interrupted: " + unrestored : failed == 0 ? nil : unrestored)
        return (run.runID, lines)
    }
}
