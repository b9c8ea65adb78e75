@testable import CXone
import Foundation
import NIOHTTP1
import Synchronization
import TestSupport
import Testing

/// cxrun's own HTTP/1.1 client: URLs, kept-alive connections and the per-origin limit, against
/// a real server on loopback. (Broken and hostile answers: HostileServerTests.)
@Suite("HTTP/1.1 client")
struct HTTP1ClientTests {
    struct Split: Sendable, CustomTestStringConvertible {
        var url: String
        var tls: Bool
        var host: String
        var port: Int
        var target: String
        var hostHeader: String
        var testDescription: String { url }
    }

    @Test(arguments: [
        Split(url: "http://127.0.0.1:8080/api/v2/q?x=1", tls: false, host: "127.0.0.1", port: 8080, target: "/api/v2/q?x=1", hostHeader: "127.0.0.1:8080"),
        Split(url: "https://api.example.com", tls: true, host: "api.example.com", port: 443, target: "/", hostHeader: "api.example.com"),
        Split(url: "https://api.example.com:443/x#part", tls: true, host: "api.example.com", port: 443, target: "/x", hostHeader: "api.example.com"),
        Split(url: "http://[::1]:9000?q=1", tls: false, host: "::1", port: 9000, target: "/?q=1", hostHeader: "[::1]:9000"),
        Split(url: "http://h/a%20b", tls: false, host: "h", port: 80, target: "/a%20b", hostHeader: "h"),
    ])
    func aURLSplitsIntoOriginAndTarget(_ c: Split) throws {
        let url = try RequestURL.parse(c.url)
        #expect(url.origin == RequestURL.Origin(tls: c.tls, host: c.host, port: c.port))
        #expect(url.target == c.target)
        #expect(url.hostHeader == c.hostHeader)
    }

    @Test(arguments: [
        "ftp://h/x", "h/x", "http://user:pw@h/x", "http://h:0/", "http://h:65536/", "http://h:x/", "http:///x",
        "http://h/\r\nX-Evil: 1", "http://h/é", "http://[::1/x", "http://h/a b",
    ])
    func aURLThatCannotBeRequestedIsRefusedBeforeAnyConnection(_ text: String) async {
        do throws(HTTPFailure) {
            _ = try await HTTP1Client.exchange(.GET, text, headers: [], body: nil, timeout: 5, maxBody: 1 << 20)
            Issue.record("\(text): no error")
        } catch {
            #expect(error.kind == .badURL, "\(text): \(error)")
            #expect(!error.requestWritten)
        }
    }

    @Test func requestsOneAfterAnotherShareOneKeptAliveConnection() async throws {
        let server = try HostileServer(keepAlive: true) { request in
            HostileServer.http(200, #"{"path":"\#(request.path)"}"#, close: false)
        }
        defer { server.stop() }
        // An idle connection is closed after a while: a busy machine that left this task waiting
        // that long between two requests may see a second connection, and only then.
        // (Counted generously: any two starts half the idle timeout apart.)
        let clock = ContinuousClock()
        var last = clock.now
        var longPauses = 0
        for i in 0..<20 {
            if clock.now - last >= .nanoseconds(HTTPConnectionPool.idleTimeout.nanoseconds / 2) { longPauses += 1 }
            last = clock.now
            let reply = try await HTTP1Client.exchange(.GET, server.baseURL + "/q/\(i)", headers: [], body: nil, timeout: 5, maxBody: 1 << 20)
            #expect(reply.status == 200)
            #expect(String(buffer: reply.body) == #"{"path":"/q/\#(i)"}"#)
        }
        #expect(server.requests.count == 20)
        #expect(server.connections >= 1 && server.connections <= 1 + longPauses, "\(server.connections) connections for 20 requests, \(longPauses) long pauses")
    }

    @Test func concurrentRequestsOpenAtMostSixteenConnectionsToAnOrigin() async throws {
        // The server holds every answer until 16 requests wait at once (or 10 s pass), so the
        // client's connections pile up to its limit, and whatever it does beyond is seen.
        let gate = Mutex<(waiting: Int, open: Bool)>((0, false))
        let server = try HostileServer(keepAlive: true) { _ in
            gate.withLock {
                $0.waiting += 1
                if $0.waiting >= HTTPConnectionPool.perOriginLimit { $0.open = true }
            }
            let deadline = Date().addingTimeInterval(10)
            while !gate.withLock({ $0.open }) && Date() < deadline { usleep(1_000) }
            gate.withLock { $0.waiting -= 1 }
            return HostileServer.http(200, "{}", close: false)
        }
        defer { server.stop() }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<40 {
                group.addTask {
                    try await HTTP1Client.exchange(.GET, server.baseURL + "/q/\(i)", headers: [], body: nil, timeout: 30, maxBody: 1 << 20).status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 40))
        #expect(server.openConnections.most == HTTPConnectionPool.perOriginLimit, "\(server.openConnections.most) connections at once")
        #expect(server.connections == HTTPConnectionPool.perOriginLimit, "\(server.connections) connections for 40 requests")
    }

    @Test func aRefusedConnectionFailsBeforeSending() async throws {
        let refusing = try BoundPort()
        do throws(HTTPFailure) {
            _ = try await HTTP1Client.exchange(.PUT, "http://127.0.0.1:\(refusing.port)/q", headers: [], body: Array("{}".utf8), timeout: 5, maxBody: 1 << 20)
            Issue.record("no error")
        } catch {
            #expect(error.kind == .connect && error.detail == "connection refused", "\(error)")
            #expect(!error.requestWritten, "a write that never left is safe to retry")
        }
    }

    struct Answer: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: String
        var testDescription: String { name }
    }

