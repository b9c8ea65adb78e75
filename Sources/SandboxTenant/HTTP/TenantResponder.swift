import Foundation
import HTTPTypes
import Hummingbird
import JSONCore
import NIOCore

/// The request context: Hummingbird's core context plus the channel (to reset connections).
struct TenantContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Serves every request: routing, then auth, rate limit and injected faults for API routes,
/// then the handler; every request lands in the request log.
struct TenantResponder: HTTPResponder {
    typealias Context = TenantContext
    let tenant: Tenant
    let routes: [Route]
    static let maxBody = 1 << 20

    init(tenant: Tenant) {
        self.tenant = tenant
        self.routes = tenant.routes
    }

    func respond(to request: Request, context: TenantContext) async throws -> Response {
        let started = Date()
        let path = request.uri.path
        var clientID: String?
        var fault: String?
        let response: Response
        do {
            let (route, parameters) = try match(request.method, path)
            var api = APIRequest(
                method: request.method, path: path, parameters: parameters, query: query(request), headers: request.headers,
                body: [], clientID: nil)
            if case .control = route.access {} else {
                let isWrite: Bool
                if case .api = route.access { isWrite = request.method != .get && request.method != .head } else { isWrite = false }
                await tenant.faults.holdIfAsked(write: isWrite)
                let (latency, outcome) = tenant.faults.draw(write: isWrite)
                if latency > 0 { try? await Task.sleep(for: .seconds(latency)) }
                switch outcome {
                case .proceed: break
                case .status(let code):
                    fault = "status\(code)"
                    throw APIFailure(
                        status: .init(code: code), error: code == 429 ? "rate_limited" : "unavailable", message: "injected fault (\(code))",
                        headers: code == 429 ? ["Retry-After": "1"] : [:])
                case .reset:
                    fault = "reset"
                    try await resetConnection(context, request: request, api: &api, route: route)
                }
            }
            api.body = try await body(request)
            if case .api(let scopes) = route.access {
                clientID = try authorize(api, scopes: scopes)
                api.clientID = clientID
            }
            response = try render(try await route.handler(api))
        } catch let failure as APIFailure {
            response = render(failure)
        }
        let latency = Date().timeIntervalSince(started) * 1000
        tenant.requests.record(
            method: request.method.rawValue, path: path, status: response.status.code, latencyMs: latency, clientID: clientID, fault: fault)
        return response
    }

    private func match(_ method: HTTPRequest.Method, _ path: String) throws(APIFailure) -> (Route, [String: String]) {
        var pathMatched = false
        let segments = path.pieces(separatedBy: UInt8(ascii: "/"))
        for route in routes {
            guard let parameters = route.match(segments) else { continue }
            pathMatched = true
            if route.method == method { return (route, parameters) }
        }
        if pathMatched { throw APIFailure(status: .methodNotAllowed, error: "method_not_allowed", message: "\(method) is not allowed on \(path)") }
        throw .notFound("no such endpoint: \(method) \(path)")
    }

    private func authorize(_ request: APIRequest, scopes: Set<String>) throws(APIFailure) -> String {
        guard let header = request.header("Authorization"), let rest = header[...].afterPrefix(ignoringCase: "bearer ") else {
            throw .unauthorized("a bearer token is required")
        }
        let token = String(rest.withoutOptionalWhitespace)
        let record: TenantStore.TokenRecord?
        do { record = try tenant.store.token(token) } catch { throw .internalError("\(error)") }
        guard let record else { throw .unauthorized("unknown bearer token") }
        guard record.expiresAt > Date().timeIntervalSince1970 else { throw .unauthorized("the bearer token has expired") }
        if let wait = tenant.limiter.take(record.clientID) {
            throw APIFailure(status: .tooManyRequests, error: "rate_limited", message: "rate limit exceeded for client \(record.clientID)",
                             headers: ["Retry-After": String(max(1, Int(wait.rounded(.up))))])
        }
        guard !record.scopes.isDisjoint(with: scopes) else {
            throw APIFailure(status: .forbidden, error: "forbidden",
                             message: "missing scope: this endpoint needs one of \(scopes.sorted().joined(separator: ", "))",
                             extra: ["requiredScopes": .array(scopes.sorted().map(JSONValue.string))])
        }
        return record.clientID
    }

    /// A connection reset, half of the time after the request was applied (its outcome unknown to the client).
    private func resetConnection(_ context: TenantContext, request: Request, api: inout APIRequest, route: Route) async throws {
        if tenant.faults.roll(\.reset).value < 0.5 || route.method == .get {
            api.body = try await body(request)
            if case .api(let scopes) = route.access, let id = try? authorize(api, scopes: scopes) {
                api.clientID = id
                _ = try? await route.handler(api)
            }
        }
        try? await context.channel.close(mode: .all).get()
        throw CancellationError()
    }

    private func body(_ request: Request) async throws(APIFailure) -> [UInt8] {
        do {
            let buffer = try await request.body.collect(upTo: Self.maxBody)
            return Array(buffer.readableBytesView)
        } catch {
            throw APIFailure(status: .contentTooLarge, error: "too_large", message: "request bodies are limited to \(Self.maxBody) bytes")
        }
    }

    private func query(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { out[String(key)] = String(value) }
        return out
    }

    private func render(_ response: APIResponse) throws -> Response {
        let bytes = response.encodedBody.map { Array($0.utf8) } ?? ((try? response.body.jsonBytes()) ?? Array("null".utf8))
        return make(response.status, bytes, response.headers)
    }

    private func render(_ failure: APIFailure) -> Response {
        make(failure.status, ((try? failure.body.jsonBytes()) ?? []), failure.headers)
    }

    /// A response with `bytes` as its body: JSON unless `extra` names another Content-Type.
    private func make(_ status: HTTPResponse.Status, _ bytes: [UInt8], _ extra: [String: String]) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        for (name, value) in extra {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
