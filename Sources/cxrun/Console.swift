import Foundation
import Synchronization

/// Unbuffered writes to the terminal streams (print and log lines appear as they happen).
/// Plain write(2): a reader that went away (`| head`) ends the output, never the process.
enum Console {
    static func out(_ text: String) { write(STDOUT_FILENO, text) }
    static func err(_ text: String) { write(STDERR_FILENO, text) }
    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) != 0 }
    /// Colours on stdout: it is a terminal, and NO_COLOR is unset.
    static var colorOnStdout: Bool { isatty(STDOUT_FILENO) != 0 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil }

    /// `cx.each` progress on one rewritten line, erased when done.
    @Sendable static func eachProgress(done: Int, total: Int) {
        err(done >= total ? "\r\u{1B}[K" : "\reach: \(done)/\(total)")
    }

    /// Ignores SIGPIPE so a closed pipe is an EPIPE error to drop, not a fatal signal.
    static func prepare() { signal(SIGPIPE, SIG_IGN) }

    /// The first write to stdout that failed for a reason other than a reader that went away
    /// (`> /dev/full`: no space): the process then ends non-zero, saying so.
    static var outputFailure: String? { failure.withLock { $0 } }
    private static let failure = Mutex<String?>(nil)

    private static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno != EPIPE && fd == STDOUT_FILENO {
                let reason = String(cString: strerror(errno))
                failure.withLock { $0 = $0 ?? reason }
            }
            return  // the reader is gone (EPIPE), or the output cannot be written: drop the rest
        }
        bytes.removeAll()
    }
}
