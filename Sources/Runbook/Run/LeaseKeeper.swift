import Foundation
import JSONCore
import Synchronization

/// One run's locks: before the run's first write to a queue or an agent it takes a lease on it
/// in the audit store (shared by every machine on a team's PostgreSQL; by every process on one
/// machine with SQLite), waiting up to the lock timeout while another run holds it. Leases are
/// renewed while the run lives and freed when it ends; a crashed holder's expire.
final class LeaseKeeper: Sendable {
    let store: AuditStore
    let tenant: String
    let runID: String
    let operatorName: String
    /// How long a write waits for another run's lease before it fails (`--lock-timeout`).
    let timeout: Double
    /// A lease not renewed for this long is free (its holder is presumed dead); renewed every quarter of it.
    let ttl: Double
    private let held = Mutex<Set<String>>([])
    private let heartbeat = Mutex<Task<Void, Never>?>(nil)

    init(store: AuditStore, tenant: String, runID: String, operatorName: String, timeout: Double, ttl: Double = 60) {
        self.ttl = ttl
        self.store = store
        self.tenant = tenant
        self.runID = runID
        self.operatorName = operatorName
        self.timeout = timeout
    }

    /// The lease a binding's write to `target` needs: a queue's for queue writes, an agent's for
    /// status and routing-profile changes; none for webhooks.
    static func key(binding: String, target: String?, args: JSONValue = .null) -> String? {
        guard let target else { return nil }
        switch binding {
        case "rollback" where args["user_id"] != nil: return "agent:" + target
        case "deploy", "patch", "rollback": return "queue:" + target
        case "agent_status", "reassign": return "agent:" + target
        default: return nil
        }
    }

    /// The lease to take on `key` with a write's pending row (one transaction), or nil when the
    /// run holds it already.
    func unheld(_ key: String) -> LeaseRecord? {
        guard !held.withLock({ $0.contains(key) }) else { return nil }
        let now = Date().timeIntervalSince1970
        return LeaseRecord(tenant: tenant, target: key, runID: runID, operatorName: operatorName, owner: .current, since: now, expiresAt: now + ttl)
    }

    /// Notes that the run took the lease on `key` (with a pending row).
    func took(_ key: String) {
        held.withLock { _ = $0.insert(key) }
        startHeartbeat()
    }

    /// Holds the lease on `key` when this returns; throws `locked` naming the holder when it
    /// could not be had within the timeout (nothing is sent then).
    func acquire(_ key: String, for binding: String) async throws(BindingError) {
        if held.withLock({ $0.contains(key) }) { return }
        let deadline = ContinuousClock.now + .seconds(timeout)
        var pause = 0.05
        var waiting = false
        while true {
            let now = Date().timeIntervalSince1970
            let holder: LeaseRecord?
            do {
                holder = try store.acquire(LeaseRecord(tenant: tenant, target: key, runID: runID, operatorName: operatorName, owner: .current,
                                                       since: now, expiresAt: now + ttl))
            } catch {
                throw BindingError(.sandbox, message: "the audit log could not be written, so \(binding) was not attempted "
                                   + "(taking the run lock on \(key)): \(error)")
            }
            guard let holder else {
                if waiting { try? store.stopWaiting(run: runID) }
                took(key)
                return
            }
            // Two runs each waiting for a lease the other holds would both wait out the timeout:
            // the younger run (the later id) gives way at once; the older waits for it to end.
            waiting = true
            if let cycle = try? store.wait(run: runID, tenant: tenant, target: key), !cycle.isEmpty, cycle.allSatisfy({ $0 < runID }) {
                try? store.stopWaiting(run: runID)
                throw BindingError(.locked, message: "\(key) is locked by \(holder.holderDescription), which waits for a lock this run holds "
                                   + "(a deadlock: this run, the younger, gives way); nothing was sent")
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                try? store.stopWaiting(run: runID)
                throw BindingError(.locked, message: "\(key) is locked by \(holder.holderDescription); waited \(Self.format(timeout)) s "
                                   + "(--lock-timeout); nothing was sent")
            }
            try? await Task.sleep(for: min(.seconds(pause), left))
            // Stopped (a stop signal cancelled the run's work): a cancelled sleep returns at once,
            // so waiting on would spin against the store until the timeout.
            if Task.isCancelled {
                try? store.stopWaiting(run: runID)
                throw BindingError(.locked, message: "\(key) is locked by \(holder.holderDescription); stopped waiting (the run was "
                                   + "interrupted); nothing was sent")
            }
            pause = min(pause * 2, 1)
        }
    }

    /// Renews this run's leases a few times per time-to-live while it holds any.
    private func startHeartbeat() {
        heartbeat.withLock { task in
            guard task == nil else { return }
            let (store, runID, ttl) = (store, runID, ttl)
            task = Task.detached {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(ttl / 4))
                    if Task.isCancelled { return }
                    _ = try? store.renewLeases(run: runID, until: Date().timeIntervalSince1970 + ttl)
                }
            }
        }
    }

    /// Frees every lease (the run has ended).
    func releaseAll() {
        heartbeat.withLock { $0?.cancel(); $0 = nil }
        guard !held.withLock({ $0.isEmpty }) else { return }
        _ = try? store.releaseLeases(run: runID)
        held.withLock { $0.removeAll() }
    }

    private static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
