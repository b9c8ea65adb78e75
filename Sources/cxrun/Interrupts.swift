import Foundation
import Runbook
import Synchronization

/// Ctrl-C, SIGTERM and SIGHUP stop the running script (exit 128 + the signal: 130 for Ctrl-C,
/// 143 for SIGTERM, 129 for SIGHUP; the run is reported and audited as aborted); a second signal,
/// or one while no run is armed, exits at once. In `cxrun repl`, Ctrl-C stops only the chunk
/// running (see `stopChunksOnly`).
///
/// The handler only does what is async-signal-safe: lock-free atomics, write(2), _exit. It never
/// touches a run: it writes the signal number to a pipe, and a watcher thread blocked reading the
/// pipe interrupts the armed run. The handler is installed at process start, so no signal falls
/// into a gap; each run arms itself with its handle.
enum Interrupts {
    private static let state = SignalState()

    /// Installs the handler for SIGINT, SIGTERM and SIGHUP (once, before any run starts).
    static func prepare() { state.install() }

    /// Routes the stop signals to this run.
    static func install(_ handle: RunHandle) {
        state.arm { signal in
            if signal == SIGINT && replMode.load(ordering: .acquiring) { handle.interruptChunk() } else { handle.interrupt() }
        }
    }

    /// Runs `work` (a run the host drives itself: `apply`, `rollback --run`) as a task that the
    /// stop signals cancel.
    static func cancelling<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await work() }
        state.arm { _ in task.cancel() }
        return try await task.value
    }

    /// `cxrun repl`: Ctrl-C stops the chunk running (the session goes on; at the prompt it ends
    /// the session); SIGTERM and SIGHUP still end the session.
    static func stopChunksOnly() { replMode.store(true, ordering: .releasing) }

    /// Counts signals from none again (the REPL, before each prompt: a Ctrl-C that stopped a chunk
    /// was dealt with, so the next one is a first one again, not "quit at once").
    static func rearm() {
        signalCount.store(0, ordering: .releasing)
        signalNumber.store(0, ordering: .releasing)
    }

    /// No run receives stop signals any more: they exit the process at once.
    static func uninstall() { state.disarm() }

    /// Whether a stop signal arrived during the run.
    static var signalled: Bool { signalNumber.load(ordering: .acquiring) != 0 }

    /// The exit code of a run a signal stopped.
    static var exitCode: Int32 {
        let signal = signalNumber.load(ordering: .acquiring)
        return 128 + (signal == 0 ? SIGINT : signal)
    }
}

// Written by the signal handler: globals, so the handler (a C function pointer) captures nothing.
// Each is touched once in `install` before the handler can run, so no lazy initialization happens
// inside the handler.
private let signalCount = Atomic<Int32>(0)
private let signalNumber = Atomic<Int32>(0)
private let armed = Atomic<Bool>(false)
private let wakeFD = Atomic<Int32>(-1)
private let replMode = Atomic<Bool>(false)

private let onStopSignal: @convention(c) (Int32) -> Void = { signal in
    let n = signalCount.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue
    if n > 1 || !armed.load(ordering: .acquiring) { _exit(128 + signal) }
    signalNumber.store(signal, ordering: .releasing)
    let text: StaticString = signal != SIGINT
        ? "\ncxrun: terminated, stopping the script (signal again to quit at once)\n"
        : replMode.load(ordering: .acquiring)
        ? "\ncxrun: interrupted (Ctrl-C again to quit at once)\n"
        : "\ncxrun: interrupted, stopping the script (Ctrl-C again to quit at once)\n"
    _ = write(STDERR_FILENO, text.utf8Start, text.utf8CodeUnitCount)
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(wakeFD.load(ordering: .acquiring), &byte, 1)
}

/// The armed run and the watcher thread that interrupts it.
private final class SignalState: Sendable {
    /// What a stop signal does to the armed run (given the signal's number).
    private let handle = Mutex<(@Sendable (Int32) -> Void)?>(nil)
    private let installed = Atomic<Bool>(false)

    func install() {
        guard !installed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        _ = signalCount.load(ordering: .relaxed)
        _ = signalNumber.load(ordering: .relaxed)
        _ = armed.load(ordering: .relaxed)
        _ = replMode.load(ordering: .relaxed)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        wakeFD.store(fds[1], ordering: .releasing)
        let readFD = fds[0]
        let thread = Thread { [self] in
            var byte: UInt8 = 0
            while read(readFD, &byte, 1) != 0 {
                handle.withLock { $0 }?(Int32(byte))
            }
        }
        thread.start()
        var action = sigaction()
        action.__sigaction_handler.sa_handler = onStopSignal
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        var set = sigset_t()
        sigemptyset(&set)
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            sigaction(signal, &action, nil)
            sigaddset(&set, signal)
        }
        // A blocked signal mask is inherited across exec (some launchers block SIGINT): unblock
        // them here, so at least this thread takes the signals.
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    func arm(_ stop: @escaping @Sendable (Int32) -> Void) {
        handle.withLock { $0 = stop }
        armed.store(true, ordering: .releasing)
        // A signal that arrived between start-up and arming found nothing armed and exited.
    }

    func disarm() {
        armed.store(false, ordering: .releasing)
        handle.withLock { $0 = nil }
    }
}
