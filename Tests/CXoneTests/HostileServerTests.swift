@testable import CXone
import Foundation
import JSONCore
import TestSupport
import Testing

/// A broken or hostile server gets a clear, typed error: never a crash, a hang or a smuggled header.
@Suite("CXone client against a hostile server")
struct HostileServerTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var respond: @Sendable (HostileServer.Request) -> [UInt8]
        var kind: APIError.Kind
        var message: String
        /// Reads a queue unless told otherwise.
        var call: @Sendable (CXoneClient) async throws(APIError) -> Void = { client async throws(APIError) in _ = try await client.queue("q1") }
        /// Seconds the server keeps trickling after its reply (see `HostileServer`).
        var trickle = 0.0
        var testDescription: String { name }
    }

    static func http(_ status: Int, _ body: String, _ headers: [String]) -> [UInt8] { HostileServer.http(status, body, headers: headers) }

    static let cases: [Case] = [
        Case(name: "not JSON", respond: HostileServer.withToken { _ in http(200, "<html>oops</html>", []) },
             kind: .unavailable, message: "malformed JSON"),
        Case(name: "JSON nested 100,000 deep", respond: HostileServer.withToken { _ in http(200, String(repeating: "[", count: 100_000), []) },
             kind: .unavailable, message: "deeper than 512"),
        Case(name: "a body over 16 MiB", respond: HostileServer.withToken { _ in HostileServer.http(200, [UInt8](repeating: 0x20, count: 17 << 20)) },
             kind: .network, message: "reading the response failed"),
        Case(name: "not HTTP at all", respond: HostileServer.withToken { _ in Array("SSH-2.0-OpenSSH_9.2\r\n\r\n".utf8) },
             kind: .network, message: "failed"),
        Case(name: "a body cut short", respond: HostileServer.withToken { _ in Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"id\"".utf8) },
             kind: .network, message: "stream ended"),
        Case(name: "a body that trickles for 30 s", respond: HostileServer.withToken { _ in
                 Array("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{".utf8)
             },
             kind: .timeout, message: "timed out", trickle: 30),
        Case(name: "a document with invalid UTF-8",
             respond: HostileServer.withToken { _ in HostileServer.http(200, Array(#"{"id":"q1","version":1,"description":"caf"#.utf8) + [0xE9] + Array(#""}"#.utf8)) },
             kind: .unavailable, message: "malformed JSON: invalid JSON: invalid UTF-8 in the string at byte 38"),
        Case(name: "a document giving a field twice",
             respond: HostileServer.withToken { _ in http(200, #"{"id":"q1","version":1,"maxWaitTime":300,"maxWaitTime":3000}"#, []) },
             kind: .unavailable, message: #"malformed JSON: invalid JSON: the key "maxWaitTime" is given twice"#),
        Case(name: "an array for a document", respond: HostileServer.withToken { _ in http(200, "[1,2]", []) },
             kind: .unavailable, message: "answered queue q1 with array, not a JSON object"),
        Case(name: "another queue's document", respond: HostileServer.withToken { _ in http(200, #"{"id":"q2\u001b[2J","version":1}"#, []) },
             kind: .unavailable, message: "answered queue q1 with queue q2 [2J"),
        Case(name: "paging that never ends", respond: HostileServer.withToken { _ in
                 let item = #"{"id":"q"}"#
                 return http(200, #"{"totalPages":1000000000,"data":["# + Array(repeating: item, count: 5_000).joined(separator: ",") + "]}", [])
             },
             kind: .unavailable, message: "more than 200000 items", call: { client async throws(APIError) in _ = try await client.queues() }),
        Case(name: "list items that are not objects", respond: HostileServer.withToken { _ in http(200, #"{"data":[1,"two",null]}"#, []) },
             kind: .unavailable, message: "not objects", call: { client async throws(APIError) in _ = try await client.skills() }),
        Case(name: "an error with no body", respond: HostileServer.withToken { _ in http(400, "", []) },
             kind: .badRequest, message: "the server gave no reason"),
        Case(name: "an error page that is not JSON", respond: HostileServer.withToken { _ in http(404, "\n  Not Found: /api/v2/x \n<hr>\n", []) },
             kind: .notFound, message: "the server answered: Not Found: /api/v2/x"),
        Case(name: "Retry-After: inf", respond: HostileServer.withToken { _ in http(429, "{}", ["Retry-After: inf"]) },
             kind: .rateLimited, message: "the server gave no reason"),
        Case(name: "Retry-After: 1e300", respond: HostileServer.withToken { _ in http(429, "{}", ["Retry-After: 1e300"]) },
             kind: .rateLimited, message: "the server gave no reason"),
        Case(name: "a token endpoint with Retry-After: 1e300", respond: { _ in http(429, "{}", ["Retry-After: 1e300"]) },
             kind: .rateLimited, message: "the server gave no reason"),
        Case(name: "a token that smuggles a header", respond: { _ in http(200, #"{"access_token":"abc\r\nX-Evil: 1","expires_in":60}"#, []) },
             kind: .unauthorized, message: "malformed access_token"),
        Case(name: "an error message with terminal escapes, 5,000 long",
             respond: HostileServer.withToken { _ in http(400, #"{"message":"\u001b[31mred\u001b[0m"# + String(repeating: "x", count: 5_000) + #""}"#, []) },
             kind: .badRequest, message: " [31mred [0mxxx"),
    ]

    static func client(_ server: HostileServer) -> CXoneClient {
        var endpoint = TenantEndpoint(baseURL: server.baseURL, clientID: "c", clientSecret: "hostile-test-secret")
        endpoint.retry.maxAttempts = 2
        endpoint.retry.baseDelay = 0.01
        endpoint.retry.maxDelay = 0.02
        endpoint.requestTimeout = 1
        return CXoneClient(endpoint: endpoint)
    }

    @Test(arguments: cases)
    func aHostileAnswerIsATypedError(_ c: Case) async throws {
        let server = try HostileServer(trickle: c.trickle, respond: c.respond)
        defer { server.stop() }
        do throws(APIError) {
            try await c.call(Self.client(server))
            Issue.record("\(c.name): no error")
        } catch {
            #expect(error.kind == c.kind, "\(c.name): \(error)")
            #expect(error.message.contains(c.message), "\(c.name): \(error.message.prefix(300))")
            #expect(!error.message.unicodeScalars.contains { $0.properties.generalCategory == .control }, "\(c.name): control characters reach the message")
            #expect(error.message.count <= 1_200, "\(c.name): message of \(error.message.count) characters")
        }
        // It gave up after a bounded number of requests (2 attempts, or 40 pages of 5,000 items), not
        // by outlasting the server; a trickled body ends as a timeout, not as a read once it stops.
        #expect(server.requests.count <= 45, "\(c.name): \(server.requests.count) requests")
        // Nothing reached the API with a header the server made up.
        #expect(server.requests.allSatisfy { !$0.path.contains("\r") })
    }

    /// A server that takes each request and closes without answering: a write sent that way may
    /// have applied, retried (idempotent) or not, and the error says so; a read is just an error.
    @Test func aWriteNeverAnsweredHasAnUnknownOutcome() async throws {
        let server = try HostileServer(respond: HostileServer.withToken { _ in [] })
        defer { server.stop() }
        let client = Self.client(server)
        do throws(APIError) {
            _ = try await client.setStatus("u1", ["status": "available"])
            Issue.record("no error")
        } catch {
            #expect(error.outcomeUnknown && error.message.contains("may have been applied"), "\(error)")
        }
        #expect(server.requests.filter { $0.method == "PUT" }.count == 2, "retried once (idempotent): \(server.requests)")
        do throws(APIError) {
            _ = try await client.putQueue("q1", ["id": "q1", "version": 1], ifMatch: 1)
            Issue.record("no error")
        } catch {
            #expect(error.outcomeUnknown, "sent once, never retried: \(error)")
        }
        do throws(APIError) {
            _ = try await client.queue("q1")
            Issue.record("no error")
        } catch {
            #expect(!error.outcomeUnknown, "a read changes nothing: \(error)")
        }
    }

    @Test func aWebhookReceiverThatAnswersPlainTextGetsOneDelivery() async throws {
        let server = try HostileServer { _ in
            Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK".utf8)
        }
        defer { server.stop() }
        let outcome = await WebhookSender().deliver(url: server.baseURL + "/hook", secret: "k-123456", deliveryID: "d1", body: ["a": 1],
                                                    stats: TransportStats())
        #expect(outcome == WebhookOutcome(delivered: true, attempts: 1, httpStatus: 200))
        #expect(server.requests.count == 1, "a 200 is not retried, whatever its body")
    }

    @Test func aFailingWebhookReceiversTextIsMadePrintable() async throws {
        let server = try HostileServer { _ in
            Array("HTTP/1.1 400 Bad\r\nContent-Type: text/plain\r\nContent-Length: 8\r\nConnection: close\r\n\r\n\u{1b}[2Jnope".utf8)
        }
        defer { server.stop() }
        let outcome = await WebhookSender().deliver(url: server.baseURL + "/hook", secret: "k-123456", deliveryID: "d1", body: ["a": 1],
                                                    stats: TransportStats())
        #expect(outcome == WebhookOutcome(delivered: false, attempts: 1, httpStatus: 400, error: " [2Jnope"))
    }
}
