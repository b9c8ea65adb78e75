import Foundation
import HTTPTypes
import JSONCore

/// One request as a route handler sees it: matched path parameters, query, headers, body.
struct APIRequest: Sendable {
    var method: HTTPRequest.Method
    var path: String
    var parameters: [String: String]
    var query: [String: String]
    var headers: HTTPFields
    var body: [UInt8]
    /// The authenticated client (API routes only).
    var clientID: String?

    /// The body parsed as JSON (400 when it is not).
    func json() throws(APIFailure) -> JSONValue {
        guard !body.isEmpty else { throw .badRequest("the request body must be JSON") }
        do {
            return try JSONValue.parse(Data(body))
        } catch {
            throw .badRequest("the request body is \(error.description)")
        }
    }

    /// The body as a JSON object (400 otherwise).
    func jsonObject() throws(APIFailure) -> [String: JSONValue] {
        guard let object = try json().objectValue else { throw .badRequest("the request body must be a JSON object") }
        return object
    }

    func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }

    /// A positive integer query parameter, its default when absent, 400 when malformed.
    func positiveQuery(_ name: String, default value: Int, max: Int) throws(APIFailure) -> Int {
        guard let text = query[name] else { return value }
        guard let n = Int(text), n >= 1, n <= max else { throw .badRequest("\(name) must be an integer from 1 to \(max)") }
        return n
    }
}

/// A successful answer.
struct APIResponse: Sendable {
    var status: HTTPResponse.Status = .ok
    var body: JSONValue
    var headers: [String: String] = [:]
    /// A body already encoded (a stored document, a page spliced from them, the OpenAPI text),
    /// sent as it is instead of `body`: as JSON unless `headers` names another Content-Type.
    var encodedBody: String?

    /// JSON text sent as it is (a stored document, or a page of them).
    static func encoded(_ json: String) -> APIResponse { APIResponse(body: .null, encodedBody: json) }
}

/// An error answer: `{error, message, ...}` with a status.
struct APIFailure: Error, Sendable {
    var status: HTTPResponse.Status
    var body: JSONValue
    var headers: [String: String] = [:]

    init(status: HTTPResponse.Status, error: String, message: String, extra: [String: JSONValue] = [:], headers: [String: String] = [:]) {
        var fields = extra
        fields["error"] = .string(error)
        fields["message"] = .string(message)
        self.status = status
        self.body = .object(fields)
        self.headers = headers
    }

    static func badRequest(_ message: String, errors: [FieldError] = []) -> APIFailure {
        APIFailure(status: .badRequest, error: "invalid", message: message,
                   extra: errors.isEmpty ? [:] : ["errors": .array(errors.map(\.json))])
    }

    static func notFound(_ message: String) -> APIFailure {
        APIFailure(status: .notFound, error: "not_found", message: message)
    }

    static func conflict(_ message: String, extra: [String: JSONValue] = [:]) -> APIFailure {
        APIFailure(status: .conflict, error: "conflict", message: message, extra: extra)
    }

    static func unauthorized(_ message: String) -> APIFailure {
        APIFailure(status: .unauthorized, error: "unauthorized", message: message, headers: ["WWW-Authenticate": "Bearer"])
    }

    static func internalError(_ message: String) -> APIFailure {
        APIFailure(status: .internalServerError, error: "internal", message: message)
    }

    /// Maps a store error to its HTTP answer.
    static func from(_ error: StoreError, what: String) -> APIFailure {
        switch error {
        case .notFound(let id): return .notFound("\(what) \(id) not found")
        case .conflict(let current):
            return .conflict("version conflict: the \(what) is at version \(current)", extra: ["currentVersion": .int(current)])
        case .invalid(let errors):
            return .badRequest(errors.map(\.message).joined(separator: "; "), errors: errors)
        case .database(let message): return .internalError("database error: \(message)")
        }
    }
}
