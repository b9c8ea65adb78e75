import Foundation

/// The process a run row belongs to (pid and host, recorded at insert), and whether it is gone:
/// a run left `running` by a process that no longer exists (SIGKILL, a second Ctrl-C) is
/// `abandoned`. A pid reused since is told apart by its start time.
public struct RunOwner: Sendable, Equatable {
    public var pid: Int32
    public var host: String

    /// This process.
    public static let current = RunOwner(pid: getpid(), host: ProcessInfo.processInfo.hostName)

    /// Who runs this process, as runs, plans and locks record the operator.
    public static var operatorName: String { getenv("USER").map { String(cString: $0) } ?? NSUserName() }

    /// True when the owner is on this host and its process is gone (or is a newer process that
    /// reuses the pid: it started after the run did). Another host's runs are never judged.
    public func isGone(runStartedAt started: Double) -> Bool {
        guard host == Self.current.host, pid > 0 else { return false }
        if kill(pid, 0) != 0 && errno == ESRCH { return true }
        guard let process = Self.process(pid) else { return false }
        // A zombie has ended (killed, not yet reaped by its parent): it writes nothing more.
        return process.ended || process.started > started + 1
    }

    /// Process `pid`'s start (seconds since 1970) and whether it has ended (a zombie), from /proc.
    private static func process(_ pid: Int32) -> (started: Double, ended: Bool)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state is field 3; starttime is field 22 (clock ticks since boot).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]), let boot = bootTime else { return nil }
        return (boot + ticks / Double(sysconf(Int32(_SC_CLK_TCK))), fields[0] == "Z" || fields[0] == "X")
    }

    private static let bootTime: Double? = {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("btime ") }.flatMap { Double($0.dropFirst(6)) }
    }()
}
