import JSONCore

/// What went wrong talking to the API, as scripts see it (DESIGN.md §5).
public struct CXoneError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The error codes scripts branch on.
    public enum Code: String, Sendable {
        case invalid, not_found, conflict, unauthorized, forbidden, rate_limited, unavailable, timeout, network, sandbox
    }

    public var code: Code
    /// The HTTP status, when there was a response.
    public var status: Int?
    public var message: String
    /// The server's error body (e.g. `errors: [{path, code, message}]`) or other context.
    public var details: JSONValue?

    public init(_ code: Code, status: Int? = nil, message: String, details: JSONValue? = nil) {
        self.code = code
        self.status = status
        self.message = message
        self.details = details
    }

    public var description: String { "\(code.rawValue): \(message)" + (status.map { " (HTTP \($0))" } ?? "") }

    /// The table a script receives: `{code=, status=, message=, details=}`.
    public var json: JSONValue {
        var fields: [String: JSONValue] = ["code": .string(code.rawValue), "message": .string(message)]
        if let status { fields["status"] = .int(Int64(status)) }
        if let details { fields["details"] = details }
        return .object(fields)
    }

    /// Maps an HTTP error response to its code.
    public static func from(status: Int, body: JSONValue?) -> CXoneError {
        let message = (body?["message"]?.stringValue ?? body?["error_description"]?.stringValue ?? body?["error"]?.stringValue)
            .map(printable) ?? "HTTP \(status)"
        let code: Code
        switch status {
        case 400, 422: code = .invalid
        case 401: code = .unauthorized
        case 403: code = .forbidden
        case 404: code = .not_found
        case 409, 412: code = .conflict
        case 429: code = .rate_limited
        case 408, 504: code = .timeout
        default: code = .unavailable
        }
        return CXoneError(code, status: status, message: message, details: body)
    }

    /// A server's text made safe to print: control characters (terminal escapes among them)
    /// become spaces, and it is cut at 1,000 characters.
    static func printable(_ text: String) -> String {
        let limit = 1_000
        var out = String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit).map { scalar in
            scalar.properties.generalCategory == .control ? " " : scalar
        }))
        if text.unicodeScalars.count > limit { out += "…" }
        return out
    }
}
