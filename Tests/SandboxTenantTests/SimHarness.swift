import AsyncHTTPClient
import Foundation
import TestSupport
import JSONCore
import NIOCore
import NIOHTTP1

@testable import SandboxTenant

/// The clock tests pin the tenant at unless they say otherwise: 03:00 UTC, a quiet hour.
let pinnedNight = SimClock.parse("2026-01-05T03:00:00Z")

/// A sandbox tenant started for one test, on an ephemeral loopback port, with its own SQLite file.
final class Sim: StoppableServer {
    let server: SandboxServer
    let directory: String
    let databasePath: String

    static func start(_ configure: @Sendable (inout SandboxConfiguration) -> Void = { _ in }) async throws -> Sim {
        let dir = try temporaryFolder("sim")
        let db = dir + "/sandbox.sqlite"
        var configuration = testConfiguration(databasePath: db)
        configure(&configuration)
        return Sim(server: try await SandboxServer.start(configuration), directory: dir, databasePath: db)
    }

    /// How tests configure a tenant unless they say otherwise: no rate limit, the clock pinned at night.
    static func testConfiguration(databasePath: String) -> SandboxConfiguration {
        var configuration = SandboxConfiguration(databasePath: databasePath)
        configuration.rateLimit = 0
        configuration.clock = pinnedNight
        return configuration
    }

    init(server: SandboxServer, directory: String, databasePath: String) {
        self.server = server
        self.directory = directory
        self.databasePath = databasePath
    }

    func stop() async {
        await server.stop()
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// One HTTP exchange: status, headers, body text and (when JSON) the parsed body.
    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var text: String
        var json: JSONValue { (try? JSONValue.parse(text)) ?? .null }
    }

    func send(_ method: HTTPMethod, _ path: String, token: String? = nil, headers: [(String, String)] = [], json: JSONValue? = nil,
              body: String? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: server.baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: Array(try json.jsonData())))
        } else if let body {
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 8 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, text: String(buffer: bytes))
    }

    /// A token for the demo client (all scopes unless `scope` narrows them).
    func token(scope: String? = nil) async throws -> String {
        var form = "grant_type=client_credentials&client_id=cxrun-demo&client_secret=cxrun-demo-secret"
        if let scope { form += "&scope=\(scope.replacingOccurrences(of: " ", with: "+"))" }
        let reply = try await send(.POST, "/oauth/token", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: form)
        guard let token = reply.json["access_token"]?.stringValue else { throw SimTestError("no token: \(reply.text)") }
        return token
    }

    /// Every queue, through the paged list.
    func allQueues(token: String) async throws -> [JSONValue] {
        var out: [JSONValue] = []
        var page = 1
        while true {
            let reply = try await send(.GET, "/api/v2/routing/queues?page=\(page)&pageSize=10", token: token)
            out += reply.json["data"]?.arrayValue ?? []
            if page >= Int(reply.json["totalPages"]?.intValue ?? 0) { return out }
            page += 1
        }
    }
}

struct SimTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
