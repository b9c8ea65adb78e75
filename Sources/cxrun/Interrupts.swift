import Foundation
import LuaHost

/// Ctrl-C, SIGTERM and SIGHUP stop the running script (exit 128 + the signal: 130 for Ctrl-C,
/// 143 for SIGTERM; the run is reported and audited as aborted); a second signal exits at once.
/// The handler is installed at process start, so no signal can fall into a gap; each run only
/// registers itself as the one to stop.
enum Interrupts {
    static func prepare() { RunControl.installInterruptHandler() }
    static func install(_ control: RunControl) { control.receiveInterrupts() }
    static func uninstall() { RunControl.releaseInterrupts() }

    /// Whether a stop signal arrived during the run.
    static var signalled: Bool { RunControl.stopSignal != nil }

    /// The exit code of a run a signal stopped.
    static var exitCode: Int32 { 128 + (RunControl.stopSignal ?? SIGINT) }
}
