import JSONCore
import Dispatch
import Synchronization

/// Host work finished on some other thread, waiting for the scheduler to pick it up.
struct Completion: Sendable {
    let task: Int
    let result: Result<[LuaValue], ScriptError>
}

/// What other threads hand the run's thread: finished host work, and the jobs of the async code
/// the run's own executor runs (HostExecutor). The scheduler blocks on it with a timeout.
final class Mailbox: Sendable {
    private struct Items {
        var completions: [Completion] = []
        var jobs: [UnownedJob] = []
        var closed = false
    }

    private let items = Mutex(Items())
    private let signal = DispatchSemaphore(value: 0)

    func post(_ completion: Completion) {
        items.withLock { $0.completions.append(completion) }
        signal.signal()
    }

    /// Queues a job for the run's thread; false once the run has ended (the caller runs it elsewhere).
    func post(job: UnownedJob) -> Bool {
        let accepted = items.withLock { items in
            guard !items.closed else { return false }
            items.jobs.append(job)
            return true
        }
        if accepted { signal.signal() }
        return accepted
    }

    func drain() -> (jobs: [UnownedJob], completions: [Completion]) {
        items.withLock { items in
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

    /// Blocks until something is posted or `seconds` pass.
    func wait(seconds: Double) {
        _ = signal.wait(timeout: .now() + max(0, seconds))
    }
}
