import Foundation
import JSONCore

/// Skills, users, agent status and routing profiles.
struct DirectoryEndpoints {
    let tenant: Tenant
    static let skillRead: Set<String> = ["routing:skill:view", "routing:skill:read"]
    static let userRead: Set<String> = ["users:read", "users:view", "user:read", "user:status:read", "user:status:write", "users:write"]
    static let statusWrite: Set<String> = ["user:status:write", "user:status:update"]
    static let profileWrite: Set<String> = ["users:write", "routing:queue:write", "routing:queue:update"]

    var routes: [Route] {
        [
            Route(method: .get, pattern: "/api/v2/routing/skills", access: .api(anyOf: Self.skillRead), handler: skills),
            Route(method: .get, pattern: "/api/v2/routing/profiles", access: .api(anyOf: Self.userRead.union(Self.profileWrite)), handler: profiles),
            Route(method: .get, pattern: "/api/v2/users", access: .api(anyOf: Self.userRead), handler: users),
            Route(method: .get, pattern: "/api/v2/users/{id}", access: .api(anyOf: Self.userRead), handler: user),
            Route(method: .put, pattern: "/api/v2/users/{id}/status", access: .api(anyOf: Self.statusWrite), handler: setStatus),
            Route(method: .put, pattern: "/api/v2/routing/users/{id}/routing-profile", access: .api(anyOf: Self.profileWrite),
                  handler: setRoutingProfile),
        ]
    }

    private func skills(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        let (page, size) = try Paging.window(request)
        do {
            let (items, total) = try tenant.store.skillPage(offset: (page - 1) * size, limit: size)
            return .encoded(Paging.body(encoded: items, page: page, size: size, total: total))
        } catch {
            throw .internalError("\(error)")
        }
    }

    /// The routing profiles a reassignment may name (fixed for the tenant).
    private func profiles(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        let (page, size) = try Paging.window(request)
        let all = DemoData.routingProfiles
        let items = Array(all.dropFirst(min((page - 1) * size, all.count)).prefix(size))
        return .encoded(Paging.body(items, page: page, size: size, total: all.count))
    }

    /// One page, filtered and paged in SQL: a page of 50,000 agents costs what a page of 300 does.
    private func users(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        let (page, size) = try Paging.window(request)
        do {
            let (items, total) = try tenant.store.userPage(queueID: request.query["queueId"], status: request.query["status"],
                                                           offset: (page - 1) * size, limit: size)
            let now = tenant.clock.seconds
            return .encoded(Paging.body(items.map { Self.view($0, now: now) }, page: page, size: size, total: total))
        } catch {
            throw .internalError("\(error)")
        }
    }

    private func user(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        let id = request.parameters["id"] ?? ""
        let found: JSONValue?
        do { found = try tenant.store.user(id) } catch { throw .internalError("\(error)") }
        guard let found else { throw .notFound("user \(id) not found") }
        return APIResponse(body: Self.view(found, now: tenant.clock.seconds))
    }

