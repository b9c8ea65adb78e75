import Foundation
import JSONCore

/// `POST /oauth/token` (and its aliases): OAuth2 client credentials, from Basic auth or the body
/// (form or JSON). Grants the requested scopes the client is allowed, or all of them.
struct TokenEndpoint {
    let tenant: Tenant
    static let paths = ["/oauth/token", "/oauth2/token", "/api/v2/oauth/token"]

    var routes: [Route] {
        Self.paths.map { Route(method: .post, pattern: $0, access: .token, handler: issue) }
    }

    private func issue(_ request: APIRequest) async throws(APIFailure) -> APIResponse {
        let params = try parameters(request)
        guard params["grant_type"] == "client_credentials" else {
            throw APIFailure(status: .badRequest, error: "unsupported_grant_type", message: "grant_type must be client_credentials")
        }
        var id = params["client_id"], secret = params["client_secret"]
        if let (basicID, basicSecret) = basicCredentials(request.header("Authorization")) {
            id = basicID
            secret = basicSecret
        }
        guard let id, let secret, let client = tenant.clients[id], client.secret == secret else {
            throw APIFailure(status: .unauthorized, error: "invalid_client", message: "unknown client or wrong secret",
                             headers: ["WWW-Authenticate": "Basic"])
        }
        let requested = (params["scope"] ?? "").split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        let granted = requested.isEmpty ? client.scopes.sorted() : requested.filter(client.scopes.contains)
        guard !granted.isEmpty else {
            throw APIFailure(status: .badRequest, error: "invalid_scope",
                             message: "none of the requested scopes (\(requested.joined(separator: " "))) is allowed for this client")
        }
        let token = Self.newToken()
        let ttl = tenant.configuration.tokenTTL
        do {
            try tenant.store.saveToken(token, clientID: id, scopes: granted, expiresAt: Date().timeIntervalSince1970 + ttl)
        } catch {
            throw .internalError("could not store the token: \(error)")
        }
        return APIResponse(body: [
            "access_token": .string(token), "token_type": "Bearer", "expires_in": .int(Int64(ttl)),
            "scope": .string(granted.joined(separator: " ")),
        ])
    }

    private func parameters(_ request: APIRequest) throws(APIFailure) -> [String: String] {
        guard !request.body.isEmpty else { return [:] }
        let contentType = request.header("Content-Type") ?? ""
        if contentType.contains("json") {
            var out: [String: String] = [:]
            for (k, v) in try request.jsonObject() {
                if let s = v.stringValue { out[k] = s } else if case .array(let items) = v {
                    out[k] = items.compactMap(\.stringValue).joined(separator: " ")
                }
            }
            return out
        }
        return Self.formDecode(String(decoding: request.body, as: UTF8.self))
    }

    static func formDecode(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if let key = kv.first { out[key] = kv.count > 1 ? kv[1] : "" }
        }
        return out
    }

    private func basicCredentials(_ header: String?) -> (String, String)? {
        guard let header, let rest = header[...].afterPrefix(ignoringCase: "basic "),
            let data = Data(base64Encoded: String(rest.withoutOptionalWhitespace))
        else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let decode = { (s: Substring) in s.removingPercentEncoding ?? String(s) }
        return (decode(text[..<colon]), decode(text[text.index(after: colon)...]))
    }

    private static func newToken() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(rng.next() as UInt64, radix: 16) }.joined()
    }
}
