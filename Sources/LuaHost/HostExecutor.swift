/// Runs the async side of a run's binding calls on the run's own thread (its event loop), in
/// the scheduler's passes. Each call's work used to start on Swift's cooperative pool: a thread switch to start
/// it, another to hand its result back, on top of the I/O thread's; here the work starts on the
/// thread that asked for it, and its result is ready on the thread that needs it, so a call
/// costs the I/O wake-ups only. Work that waits (I/O, sleeps) suspends and frees the thread for
/// the other coroutines; work that blocks holds it, as the audit log's synchronous writes do
/// (they are short). Once the run has ended, jobs go to the global executor.
final class HostExecutor: TaskExecutor {
    private let mailbox: Mailbox

    init(mailbox: Mailbox) { self.mailbox = mailbox }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if !mailbox.post(job: job) { Self.runElsewhere(job) }
    }

    /// Runs a job now, on the calling thread (the run's).
    func run(_ job: UnownedJob) {
        job.runSynchronously(on: asUnownedTaskExecutor())
    }

    /// A job that arrived after the run ended: the global executor runs it.
    static func runElsewhere(_ job: UnownedJob) {
        globalConcurrentExecutor.enqueue(ExecutorJob(job))
    }
}
