import Foundation
import JSONCore
import NIOHTTP1

/// The contact-center API: queues, skills, users, agent status, routing profiles, analytics.
/// Paging (page numbers, continuation tokens) is handled here.
public final class CXoneClient: Sendable {
    public let transport: Transport

    public init(endpoint: TenantEndpoint) {
        transport = Transport(endpoint: endpoint)
    }

    // MARK: queues

    public func queue(_ id: String) async throws(APIError) -> Sent<JSONValue> {
        let sent = try await transport.send(.GET, "/api/v2/routing/queues/\(try Self.segment(id))", idempotent: true)
        try Self.expectDocument(sent, "queue", id: id)
        return sent
    }

    public func queues() async throws(APIError) -> Sent<[JSONValue]> {
        try await pages("/api/v2/routing/queues")
    }

    /// Replaces a queue; `ifMatch` is the version the document was built from.
    public func putQueue(_ id: String, _ document: JSONValue, ifMatch: Int64?) async throws(APIError) -> Sent<JSONValue> {
        var body = document.objectValue ?? [:]
        body["version"] = nil
        return try await transport.send(.PUT, "/api/v2/routing/queues/\(try Self.segment(id))", body: .object(body),
                                        headers: ifMatch.map { [("If-Match", String($0))] } ?? [], idempotent: false)
    }

    /// Changes some fields of a queue (RFC 7396 merge patch); `ifMatch` is the version the
    /// changes were built from.
    public func patchQueue(_ id: String, _ patch: JSONValue, ifMatch: Int64?) async throws(APIError) -> Sent<JSONValue> {
        var body = patch.objectValue ?? [:]
        body["version"] = nil
        return try await transport.send(.PATCH, "/api/v2/routing/queues/\(try Self.segment(id))", body: .object(body),
                                        headers: ifMatch.map { [("If-Match", String($0))] } ?? [], idempotent: false)
    }

    // MARK: skills and users

    public func skills() async throws(APIError) -> Sent<[JSONValue]> {
        try await pages("/api/v2/routing/skills")
    }

    /// The tenant's routing profiles (`{id, name}` each), the ids a reassignment may name.
    public func routingProfiles() async throws(APIError) -> Sent<[JSONValue]> {
        try await pages("/api/v2/routing/profiles")
    }

    public func users(queueID: String? = nil, status: String? = nil) async throws(APIError) -> Sent<[JSONValue]> {
        var query: [String] = []
        if let queueID { query.append("queueId=\(Self.escape(queueID))") }
        if let status { query.append("status=\(Self.escape(status))") }
        return try await pages("/api/v2/users", query: query)
    }

    public func user(_ id: String) async throws(APIError) -> Sent<JSONValue> {
        let sent = try await transport.send(.GET, "/api/v2/users/\(try Self.segment(id))", idempotent: true)
        try Self.expectDocument(sent, "user", id: id)
        return sent
    }

    public func setStatus(_ userID: String, _ body: JSONValue) async throws(APIError) -> Sent<JSONValue> {
        // Setting the same status twice is harmless: safe to retry.
        try await transport.send(.PUT, "/api/v2/users/\(try Self.segment(userID))/status", body: body, idempotent: true)
    }

    public func setRoutingProfile(_ userID: String, _ body: JSONValue) async throws(APIError) -> Sent<JSONValue> {
        try await transport.send(.PUT, "/api/v2/routing/users/\(try Self.segment(userID))/routing-profile", body: body, idempotent: true)
    }

    // MARK: analytics

    /// Runs an analytics query and follows `continuationToken` to the end.
    public func analytics(_ query: JSONValue) async throws(APIError) -> Sent<[JSONValue]> {
        var rows: [JSONValue] = []
        var body = query
        var attempts = 0
        for _ in 0..<10_000 {
            let page = try await transport.send(.POST, "/api/v2/analytics/queues/summary/query", body: body, idempotent: true)
            attempts += page.attempts
            rows += try Self.items(page, of: "analytics", adding: rows.count)
            guard let next = page.value["continuationToken"]?.stringValue, !next.isEmpty else {
                return Sent(value: rows, status: page.status, attempts: attempts)
            }
            body = body.setting(.string(next), at: ["continuationToken"])
        }
        throw APIError(.unavailable, message: "analytics paging did not end")
    }

    // MARK: paging

    private func pages(_ path: String, query: [String] = []) async throws(APIError) -> Sent<[JSONValue]> {
        var items: [JSONValue] = []
        var attempts = 0
        var page = 1
        while page <= 10_000 {
            let suffix = (query + ["page=\(page)", "pageSize=100"]).joined(separator: "&")
            let reply = try await transport.send(.GET, "\(path)?\(suffix)", idempotent: true)
            attempts += reply.attempts
            guard reply.value["data"]?.arrayValue != nil else {
                throw APIError(.unavailable, status: reply.status, message: "\(path) answered without a data array")
            }
            let data = try Self.items(reply, of: path, adding: items.count)
            items += data
            let total = Int(reply.value["totalPages"]?.intValue ?? 1)
            if page >= total || data.isEmpty { return Sent(value: items, status: reply.status, attempts: attempts) }
            page += 1
        }
        throw APIError(.unavailable, message: "\(path) paging did not end")
    }

    /// More items than any tenant has: a server that keeps paging is broken or hostile.
    static let maxItems = 200_000

    /// A page's `data`: objects only, and not past `maxItems` in all.
    private static func items(_ page: Sent<JSONValue>, of what: String, adding count: Int) throws(APIError) -> [JSONValue] {
        let data = page.value["data"]?.arrayValue ?? []
        guard data.allSatisfy({ $0.objectValue != nil }) else {
            throw APIError(.unavailable, status: page.status, message: "\(what) answered with data items that are not objects")
        }
        guard count + data.count <= maxItems else {
            throw APIError(.unavailable, status: page.status, message: "\(what) answered with more than \(maxItems) items; stopped reading")
        }
        return data
    }

    /// A document read must be a JSON object, and not another one's.
    private static func expectDocument(_ sent: Sent<JSONValue>, _ kind: String, id: String) throws(APIError) {
        guard sent.value.objectValue != nil else {
            throw APIError(.unavailable, status: sent.status, message: "the server answered \(kind) \(id) with \(sent.value.typeName), not a JSON object")
        }
        if let other = sent.value["id"]?.stringValue, other != id {
            throw APIError(.unavailable, status: sent.status, message: "the server answered \(kind) \(id) with \(kind) \(APIError.printable(other))")
        }
    }

    static func escape(_ segment: String) -> String {
        PercentEncoding.encode(segment)
    }

    /// An id as one path segment of a request. An empty id, `.` or `..` is refused before
    /// anything is sent: as a segment it would name another resource once a proxy on the way
    /// normalizes the path (`/queues/..` is `/`), and percent-encoded dots may be decoded first.
    static func segment(_ id: String) throws(APIError) -> String {
        guard !id.isEmpty, id != ".", id != ".." else {
            throw APIError(.badRequest, message: "'\(id)' is not an id: as a path segment it would name another resource; nothing was sent")
        }
        return escape(id)
    }
}
