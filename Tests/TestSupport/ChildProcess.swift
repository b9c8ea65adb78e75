import Foundation
import Synchronization

/// A child process started with posix_spawn, for the tests that run cxrun, curl or a tool.
/// Not Foundation's `Process`: on Linux its `run()` crashes now and then (a 256-byte over-read of
/// each /proc/self/fd entry, swift-corelibs-foundation #5472; seen here as a SIGSEGV in memcpy
/// under `Process.run()` when two test processes ran at once), and it can miss the exit of a child
/// whose own children live on. The exit is read with waitpid on a thread of its own.
public final class ChildProcess: Sendable {
    /// Where one of the child's standard streams goes.
    public enum Stream: Sendable {
        /// /dev/null.
        case null
        /// A file read from (stdin) or written over (stdout, stderr).
        case file(String)
        /// The read or write end of a pipe the parent keeps the other end of (`pipes`).
        case pipe
        /// The same as the child's stdout (stderr only).
        case stdout
    }

    public let pid: pid_t
    /// The parent's ends of the `.pipe` streams: write to stdin, read from stdout and stderr.
    public let stdin: FileHandle?
    public let stdout: FileHandle?
    public let stderr: FileHandle?
    private let exit = Mutex<Int32?>(nil)
    private let exited = DispatchSemaphore(value: 0)

    /// Starts `executable` with `arguments` in `directory`, with `environment` (default: this
    /// process's) — throws when it cannot be started.
    public init(_ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String]? = nil,
                stdin: Stream = .null, stdout: Stream = .null, stderr: Stream = .null) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnds: [Int32: FileHandle] = [:]
        var childEnds: [Int32] = []
        defer { childEnds.forEach { close($0) } }
        for (fd, stream) in [(Int32(0), stdin), (1, stdout), (2, stderr)] {
            switch stream {
            case .null:
                posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, fd, path, fd == 0 ? O_RDONLY : O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            case .stdout:
                posix_spawn_file_actions_adddup2(&actions, 1, fd)
            case .pipe:
                var ends: [Int32] = [0, 0]
                guard pipe(&ends) == 0 else { throw ChildProcessError("pipe: \(String(cString: strerror(errno)))") }
                // Neither end leaks into other children spawned meanwhile (the child gets its end by dup2).
                ends.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
                let (mine, theirs) = fd == 0 ? (ends[1], ends[0]) : (ends[0], ends[1])
                posix_spawn_file_actions_adddup2(&actions, theirs, fd)
                childEnds.append(theirs)
                parentEnds[fd] = FileHandle(fileDescriptor: mine, closeOnDealloc: true)
            }
        }
        if let directory {
            guard let addChdir = Self.addChdir else { throw ChildProcessError("posix_spawn_file_actions_addchdir_np is not available") }
            _ = addChdir(&actions, directory)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Signals the test process blocks or ignores must not stay so in the child.
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        var spawnedPID: pid_t = 0
        let spawned = posix_spawn(&spawnedPID, executable, &actions, &attributes, argv, env)
        guard spawned == 0 else { throw ChildProcessError("cannot start \(executable): \(String(cString: strerror(spawned)))", code: spawned) }
        let pid = spawnedPID
        self.pid = pid
        self.stdin = parentEnds[0]
        self.stdout = parentEnds[1]
        self.stderr = parentEnds[2]
        // The one waitpid of this child, on a thread of its own (never a cooperative-pool thread).
        Thread.detachNewThread { [self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            // As Foundation's terminationStatus: the exit code, or the signal that ended it.
            let code = status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
            exit.withLock { $0 = code }
            exited.signal()
        }
    }

    /// glibc's posix_spawn_file_actions_addchdir_np (2.29+), which the Glibc module does not
    /// declare (a GNU extension): looked up once.
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    private static let addChdir: AddChdir? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    /// Whether it has not exited yet (after its exit its pid may belong to another process).
    public var isRunning: Bool { exit.withLock { $0 == nil } }

    /// Sends `signal` unless it has exited.
    public func signal(_ signal: Int32) {
        exit.withLock { if $0 == nil { _ = kill(pid, signal) } }
    }

    /// Asks it to stop (SIGTERM).
    public func terminate() { signal(SIGTERM) }

    /// Waits for its exit (blocking); the exit code, or the number of the signal that ended it.
    @discardableResult
    public func wait() -> Int32 {
        exited.wait()
        exited.signal()  // every later wait returns at once
        return exit.withLock { $0 ?? -1 }
    }

    /// Waits for its exit without holding a cooperative-pool thread.
    public func exitCode() async -> Int32 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: self.wait()) }
        }
    }

    /// Runs `executable` to its end; its standard output as text, and its exit code.
    public static func output(_ executable: String, _ arguments: [String], directory: String? = nil) throws -> (text: String, status: Int32) {
        let child = try ChildProcess(executable, arguments, directory: directory, stdout: .pipe)
        let data = child.stdout?.readDataToEndOfFile() ?? Data()
        return (String(decoding: data, as: UTF8.self), child.wait())
    }
}

/// A child process that could not be started.
public struct ChildProcessError: Error, CustomStringConvertible, Sendable {
    public var description: String
    /// posix_spawn's error number (ETXTBSY: the executable is still open for writing somewhere).
    public var code: Int32 = 0
    init(_ description: String, code: Int32 = 0) {
        self.description = description
        self.code = code
    }
}
