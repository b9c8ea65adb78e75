import JSONCore
import Synchronization

/// Host work finished, waiting for the scheduler to pick it up.
struct Completion: Sendable {
    let task: Int
    /// Which of the task's waits this ends (see Scheduler.inFlight).
    let wait: Int
    let result: Result<[LuaValue], ScriptError>
}

/// What the run's event loop is handed from anywhere: finished host work, and the jobs of the
/// async code the run's own executor runs (HostExecutor). The first item posted after a drain
/// asks the loop for one scheduler pass (`wake`); later ones ride on it.
final class Mailbox: Sendable {
    private struct Items {
        var completions: [Completion] = []
        var jobs: [UnownedJob] = []
        var closed = false
        var wakeAsked = false
    }

    private let items = Mutex(Items())
    private let wake: @Sendable () -> Void

    init(wake: @escaping @Sendable () -> Void) { self.wake = wake }

    func post(_ completion: Completion) {
        let ask = items.withLock { items in
            items.completions.append(completion)
            return askWake(&items)
        }
        if ask { wake() }
    }

    /// Queues a job for the run's thread; false once the run has ended (the caller runs it elsewhere).
    func post(job: UnownedJob) -> Bool {
        let (accepted, ask) = items.withLock { items -> (Bool, Bool) in
            guard !items.closed else { return (false, false) }
            items.jobs.append(job)
            return (true, askWake(&items))
        }
        if ask { wake() }
        return accepted
    }

    private func askWake(_ items: inout Items) -> Bool {
        guard !items.closed, !items.wakeAsked else { return false }
        items.wakeAsked = true
        return true
    }

    func drain() -> (jobs: [UnownedJob], completions: [Completion]) {
        items.withLock { items in
            items.wakeAsked = false
            defer {
                items.jobs.removeAll(keepingCapacity: true)
                items.completions.removeAll(keepingCapacity: true)
            }
            return (items.jobs, items.completions)
        }
    }

    /// The run has ended: no job is accepted from now on; returns those never run.
    func close() -> [UnownedJob] {
        items.withLock { items in
            items.closed = true
            defer { items.jobs.removeAll() }
            return items.jobs
        }
    }
}
