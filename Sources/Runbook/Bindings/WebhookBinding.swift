import CXone
import Foundation
import JSONCore
import LuaHost
import Synchronization

/// Webhook deliveries in flight; the run waits (bounded) for them before it ends.
final class WebhookDispatcher: Sendable {
    private let started = Atomic<Int>(0)
    private let finished = Atomic<Int>(0)
    /// One element per finished delivery: what `settle` awaits.
    private let completions = AsyncStream<Void>.makeStream()

    func start<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> Task<T, Never> {
        started.add(1, ordering: .relaxed)
        return Task {
            let outcome = await work()
            self.finished.add(1, ordering: .relaxed)
            self.completions.continuation.yield()
            return outcome
        }
    }

    /// Awaits the outstanding deliveries, for at most `timeout` seconds or until `stop()` holds
    /// (checked every 50 ms); returns how many did not finish.
    func settle(timeout: Double, stop: @escaping @Sendable () -> Bool = { false }) async -> Int {
        let total = started.load(ordering: .relaxed)
        // Nothing outstanding (most runs): no waiting tasks to start, wake and cancel.
        if finished.load(ordering: .relaxed) >= total { return 0 }
        let stream = completions.stream
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Ends when every delivery has finished, or when cancelled (the stream then ends).
                if self.finished.load(ordering: .relaxed) >= total { return }
                for await _ in stream where self.finished.load(ordering: .relaxed) >= total { return }
            }
            group.addTask {
                let deadline = ContinuousClock.now + .milliseconds(Int64(max(0, timeout) * 1000))
                while ContinuousClock.now < deadline, !stop(), !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
            await group.next()  // whichever ends first: every delivery, the deadline, or a stop
            group.cancelAll()
        }
        return total - min(total, finished.load(ordering: .relaxed))
    }
}

/// `webhook(name, payload, {wait=})`: a signed delivery to a configured endpoint, never an
/// arbitrary URL. Returns `{id=, status="queued"}` at once, or the outcome with `wait=true`.
struct WebhookBinding {
    let context: RunContext

    var all: [(String, LuaFunction)] { [("webhook", webhook)] }

    private func webhook(_ call: LuaCall) throws(ScriptError) -> LuaReply {
        guard let name = call.string(1), !name.isEmpty else { throw call.argumentError(1, "webhook", expected: "webhook name") }
        let payload = try context.document(call, 2, binding: "webhook", target: name, args: ["name": .string(name)], name: "payload")
        let opts = try BindingOptions(binding: "webhook", name: "opts", known: ["wait": .boolean]).read(call, 3)
        let args: JSONValue = ["name": .string(name), "payload": payload]
        guard !name.contains("://") && !name.contains("/") else {
            throw context.refuse("webhook", target: name, args: args, BindingError(
                .sandbox, message: "webhook: scripts reach only configured webhook names, never URLs; add it to cxrun.toml [webhooks]"))
        }
        guard let target = context.tenant.webhooks[name] else {
            throw context.refuse("webhook", target: name, args: args, BindingError(
                .sandbox, message: "webhook: '\(name)' is not configured \(WebhookPreflight.configured(near: name, in: context.tenant))"))
        }
        if let why = target.unavailable {
            throw context.refuse("webhook", target: name, args: args, BindingError(.sandbox, message: "webhook: '\(name)' cannot be signed: \(why)"))
        }
        let id = UUID().uuidString.lowercased()
        if context.dryRun {
            context.plan(PlannedChange(webhook: name, url: target.url, payload: payload))
            let values = try context.pure("webhook", target: name, args: args) { () throws(BindingError) in
                ([["planned": true, "id": .string(id)]], ["planned": true], .planned)
            }
            return try call.returning(values)
        }
        // A write whose request goes out after the script has moved on: its pending row is
        // committed now (an audit log that refuses it stops the delivery here, with an error).
        let started = ContinuousClock.now
        let waited = opts["wait"]?.boolValue == true
        let context = self.context
        let task = try context.detachedWrite("webhook", target: name, args: args, pendingResult: ["id": .string(id)]) {
            let outcome = await context.deliver(target, deliveryID: id, payload: payload)
            // Nobody waited for this outcome: the run itself must say the delivery did not happen.
            if !outcome.delivered && !waited {
                context.noteLost("webhook '\(name)' delivery \(id) failed: \(outcome.failureText)")
            }
            var result = outcome.json.objectValue ?? [:]
            result["id"] = .string(id)
            let code = outcome.delivered ? nil : (outcome.httpStatus.map { BindingError(APIError.from(status: $0, body: nil)).code.rawValue } ?? "network")
            return (outcome, RunContext.Outcome(values: [], result: .object(result), status: outcome.delivered ? .ok : .error,
                                                httpStatus: outcome.httpStatus, attempts: outcome.attempts, errorCode: code))
        }
        guard waited else { return try call.returning(["id": .string(id), "status": "queued"]) }
        return .suspend(.async {
            let outcome = await task.value
            var result = outcome.json.objectValue ?? [:]
            result["id"] = .string(id)
            result["latency_ms"] = .double(RunContext.milliseconds(since: started))
            return .success([.object(result)])
        })
    }
}

extension RunContext {
    /// Delivers `payload` to a configured webhook, counted with the run's requests; a relative
    /// URL (the sandbox tenant's own sink) resolves once the tenant has started.
    func deliver(_ target: WebhookTarget, deliveryID: String, payload: JSONValue) async -> WebhookOutcome {
        let transport = client.transport
        return await WebhookSender().deliver(url: target.url, secret: target.secret, deliveryID: deliveryID, body: payload,
                                             stats: transport.stats, endpoint: transport.endpoint)
    }
}
