import Foundation

/// A file the operator named for output (`plan --out`, `test --junit`). A regular file (or none
/// yet) is replaced atomically, so a reader never sees half of it; through a symlink, the file it
/// points at is. Anything else — a device, a pipe, /dev/stdout — is written in place: replacing it
/// by rename turned /dev/full into a regular file (as root) and reported the plan saved.
enum OutputFile {
    /// Why the file could not be written, in words (not a Cocoa error number).
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func write(_ text: String, to path: String) throws(Failure) {
        let target = followed(path)
        var info = stat()
        let exists = stat(target, &info) == 0
        if exists && (info.st_mode & S_IFMT) == S_IFDIR { throw Failure(description: "it is a directory") }
        if exists && (info.st_mode & S_IFMT) != S_IFREG {
            try inPlace(text, target)
            return
        }
        let folder = (target as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder.isEmpty ? "." : folder, withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: target), options: .atomic)
        } catch {
            throw Failure(description: reason(error))
        }
    }

    /// The path a chain of symlinks leads to, a dangling one's target included (a new file is made
    /// there, the link kept).
    private static func followed(_ path: String) -> String {
        var current = path
        for _ in 0..<32 {
            guard let next = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else { return current }
            current = next.hasPrefix("/") ? next : ((current as NSString).deletingLastPathComponent as NSString).appendingPathComponent(next)
        }
        return current
    }

    /// Opens and writes without replacing: every byte or an error (ENOSPC from /dev/full).
    private static func inPlace(_ text: String, _ target: String) throws(Failure) {
        let fd = open(target, O_WRONLY | O_TRUNC | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
        defer { close(fd) }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: String(cString: strerror(n < 0 ? errno : EIO))) }
            bytes = bytes.dropFirst(n)
        }
    }

    /// The POSIX reason under a Foundation error, when there is one.
    private static func reason(_ error: Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
        return ns.localizedDescription
    }
}
