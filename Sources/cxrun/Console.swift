import Foundation

/// Unbuffered writes to the terminal streams (print and log lines appear as they happen).
enum Console {
    static func out(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
    static func err(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
    static var stderrIsTTY: Bool { isatty(STDERR_FILENO) != 0 }

    /// `cx.each` progress on one rewritten line, erased when done.
    @Sendable static func eachProgress(done: Int, total: Int) {
        err(done >= total ? "\r\u{1B}[K" : "\reach: \(done)/\(total)")
    }
}
