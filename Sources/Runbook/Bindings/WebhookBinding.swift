import CXone
import Foundation
import JSONCore
import LuaHost
import Synchronization

/// Webhook deliveries in flight; the run waits (bounded) for them before it ends.
final class WebhookDispatcher: Sendable {
    private let started = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)

    func start(_ work: @escaping @Sendable () async -> WebhookOutcome) -> Task<WebhookOutcome, Never> {
        started.add(1, ordering: .relaxed)
        return Task {
            let outcome = await work()
            self.finished.add(1, ordering: .relaxed)
            return outcome
        }
    }

    /// Waits up to `timeout` seconds for outstanding deliveries; returns how many did not finish.
    func settle(timeout: Double, stop: @Sendable () -> Bool = { false }) async -> Int {
        _ = await Runbook.settle(timeout: timeout, stop: stop) { finished.load(ordering: .relaxed) >= started.load(ordering: .relaxed) }
        return started.load(ordering: .relaxed) - finished.load(ordering: .relaxed)
    }
}

/// `webhook(name, payload, {wait=})`: a signed delivery to a configured endpoint, never an
/// arbitrary URL. Returns `{id=, status="queued"}` at once, or the outcome with `wait=true`.
struct WebhookBinding {
    let context: RunContext

    var all: [(String, LuaFunction)] { [("webhook", webhook)] }

    private func webhook(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        guard let name = call.string(1), !name.isEmpty else { throw call.argumentError(1, "webhook", expected: "webhook name") }
        let payload = try call.value(2, name: "payload")
        let opts = try call.value(3, name: "opts")
        let args: JSONValue = ["name": .string(name), "payload": payload]
        guard !name.contains("://") && !name.contains("/") else {
            throw context.refuse("webhook", target: name, args: args, BindingError(
                .sandbox, message: "webhook: scripts reach only configured webhook names, never URLs; add it to cxrun.toml [webhooks]"))
        }
        guard let target = context.tenant.webhooks[name] else {
            let known = context.tenant.webhooks.keys.sorted()
            throw context.refuse("webhook", target: name, args: args, BindingError(
                .sandbox, message: "webhook: '\(name)' is not configured (configured: \(known.isEmpty ? "none" : known.joined(separator: ", ")))"))
        }
        let id = UUID().uuidString.lowercased()
        if context.dryRun {
            context.plan(PlannedChange(kind: "webhook", target: name, title: "", changes: [], note: "would deliver \(payload.jsonString())"))
            let values = try context.pure("webhook", target: name, args: args) { () throws(BindingError) in
                ([["planned": true, "id": .string(id)]], ["planned": true], .planned)
            }
            return try call.returning(values)
        }
        var record = context.recorder.start("webhook", target: name, args: args)
        record.result = ["id": .string(id)]
        context.recorder.began(record)
        do { try context.commitPending(record) } catch {
            record.finish(with: error, startedAt: Date())
            context.recorder.completed(record)
            throw RunContext.scriptError(error)
        }
        let recorder = context.recorder
        let pending = record
        let stats = context.client.transport.stats
        let started = Date()
        let task = context.webhooks.start {
            let outcome = await WebhookSender().deliver(url: target.url, secret: target.secret, deliveryID: id, body: payload, stats: stats)
            var done = pending
            done.status = outcome.delivered ? .ok : .error
            done.errorCode = outcome.delivered ? nil : (outcome.httpStatus.map { BindingError(APIError.from(status: $0, body: nil)).code.rawValue } ?? "network")
            done.httpStatus = outcome.httpStatus
            done.attempts = outcome.attempts
            done.latencyMs = Date().timeIntervalSince(started) * 1000
            var result = outcome.json.objectValue ?? [:]
            result["id"] = .string(id)
            done.result = .object(result)
            recorder.completed(done)
            return outcome
        }
        guard opts["wait"]?.boolValue == true else { return try call.returning(["id": .string(id), "status": "queued"]) }
        return .suspend(.async {
            let outcome = await task.value
            var result = outcome.json.objectValue ?? [:]
            result["id"] = .string(id)
            return .success([.object(result)])
        })
    }
}
