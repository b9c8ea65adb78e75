import Foundation
import JSONCore

/// Queues: list (paged), get, put (replace; `If-Match`), patch (merge; `If-Match` or body `version`).
struct QueueEndpoints {
    let tenant: Tenant
    static let read: Set<String> = ["routing:queue:view", "routing:queue:read", "routing:queue:update", "routing:queue:write"]
    static let write: Set<String> = ["routing:queue:update", "routing:queue:write"]

    var routes: [Route] {
        [
            Route(method: .get, pattern: "/api/v2/routing/queues", access: .api(anyOf: Self.read), handler: list),
            Route(method: .get, pattern: "/api/v2/routing/queues/{id}", access: .api(anyOf: Self.read), handler: get),
            Route(method: .put, pattern: "/api/v2/routing/queues/{id}", access: .api(anyOf: Self.write), handler: put),
            Route(method: .patch, pattern: "/api/v2/routing/queues/{id}", access: .api(anyOf: Self.write), handler: patch),
        ]
    }

    private func list(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        let (page, size) = try Paging.window(request)
        do {
            let (items, total) = try tenant.store.queuePage(offset: (page - 1) * size, limit: size)
            return .encoded(Paging.body(encoded: items, page: page, size: size, total: total))
        } catch {
            throw .internalError("\(error)")
        }
    }

    private func get(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        let id = request.parameters["id"] ?? ""
        let queue: String?
        do { queue = try tenant.store.queueJSON(id) } catch { throw .internalError("\(error)") }
        guard let queue else { throw .notFound("queue \(id) not found") }
        return .encoded(queue)
    }

    private func put(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        let body = JSONValue.object(try request.jsonObject())
        let precondition = try ifMatch(request)
        return try write(request.parameters["id"] ?? "", precondition: precondition, edit: .replace(body))
    }

    private func patch(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        var fields = try request.jsonObject()
        var precondition = try ifMatch(request)
        if case .none = precondition, let version = fields["version"], version != .null {
            guard let v = version.intValue else { throw .badRequest("version must be an integer") }
            precondition = .version(v)
        }
        fields["version"] = nil
        fields["id"] = nil
        let patch = JSONValue.object(fields)
        return try write(request.parameters["id"] ?? "", precondition: precondition, edit: .transform { $0.mergePatched(with: patch) })
    }

    private func write(_ id: String, precondition: TenantStore.Precondition, edit: TenantStore.QueueEdit) throws(APIFailure) -> APIResponse {
        ConcurrentEditor(tenant: tenant).maybeEdit(id)
        do {
            return .encoded(try tenant.store.writeQueue(id, precondition: precondition, edit: edit))
        } catch {
            throw .from(error, what: "queue")
        }
    }

    /// `If-Match: 3`, `"3"` or `W/"3"`.
    private func ifMatch(_ request: APIRequest) throws(APIFailure) -> TenantStore.Precondition {
        guard let raw = request.header("If-Match")?[...].withoutOptionalWhitespace, !raw.isEmpty else { return .none }
        var tag = raw.afterPrefix(ignoringCase: "W/") ?? raw
        if tag.count >= 2, tag.first == "\"", tag.last == "\"" { tag = tag.dropFirst().dropLast() }
        guard let version = Int64(tag) else { throw .badRequest("If-Match must be a queue version number, got '\(raw)'") }
        return .version(version)
    }
}

/// The fault that makes another admin change a queue just before an incoming write lands.
/// It edits the SLA target (a field runbooks rarely write), so merges can keep both changes.
struct ConcurrentEditor {
    let tenant: Tenant

    func maybeEdit(_ id: String) {
        let roll = tenant.faults.roll(\.concurrentEdit)
        guard roll.hit else { return }
        _ = try? tenant.store.writeQueue(id, precondition: .none, edit: .transform { current in
            let threshold = current.value(at: ["serviceLevelTarget", "threshold"])?.intValue ?? 80
            let delta: Int64 = roll.value < 0.5 ? -5 : 5
            let next = threshold + delta > 100 || threshold + delta < 0 ? threshold - delta : threshold + delta
            return current.setting(.int(next), at: ["serviceLevelTarget", "threshold"])
        })
    }
}
