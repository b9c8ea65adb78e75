import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP server that answers each request with whatever bytes `respond` returns and
/// then closes the connection: it can break HTTP in ways no real framework would. With
/// `trickle`, it then keeps the connection open for that many seconds, sending a space every
/// 0.2 s (a body that never ends in time). With `keepAlive`, a connection serves request after
/// request until the client closes it (the replies should then not say `Connection: close`).
public final class HostileServer: Sendable {
    /// What the server was asked: method and path (query included).
    public struct Request: Sendable {
        public var method: String
        public var path: String
    }

    public let port: Int
    private let listener: Int32
    private let seen = Mutex<[Request]>([])
    private let counts = Mutex<(accepted: Int, open: Int, mostOpen: Int)>((0, 0, 0))

    public var baseURL: String { "http://127.0.0.1:\(port)" }
    public var requests: [Request] { seen.withLock { $0 } }
    /// Connections accepted so far.
    public var connections: Int { counts.withLock { $0.accepted } }
    /// Connections open right now, and the most ever open at once.
    public var openConnections: (now: Int, most: Int) { counts.withLock { ($0.open, $0.mostOpen) } }

    /// With `greeting`, the server sends those bytes the moment a connection is accepted and
    /// closes it, reading nothing (a server that speaks another protocol).
    public init(trickle: Double = 0, keepAlive: Bool = false, greeting: [UInt8]? = nil, respond: @escaping @Sendable (Request) -> [UInt8]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        Thread.detachNewThread { [self] in
            while true {
                let connection = accept(fd, nil, nil)
                if connection < 0 && errno == EINTR { continue }  // a signal, not the listener's end
                guard connection >= 0 else { return }
                self.counts.withLock {
                    $0.accepted += 1
                    $0.open += 1
                    $0.mostOpen = max($0.mostOpen, $0.open)
                }
                Thread.detachNewThread {
                    defer {
                        self.counts.withLock { $0.open -= 1 }
                        close(connection)
                    }
                    if let greeting {
                        _ = Self.send(greeting, to: connection)
                        shutdown(connection, Int32(SHUT_WR))
                        return
                    }
                    guard var request = Self.readRequest(connection) else { return }
                    while keepAlive {
                        self.seen.withLock { $0.append(request) }
                        guard Self.send(respond(request), to: connection), let next = Self.readRequest(connection) else { return }
                        request = next
                    }
                    self.seen.withLock { $0.append(request) }
                    let reply = respond(request)
                    guard Self.send(reply, to: connection) else { return }
                    if !request.path.hasPrefix("/oauth") {
                        for _ in 0..<Int(trickle / 0.2) {
                            usleep(200_000)
                            guard Self.send([0x20], to: connection) else { return }
                        }
                    }
                    shutdown(connection, Int32(SHUT_WR))
                }
            }
        }
    }

    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Sends all of `bytes`; false when the peer went away.
    private static func send(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// Reads the head and the body (Content-Length) of one request.
    private static func readRequest(_ fd: Int32) -> Request? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        func more() -> Bool {
            var n: Int
            // A signal to this process (a test's child exiting: SIGCHLD) interrupts the wait; it
            // is no end of the connection (a kept-alive one was closed under a client's request).
            repeat { n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } } while n < 0 && errno == EINTR
            if n > 0 { bytes += buffer[0..<n] }
            return n > 0
        }
        let end = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            guard more() else { return nil }
            headEnd = bytes.indices.dropLast(3).first { Array(bytes[$0..<$0 + 4]) == end }
        }
        let head = String(decoding: bytes[0..<headEnd!], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2 else { return nil }
        let length = lines.dropFirst().compactMap { line -> Int? in
            let kv = line.split(separator: ":", maxSplits: 1)
            return kv.count == 2 && kv[0].lowercased() == "content-length" ? Int(kv[1].trimmingCharacters(in: .whitespaces)) : nil
        }.first ?? 0
        while bytes.count < headEnd! + 4 + length { guard more() else { break } }
        return Request(method: String(parts[0]), path: String(parts[1]))
    }

    /// A whole HTTP/1.1 response.
    public static func http(_ status: Int, _ body: String, headers: [String] = [], close: Bool = true) -> [UInt8] {
        http(status, Array(body.utf8), headers: headers, close: close)
    }

    public static func http(_ status: Int, _ body: [UInt8], headers: [String] = [], close: Bool = true) -> [UInt8] {
        let head = (["HTTP/1.1 \(status) X", "Content-Length: \(body.count)", "Content-Type: application/json"] + (close ? ["Connection: close"] : []) + headers)
            .joined(separator: "\r\n") + "\r\n\r\n"
        return Array(head.utf8) + body
    }

    /// A token response, then `api` for everything else.
    public static func withToken(_ api: @escaping @Sendable (Request) -> [UInt8]) -> @Sendable (Request) -> [UInt8] {
        { request in
            request.path.hasPrefix("/oauth") ? http(200, #"{"access_token":"tok-12345678","token_type":"bearer","expires_in":3600}"#) : api(request)
        }
    }
}
