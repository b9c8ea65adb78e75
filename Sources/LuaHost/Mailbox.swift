import JSONCore
import Dispatch
import Synchronization

/// Host work finished on some other thread, waiting for the scheduler to pick it up.
struct Completion: Sendable {
    let task: Int
    let result: Result<[LuaValue], ScriptError>
}

/// A thread-safe queue of completions the scheduler can block on with a timeout.
final class Mailbox: Sendable {
    private let items = Mutex<[Completion]>([])
    private let signal = DispatchSemaphore(value: 0)

    func post(_ completion: Completion) {
        items.withLock { $0.append(completion) }
        signal.signal()
    }

    func drain() -> [Completion] {
        items.withLock { items in
            defer { items.removeAll() }
            return items
        }
    }

    /// Blocks until something is posted or `seconds` pass.
    func wait(seconds: Double) {
        _ = signal.wait(timeout: .now() + max(0, seconds))
    }
}
