import Dispatch
import NIOCore
import Synchronization

extension EventLoopFuture where Value: Sendable {
    /// Blocks until the future completes, also on a run's own event loop (the audit store's
    /// synchronous API is called from there). NIO's `wait()` refuses any event loop thread, to
    /// catch a thread waiting for its own loop; that one case is refused here too, and a future of
    /// another loop (PostgreSQL's) completes without this thread's help.
    func blockingResult() throws -> Value {
        if eventLoop.inEventLoop { throw AuditStoreError("internal: waiting for a result on the loop that must produce it") }
        let outcome = Mutex<Result<Value, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        whenComplete { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }
}
