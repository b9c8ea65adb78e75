import LuaHost

/// Ctrl-C stops the running script (exit 130, the run is reported and audited as aborted);
/// a second Ctrl-C exits at once. The handler is installed at process start, so no signal can
/// fall into a gap; each run only registers itself as the one to stop.
enum Interrupts {
    static func prepare() { RunControl.installInterruptHandler() }
    static func install(_ control: RunControl) { control.receiveInterrupts() }
    static func uninstall() { RunControl.releaseInterrupts() }
}
