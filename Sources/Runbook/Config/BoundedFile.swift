import Foundation

/// Reading a file an operator names (configuration, secret, plan): a regular file of bounded
/// size. A device, a FIFO or a runaway file is an error naming what it is — never a hang, a
/// silently empty read (`/dev/zero` read as an empty configuration) or all of memory.
public enum BoundedFile {
    /// Why the file was not read.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The file's bytes; `limit` is the most it may hold.
    public static func read(_ path: String, limit: Int) throws(Failure) -> Data {
        // Non-blocking: opening a FIFO with no writer would otherwise wait forever.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: errno == ENOENT ? "does not exist" : "cannot be read (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(description: "cannot be read (\(String(cString: strerror(errno))))") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw Failure(description: info.st_mode & S_IFMT == S_IFDIR ? "is a directory, not a file" : "is not a regular file (a device, FIFO or socket)")
        }
        guard info.st_size <= limit else { throw Failure(description: "is \(info.st_size) bytes long; at most \(limit) are read") }
        // One byte more than its size: a file that grows while it is read is caught, not read on.
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var count = 0
        while count < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "cannot be read (\(String(cString: strerror(errno))))")
            }
            count += n
        }
        guard count < bytes.count else { throw Failure(description: "changed while it was read") }
        return Data(bytes[..<count])
    }
}