    private func setStatus(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        // Seed 004: the tenant takes so many status changes at once; one more is a 409.
        let limit = tenant.configuration.statusChangeLimit
        let admitted = tenant.statusChanges.withLock { n -> Int? in
            guard n < limit else { return nil }
            n += 1
            return n
        }
        guard admitted != nil else {
            throw .conflict("concurrent status change limit reached (\(limit) in flight); try again shortly", extra: ["limit": .int(Int64(limit))])
        }
        defer { tenant.statusChanges.withLock { $0 -= 1 } }
        let hold = tenant.faults.faults.statusChangeHoldMs
        if hold > 0 {
            let until = Date().addingTimeInterval(hold / 1000)
            await waitWhileHeld { Date() < until && tenant.faults.faults.statusChangeHoldMs > 0 }
        }
        let body = try request.jsonObject()
        var errors: [FieldError] = []
        let status = body["status"]?.stringValue
        if status == nil || !DemoData.statuses.contains(status!) {
            errors.append(FieldError(path: "status", code: "enum", message: "status must be one of \(DemoData.statuses.joined(separator: ", "))"))
        }
        let pauseReason = body["pauseReason"]?.stringValue
        if let pauseReason, !DemoData.pauseReasons.contains(pauseReason) {
            errors.append(FieldError(path: "pauseReason", code: "enum",
                                     message: "pauseReason must be one of \(DemoData.pauseReasons.joined(separator: ", "))"))
        }
        if status == "Break" && pauseReason == nil {
            errors.append(FieldError(path: "pauseReason", code: "required", message: "Break needs a pauseReason"))
        }
        if let code = body["wrapUpCode"], code != .null, code.stringValue == nil {
            errors.append(FieldError(path: "wrapUpCode", code: "type", message: "wrapUpCode must be a string"))
        }
        // The directive flags are booleans: anything else would be stored and break the user's own schema.
        if let flags = body["directiveFlags"], flags != .null {
            if let object = flags.objectValue {
                for key in ["respectWrapUp", "autoAvailable"] {
                    guard let value = object[key], value != .null else { continue }
                    if case .bool = value { continue }
                    errors.append(FieldError(path: "directiveFlags.\(key)", code: "type", message: "directiveFlags.\(key) must be true or false"))
                }
            } else {
                errors.append(FieldError(path: "directiveFlags", code: "type", message: "directiveFlags must be an object"))
            }
        }
        guard errors.isEmpty, let status else { throw .badRequest(errors.map(\.message).joined(separator: "; "), errors: errors) }
        let respectWrapUp = body["directiveFlags"]?["respectWrapUp"]?.boolValue ?? true
        let autoAvailable = body["directiveFlags"]?["autoAvailable"]?.boolValue ?? false
        let wrapUpCode = body["wrapUpCode"] ?? .null
        let now = tenant.clock.seconds
        let id = request.parameters["id"] ?? ""
        do {
            let updated = try tenant.store.updateUser(id) { current in
                if respectWrapUp, let until = current["wrapUpUntil"]?.doubleValue, until > now {
                    // Available with autoAvailable: the agent becomes Available when wrap-up ends (seed 004).
                    guard autoAvailable && status == "Available" else { throw WrapUpActive(until: until) }
                    var fields = current.objectValue ?? [:]
                    fields["autoAvailable"] = true
                    return .object(fields)
                }
                var fields = current.objectValue ?? [:]
                fields["previousStatus"] = fields["status"] ?? .null
                fields["status"] = .string(status)
                fields["pauseReason"] = status == "Break" ? .string(pauseReason ?? "") : .null
                fields["wrapUpCode"] = wrapUpCode
                fields["autoAvailable"] = .bool(autoAvailable)
                fields["wrapUpUntil"] = .null
                fields["statusUpdatedAt"] = .double(now)
                return .object(fields)
            }
            return APIResponse(body: [
                "userId": .string(id), "status": updated["status"] ?? .null, "pauseReason": updated["pauseReason"] ?? .null,
                "wrapUpCode": updated["wrapUpCode"] ?? .null, "previousStatus": updated["previousStatus"] ?? .null,
                "updatedAt": .string(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: now))),
            ])
        } catch let error as WrapUpActive {
            throw .conflict(
                "wrap-up is active until \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: error.until))); the status change was blocked (respectWrapUp)",
                extra: ["wrapUpUntil": .double(error.until)])
        } catch let error as StoreError {
            throw .from(error, what: "user")
        } catch {
            throw .internalError("\(error)")
        }
    }

    private struct WrapUpActive: Error { let until: Double }

    private func setRoutingProfile(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        let body = try request.jsonObject()
        var errors: [FieldError] = []
        var queueIDs: [String]?
        if let raw = body["queueIds"], raw != .null {
            guard let items = raw.arrayValue else { throw .badRequest("queueIds must be an array of queue ids") }
            queueIDs = []
            for (i, item) in items.enumerated() {
                guard let q = item.stringValue, (try? tenant.store.queueJSON(q)) ?? nil != nil else {
                    errors.append(FieldError(path: "queueIds[\(i)]", code: "not_found", message: "queue \(item.jsonString()) does not exist"))
                    continue
                }
                queueIDs?.append(q)
            }
        }
        var status: String?
        if let raw = body["status"]?.stringValue {
            status = DemoData.statuses.first { $0.lowercased() == raw.lowercased() }
            if status == nil { errors.append(FieldError(path: "status", code: "enum", message: "unknown status '\(raw)'")) }
        }
        if let raw = body["status"], raw != .null, raw.stringValue == nil {
            errors.append(FieldError(path: "status", code: "type", message: "status must be a string"))
        }
        let profile = body["routingProfileId"]?.stringValue
        if let raw = body["routingProfileId"], raw != .null, profile?.isEmpty ?? true {
            errors.append(FieldError(path: "routingProfileId", code: "type", message: "routingProfileId must be a non-empty string"))
        } else if let profile, !DemoData.routingProfiles.contains(where: { $0["id"]?.stringValue == profile }) {
            errors.append(FieldError(path: "routingProfileId", code: "not_found", message: "routing profile \(JSONValue.string(profile).jsonString()) does not exist"))
        }
        guard errors.isEmpty else { throw .badRequest(errors.map(\.message).joined(separator: "; "), errors: errors) }
        let (newQueues, newStatus) = (queueIDs, status)
        do {
            let updated = try tenant.store.updateUser(request.parameters["id"] ?? "") { current in
                var fields = current.objectValue ?? [:]
                if let newQueues { fields["queueIds"] = .array(newQueues.map(JSONValue.string)) }
                if let newStatus { fields["status"] = .string(newStatus) }
                if let profile { fields["routingProfileId"] = .string(profile) }
                return .object(fields)
            }
            return APIResponse(body: Self.view(updated, now: tenant.clock.seconds))
        } catch let error as StoreError {
            throw .from(error, what: "user")
        } catch {
            throw .internalError("\(error)")
        }
    }

    /// A user as the API shows it: the current (or next) shift as timestamps, and wrap-up state.
    static func view(_ user: JSONValue, now: Double) -> JSONValue {
        var fields = user.objectValue ?? [:]
        let (start, end) = Shift.window(user, now: now)
        var shift = user["shiftSchedule"]?.objectValue ?? [:]
        shift["start"] = .double(start)
        shift["end"] = .double(end)
        shift["onShift"] = .bool(start <= now && now < end)
        fields["shiftSchedule"] = .object(shift)
        let until = user["wrapUpUntil"]?.doubleValue ?? 0
        fields["wrapUp"] = ["active": .bool(until > now), "until": until > now ? .double(until) : .null]
        fields["wrapUpUntil"] = nil
        return .object(fields)
    }
}
