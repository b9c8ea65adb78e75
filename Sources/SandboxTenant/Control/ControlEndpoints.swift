import CXShared
import Foundation
import JSONCore

/// The control plane under `/_sim/`, and the OpenAPI document.
struct ControlEndpoints {
    let tenant: Tenant

    var routes: [Route] {
        [
            Route(method: .get, pattern: "/openapi.yaml", access: .control, handler: openAPI),
            Route(method: .get, pattern: "/_sim/faults", access: .control, handler: getFaults),
            Route(method: .put, pattern: "/_sim/faults", access: .control, handler: putFaults),
            Route(method: .post, pattern: "/_sim/reset", access: .control, handler: reset),
            Route(method: .get, pattern: "/_sim/clock", access: .control, handler: getClock),
            Route(method: .put, pattern: "/_sim/clock", access: .control, handler: putClock),
            Route(method: .post, pattern: "/_sim/queues/{id}/edit", access: .control, handler: edit),
            Route(method: .post, pattern: "/_sim/webhooks/{name}", access: .control, handler: receiveWebhook),
            Route(method: .get, pattern: "/_sim/webhooks", access: .control, handler: listWebhooks),
            Route(method: .get, pattern: "/_sim/requests", access: .control, handler: listRequests),
        ]
    }

    private func openAPI(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        guard let text = OpenAPIDocument.text else { throw .internalError("the OpenAPI document is missing from this build") }
        return APIResponse(body: .null, headers: ["Content-Type": "application/yaml"], encodedBody: text)
    }

    private func getFaults(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        // With what the faults are doing now: status changes and writes held in flight.
        APIResponse(body: tenant.faults.faults.json
            .setting(.int(Int64(tenant.statusChanges.withLock { $0 })), at: ["statusChangesInFlight"])
            .setting(.int(Int64(tenant.faults.writesHeld)), at: ["writesHeld"]))
    }

    private func putFaults(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        switch Faults.from(try request.json()) {
        case .success(let faults):
            tenant.faults.set(faults)
            return APIResponse(body: faults.json)
        case .failure(let error):
            throw .badRequest(error.description)
        }
    }

    private func reset(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        do {
            try tenant.store.reset(seed: tenant.configuration.seed)
        } catch {
            throw .internalError("reset failed: \(error)")
        }
        tenant.requests.clear()
        return APIResponse(body: ["reset": true, "seed": .int(Int64(bitPattern: tenant.configuration.seed))])
    }

    private func clockBody() -> JSONValue {
        // To the millisecond: a client that sets its own clock from it (a test harness) would
        // otherwise be up to a second behind, and a clock pinned at 03:00:00 read as 02:59:59.
        let format = ISO8601DateFormatter()
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return ["now": .string(format.string(from: tenant.clock.now())), "pinned": .bool(tenant.clock.isPinned)]
    }

    private func getClock(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        APIResponse(body: clockBody())
    }

    /// `{"now": "2026-01-05T12:00:00Z"}` pins the clock there; `{"now": null}` follows the real clock again.
    private func putClock(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        let body = try request.jsonObject()
        switch body["now"] {
        case .null?:
            tenant.clock.set(nil)
        case .string(let text)?:
            guard let date = SimClock.parse(text) else { throw .badRequest("now must be an ISO 8601 time such as 2026-01-05T12:00:00Z, got '\(text)'") }
            tenant.clock.set(date)
        default:
            throw .badRequest("the body must be {\"now\": \"2026-01-05T12:00:00Z\"} or {\"now\": null}")
        }
        return APIResponse(body: clockBody())
    }

    /// Another admin's edit: a JSON merge patch applied without a version check (bumps the version).
    private func edit(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        var patch = try request.jsonObject()
        patch["id"] = nil
        patch["version"] = nil
        let merge = JSONValue.object(patch)
        do {
            return .encoded(try tenant.store.writeQueue(request.parameters["id"] ?? "", precondition: .none, edit: .transform {
                $0.mergePatched(with: merge)
            }))
        } catch {
            throw .from(error, what: "queue")
        }
    }

    /// The webhook sink: verifies the signature, records the delivery, answers 200 or 401.
    private func receiveWebhook(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        let name = request.parameters["name"] ?? ""
        guard let secret = tenant.configuration.webhookSecrets[name] else { throw .notFound("no webhook sink named '\(name)'") }
        if tenant.faults.roll(\.webhook500).hit {
            throw APIFailure(status: .internalServerError, error: "internal", message: "injected webhook sink failure")
        }
        let verdict = WebhookSignature.verify(
            header: request.header(WebhookSignature.signatureHeader), body: request.body, secret: secret,
            now: Int(Date().timeIntervalSince1970))
        let delivery: JSONValue = [
            "name": .string(name),
            "deliveryId": request.header(WebhookSignature.deliveryHeader).map(JSONValue.string) ?? .null,
            "verified": .bool(verdict == .valid),
            "verdict": .string(verdict.rawValue),
            "receivedAt": .double(Date().timeIntervalSince1970),
            "body": (try? JSONValue.parse(Data(request.body))) ?? .string(String(decoding: request.body, as: UTF8.self)),
        ]
        do { try tenant.store.addDelivery(delivery) } catch { throw .internalError("\(error)") }
        guard verdict == .valid else {
            throw APIFailure(status: .unauthorized, error: "invalid_signature", message: "signature \(verdict.rawValue)")
        }
        return APIResponse(body: ["received": true, "deliveryId": delivery["deliveryId"] ?? .null])
    }

    private func listWebhooks(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        do {
            var deliveries = try tenant.store.deliveries()
            if let name = request.query["name"] { deliveries = deliveries.filter { $0["name"]?.stringValue == name } }
            return APIResponse(body: ["deliveries": .array(deliveries)])
        } catch {
            throw .internalError("\(error)")
        }
    }

    private func listRequests(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        let since = Int(request.query["since"] ?? "0") ?? 0
        let limit = try request.positiveQuery("limit", default: 1000, max: 5000)
        return APIResponse(body: ["requests": .array(tenant.requests.entries(since: since, limit: limit).map(\.json))])
    }
}

/// The OpenAPI document shipped with the tenant.
enum OpenAPIDocument {
    static let text: String? = Bundle.module.url(forResource: "openapi", withExtension: "yaml")
        .flatMap { try? String(contentsOf: $0, encoding: .utf8) }
}