    @Test(arguments: [
        Answer(name: "a chunked body", bytes: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n"),
        Answer(name: "an interim 100 Continue first", bytes: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"a\":1}"),
        Answer(name: "a body that ends with the connection", bytes: "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"a\":1}"),
    ])
    func anUnusualButValidAnswerIsRead(_ c: Answer) async throws {
        let server = try HostileServer { _ in Array(c.bytes.utf8) }
        defer { server.stop() }
        let reply = try await HTTP1Client.exchange(.GET, server.baseURL + "/x", headers: [], body: nil, timeout: 5, maxBody: 1 << 20)
        #expect(reply.status == 200)
        #expect(String(buffer: reply.body) == #"{"a":1}"#, "\(c.name)")
    }

    @Test func aHeaderSectionWithoutEndIsRefusedNotBuffered() async throws {
        // 1 MiB of headers: the codec's 80 KiB limit ends it as an error, long before the deadline.
        let server = try HostileServer { _ in Array(("HTTP/1.1 200 OK\r\n" + String(repeating: "X-Pad: " + String(repeating: "a", count: 1_000) + "\r\n", count: 1_000)).utf8) }
        defer { server.stop() }
        do throws(HTTPFailure) {
            _ = try await HTTP1Client.exchange(.GET, server.baseURL + "/x", headers: [], body: nil, timeout: 30, maxBody: 1 << 20)
            Issue.record("no error")
        } catch {
            #expect(error.kind == .connection && error.detail.contains("not valid HTTP"), "\(error)")
            #expect(error.requestWritten)
        }
    }

    @Test(arguments: ["127.0.0.1", "localhost"])
    func anHTTPSRequestToAServerThatDoesNotSpeakTLSIsATypedError(_ host: String) async throws {
        // The TLS path end to end short of a certificate: the handshake meets plain HTTP.
        let server = try HostileServer(greeting: Array("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n".utf8)) { _ in [] }
        defer { server.stop() }
        do throws(HTTPFailure) {
            _ = try await HTTP1Client.exchange(.GET, "https://\(host):\(server.port)/x", headers: [], body: nil, timeout: 10, maxBody: 1 << 20)
            Issue.record("no error")
        } catch {
            #expect(error.kind == .connection && error.detail.hasPrefix("the TLS handshake failed (") && !error.detail.contains(".cc:"), "\(error)")
        }
    }

    @Test func aBodyOverTheCapIsRefusedAnnouncedOrNot() async throws {
        // Announced by Content-Length: refused at the head. Chunked: refused once the cap is passed.
        let chunk = String(repeating: "x", count: 600)
        let answers = [
            HostileServer.http(200, String(repeating: " ", count: 2_000)),
            Array(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "258\r\n\(chunk)\r\n", count: 4) + "0\r\n\r\n").utf8),
        ]
        for answer in answers {
            let server = try HostileServer { _ in answer }
            defer { server.stop() }
            do throws(HTTPFailure) {
                _ = try await HTTP1Client.exchange(.GET, server.baseURL + "/x", headers: [], body: nil, timeout: 30, maxBody: 1_024)
                Issue.record("no error")
            } catch {
                #expect(error.kind == .body && error.detail.hasPrefix("the response body is over"), "\(error)")
            }
        }
    }
}
