import Dispatch
import Foundation
import Synchronization

/// Runs blocking Lua work on a dedicated thread with a large stack, off Swift's cooperative
/// pool (the scheduler blocks while host work runs on that pool).
enum HostThread {
    static let stackSize = 16 << 20

    /// Runs `body` on a new thread and blocks the caller until it returns.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        start {
            box.value.withLock { $0 = body() }
            done.signal()
        }
        done.wait()
        return box.value.withLock { $0! }
    }

    /// Runs `body` on a new thread; the calling task suspends until it returns.
    static func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            start { continuation.resume(returning: body()) }
        }
    }

    private static func start(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.stackSize = stackSize
        thread.start()
    }

    private final class ResultBox<T: Sendable>: Sendable {
        let value = Mutex<T?>(nil)
    }
}
