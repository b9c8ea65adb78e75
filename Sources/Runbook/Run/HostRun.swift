import CXone
import Foundation
import JSONCore

/// A run the host drives itself, with no script (`cxrun rollback --run`, `cxrun apply`): its run
/// row, its context, and every API call it makes as one audited call of that run.
struct HostRun {
    let store: AuditStore
    let context: RunContext
    var runID: String { context.runID }

    /// Records the run as `running` in `store`.
    static func begin(
        script: String, args: JSONValue, tenant: ResolvedTenant, endpoint: TenantEndpoint, store: AuditStore, dryRun: Bool, planID: String?,
        lockTimeout: Double = RunbookRequest.defaultLockTimeout
    ) throws(RunbookError) -> HostRun {
        let operatorName = RunOwner.operatorName
        let runID = RunbookSession.newRunID()
        let record = RunRecord(
            id: runID, script: script, scriptSHA256: "", tenant: tenant.name,
            operatorName: operatorName, args: args, dryRun: dryRun,
            startedAt: Date().timeIntervalSince1970, finishedAt: nil, status: .running, error: nil, summary: nil, planID: planID)
        do { try store.insert(run: record) } catch { throw RunbookError(description: "cannot write the audit log \(store.path): \(error)") }
        let recorder = AuditRecorder(store: store, runID: runID, redactor: Redactor(secrets: tenant.secrets))
        let context = RunContext(runID: runID, tenant: tenant, dryRun: dryRun, client: CXoneClient(endpoint: endpoint), recorder: recorder,
                                 lockTimeout: lockTimeout, operatorName: operatorName)
        return HostRun(store: store, context: context)
    }

    /// One audited call: its row is written (a write's `pending` first) whatever `work` does.
    func call(
        _ binding: String, target: String?, args: JSONValue, effect: RunContext.Effect,
        _ work: @Sendable (Int) async throws(BindingError) -> RunContext.Outcome
    ) async throws(BindingError) -> RunContext.Outcome {
        let call = context.recorder.start(binding, target: target, args: args)
        context.recorder.began(call)
        return try await context.perform(call, effect: effect, work)
    }

    /// Writes the rows still buffered and the run's final status: `aborted` when its task was
    /// cancelled (a stop signal ended it).
    func finish(error: String?) async {
        await context.recorder.settle(timeout: 5)
        let status: RunStatus = Task.isCancelled ? .aborted : error == nil ? .succeeded : .failed
        try? store.finish(run: runID, status: status, error: error, summary: nil, at: Date().timeIntervalSince1970)
        context.leases.releaseAll()
    }
}
