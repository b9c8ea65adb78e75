import NIOCore

/// Runs Swift tasks on one NIO event loop: with it as the server's task executor preference, a
/// request's handler runs on the thread that reads and writes its socket, instead of hopping to
/// the cooperative pool and back (two thread wake-ups a request; measured: the sim's CPU a read
/// 0.107 → 0.080 ms).
final class EventLoopExecutor: TaskExecutor {
    let loop: any EventLoop

    init(loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
