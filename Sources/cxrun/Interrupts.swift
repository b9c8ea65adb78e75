import Dispatch
import Foundation
import LuaHost
import Synchronization

/// Ctrl-C asks the running script to stop (exit 130, the run is reported); a second one exits at once.
enum Interrupts {
    private static let holder = Holder()

    /// Keeps the signal source alive for the length of a run.
    private final class Holder: Sendable {
        let source = Mutex<SignalSource?>(nil)
    }

    private struct SignalSource: @unchecked Sendable {  // DispatchSource is thread-safe; touched only under the mutex
        let source: DispatchSourceSignal
    }

    static func install(_ control: RunControl) {
        signal(SIGINT, SIG_IGN)
        let signalSource = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let count = Atomic<Int>(0)
        signalSource.setEventHandler {
            if count.add(1, ordering: .relaxed).newValue > 1 { Foundation.exit(130) }
            Console.err("\ncxrun: interrupted, stopping the script (Ctrl-C again to quit at once)\n")
            control.interrupt()
        }
        signalSource.resume()
        holder.source.withLock { $0 = SignalSource(source: signalSource) }
    }

    static func uninstall() {
        holder.source.withLock { held in
            held?.source.cancel()
            held = nil
        }
        signal(SIGINT, SIG_DFL)
    }
}
