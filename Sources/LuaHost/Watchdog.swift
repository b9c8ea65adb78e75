import CLuaBridge
import Dispatch
import Foundation

/// What happens when a run cannot be stopped from inside Lua.
public enum WatchdogPolicy: Sendable {
    /// No watchdog: the count hook and the scheduler enforce the limits (in-process use).
    case disabled
    /// When the run outlives its deadline by `grace` seconds (one long C call the count hook cannot
    /// see), or host work overdrew the memory reserve, `onExpire` runs on the watchdog's thread.
    /// It must end the process (the Lua thread cannot be stopped from outside).
    case terminate(grace: Double, onExpire: @Sendable (LimitKind) -> Never)
}

/// A handle on a run's runtime for other threads: only its atomic fields are touched.
public struct RunControl: Sendable {
    let owner: RuntimeOwner
    var runtime: OpaquePointer { owner.pointer }

    /// Asks the run to stop at its next hook check (safe from any thread).
    public func interrupt() { cxb_interrupt(runtime) }

    /// Stops the contained call running now (an interactive chunk: the run goes on), or the
    /// run when none is running (safe from any thread).
    public func breakCall() { cxb_break(runtime) }

    /// Stops the contained call running now, and never the run: a break that arrives between
    /// contained calls is dropped when the next one starts (safe from any thread).
    public func breakContainedCall() { cxb_break_contained(runtime) }

    /// True once the run was asked to stop.
    public var stopRequested: Bool { cxb_interrupt_requested(runtime) != 0 }

    var reserveExhausted: Bool { cxb_reserve_exhausted(runtime) != 0 }
}

/// The backstop for limits the count hook cannot enforce.
final class Watchdog: Sendable {
    private let stopped = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private let running: Bool

    init(policy: WatchdogPolicy, timeout: Double, control: RunControl) {
        guard case .terminate(let grace, let onExpire) = policy else {
            running = false
            return
        }
        running = true
        let expiry = timeout > 0 ? cxb_monotonic_now() + timeout + grace : .infinity
        let (stopped, finished) = (self.stopped, self.finished)
        let thread = Thread {
            while stopped.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
                if control.reserveExhausted { onExpire(.memory) }
                if cxb_monotonic_now() > expiry { onExpire(.deadline) }
            }
            finished.signal()
        }
        thread.start()
    }

    /// Stops the thread and waits until it has (it never looks at the run again).
    func stop() {
        guard running else { return }
        stopped.signal()
        finished.wait()
    }
}
