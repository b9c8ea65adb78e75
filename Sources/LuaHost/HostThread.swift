import Dispatch
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Runs a Lua run on a dedicated thread with a large stack, off Swift's cooperative pool. The
/// thread is a NIO event loop for as long as the run lasts: the scheduler runs as the loop's
/// work, and so does the I/O its bindings start there (see HostExecutor), so a call and its
/// answer need no hop between threads.
enum HostThread {
    static let stackSize = 16 << 20

    /// Runs `body` on a new thread's event loop and blocks the caller until `body` calls `finish`.
    static func run<T: Sendable>(_ body: @escaping @Sendable (EventLoop, _ finish: @escaping (T) -> Void) -> Void) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        start(body) { value in
            box.value.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return box.value.withLock { $0! }
    }

    /// Runs `body` on a new thread's event loop; the calling task suspends until `body` calls `finish`.
    static func run<T: Sendable>(_ body: @escaping @Sendable (EventLoop, _ finish: @escaping (T) -> Void) -> Void) async -> T {
        await withCheckedContinuation { continuation in
            start(body) { continuation.resume(returning: $0) }
        }
    }

    private static func start<T: Sendable>(
        _ body: @escaping @Sendable (EventLoop, _ finish: @escaping (T) -> Void) -> Void, then deliver: @escaping @Sendable (T) -> Void
    ) {
        let thread = Thread {
            let outcome = ResultBox<T>()
            // Returns once the loop has shut down: nothing of the run is left on this thread.
            MultiThreadedEventLoopGroup.withCurrentThreadAsEventLoop { loop in
                loop.execute {
                    body(loop) { value in
                        outcome.value.withLock { $0 = value }
                        loop.shutdownGracefully { _ in }
                    }
                }
            }
            deliver(outcome.value.withLock { $0! })
        }
        thread.stackSize = stackSize
        thread.start()
    }

    private final class ResultBox<T: Sendable>: Sendable {
        let value = Mutex<T?>(nil)
    }
}
