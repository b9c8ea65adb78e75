import Foundation
import JSONCore

/// `POST /api/v2/analytics/queues/summary/query`: per-queue metrics from the traffic model,
/// paged with `continuationToken`. Body: `{interval, select, where, size, continuationToken}`;
/// `where` takes `queue.id eq 'ID'` or `queue.id in ('A','B')`.
struct AnalyticsEndpoint {
    let tenant: Tenant
    static let scopes: Set<String> = ["analytics:queue:view", "analytics:queue:read"]

    var routes: [Route] {
        [Route(method: .post, pattern: "/api/v2/analytics/queues/summary/query", access: .api(anyOf: Self.scopes), handler: query)]
    }

    private func query(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        let body = try request.jsonObject()
        let interval = try Self.intervalSeconds(body["interval"]?.stringValue ?? "PT15M")
        let size = Int(body["size"]?.intValue ?? 25)
        guard (1...100).contains(size) else { throw .badRequest("size must be between 1 and 100") }
        var select = body["select"]?.arrayValue?.compactMap(\.stringValue) ?? TrafficModel.metricNames
        let unknown = select.filter { $0 != "queue.id" && $0 != "queue.name" && !TrafficModel.metricNames.contains($0) }
        guard unknown.isEmpty else {
            throw .badRequest("unknown metrics: \(unknown.joined(separator: ", ")); known: \(TrafficModel.metricNames.joined(separator: ", "))")
        }
        if !select.contains("queue.id") { select.insert("queue.id", at: 0) }
        let wanted = try Self.queueFilter(body["where"]?.stringValue)
        var offset = 0
        if let token = body["continuationToken"]?.stringValue {
            guard let decoded = Data(base64Encoded: token).map({ String(decoding: $0, as: UTF8.self) }),
                decoded.hasPrefix("offset:"), let n = Int(decoded.dropFirst(7)), n >= 0
            else { throw .badRequest("invalid continuationToken") }
            offset = n
        }
        let queues: [JSONValue], users: [JSONValue]
        do {
            // A query for some queues reads only them and their agents (one per queue is the common case).
            if let wanted, wanted.count <= 100 {
                queues = try tenant.store.queues(ids: wanted)
                users = try tenant.store.users(servingAnyOf: wanted)
            } else {
                queues = try tenant.store.allQueues().filter { q in wanted.map { $0.contains(q["id"]?.stringValue ?? "") } ?? true }
                users = try tenant.store.allUsers()
            }
        } catch {
            throw .internalError("\(error)")
        }
        let now = tenant.clock.now()
        let staffing = TrafficModel.staffing(users: users, now: now.timeIntervalSince1970)
        let page = queues.dropFirst(offset).prefix(size)
        let rows: [JSONValue] = page.map { queue in
            let id = queue["id"]?.stringValue ?? ""
            var all = tenant.traffic.metrics(queue: queue, staffed: staffing[id] ?? 0, at: now, intervalSeconds: interval).byName
            all["queue.id"] = .string(id)
            all["queue.name"] = queue["name"] ?? .null
            return .object(all.filter { select.contains($0.key) })
        }
        var response: [String: JSONValue] = ["data": .array(rows), "interval": body["interval"] ?? "PT15M"]
        if offset + size < queues.count {
            response["continuationToken"] = .string(Data("offset:\(offset + size)".utf8).base64EncodedString())
        }
        return APIResponse(body: .object(response))
    }

    /// `PT5M`, `PT1H30M`, `P1D`, or `start/end` in ISO-8601.
    static func intervalSeconds(_ text: String) throws(APIFailure) -> Double {
        if text.contains("/") {
            let parts = text.split(separator: "/").map(String.init)
            let f = ISO8601DateFormatter()
            guard parts.count == 2, let a = f.date(from: parts[0]), let b = f.date(from: parts[1]), b > a else {
                throw .badRequest("interval '\(text)' is not START/END in ISO-8601")
            }
            return b.timeIntervalSince(a)
        }
        var seconds = 0.0, number = "", inTime = false
        guard text.hasPrefix("P"), text.count > 1 else { throw .badRequest("interval '\(text)' is not an ISO-8601 duration like PT15M") }
        for c in text.dropFirst() {
            if c == "T" { inTime = true; continue }
            if c.isNumber || c == "." { number.append(c); continue }
            guard let n = Double(number) else { throw .badRequest("interval '\(text)' is not an ISO-8601 duration like PT15M") }
            switch (c, inTime) {
            case ("D", false): seconds += n * 86_400
            case ("W", false): seconds += n * 604_800
            case ("H", true): seconds += n * 3600
            case ("M", true): seconds += n * 60
            case ("S", true): seconds += n
            default: throw .badRequest("interval '\(text)' is not an ISO-8601 duration like PT15M")
            }
            number = ""
        }
        guard seconds > 0, number.isEmpty else { throw .badRequest("interval '\(text)' is not an ISO-8601 duration like PT15M") }
        return seconds
    }

    /// nil = every queue.
    static func queueFilter(_ clause: String?) throws(APIFailure) -> Set<String>? {
        guard let clause = clause?.trimmingCharacters(in: .whitespaces), !clause.isEmpty else { return nil }
        let ids = clause.split(separator: "'").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        let lower = clause.lowercased()
        guard lower.hasPrefix("queue.id"), !ids.isEmpty, lower.contains(" eq ") || lower.contains(" in ") else {
            throw .badRequest("where supports \"queue.id eq 'ID'\" and \"queue.id in ('A','B')\", got: \(clause)")
        }
        return Set(ids)
    }
}
