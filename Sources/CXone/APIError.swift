import CXShared
import JSONCore

/// What went wrong talking to the API, at the HTTP level: the status, the server's error body
/// (with its field errors), the transport's cause, and whether a write may have been applied.
/// What a script sees is Runbook's business (its error table maps from this).
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// 400/422: the server refused the request's content.
        case badRequest
        case notFound, conflict, unauthorized, forbidden, rateLimited, unavailable, timeout
        /// No usable HTTP exchange (refused, reset, unreadable).
        case network
        /// The request could not even be built (a body JSON cannot hold).
        case invalidRequest
    }

    public var kind: Kind
    /// The HTTP status, when there was a response.
    public var status: Int?
    public var message: String
    /// The server's error body, e.g. `{message, errors: [{path, code, message}]}`.
    public var body: JSONValue?
    /// The transport's own error, for network failures.
    public var cause: String?
    /// How many times the request was sent.
    public var attempts = 1
    /// The request was sent and no answer says whether it applied (a timeout, a reset, a 500 on a write).
    public var outcomeUnknown = false

    public init(_ kind: Kind, status: Int? = nil, message: String, body: JSONValue? = nil, cause: String? = nil) {
        self.kind = kind
        self.status = status
        self.message = message
        self.body = body
        self.cause = cause
    }

    /// The server's field errors (`errors: [{path, code, message}]` of a 400).
    public var fieldErrors: [JSONValue] { body?["errors"]?.arrayValue ?? [] }

    public var description: String { "\(kind.rawValue): \(message)" + (status.map { " (HTTP \($0))" } ?? "") }

    /// Classifies an HTTP error response.
    public static func from(status: Int, body: JSONValue?) -> APIError {
        let message: String
        if let stated = body?["message"]?.stringValue ?? body?["error_description"]?.stringValue ?? body?["error"]?.stringValue {
            message = printable(stated)
        } else if case .string(let text)? = body, let line = text.split(whereSeparator: \.isNewline).first(where: { $0.contains { !$0.isWhitespace } }) {
            // Not JSON (a proxy's page, a plain-text error): its first line is still the best reason there is.
            let trimmed = line.drop(while: \.isWhitespace).prefix(200)
            message = "the server answered: " + printable(String(trimmed[..<(trimmed.lastIndex { !$0.isWhitespace }.map(trimmed.index(after:)) ?? trimmed.endIndex)]))
        } else {
            message = "the server gave no reason"
        }
        let kind: Kind
        switch status {
        case 400, 422: kind = .badRequest
        case 401: kind = .unauthorized
        case 403: kind = .forbidden
        case 404: kind = .notFound
        case 409, 412: kind = .conflict
        case 429: kind = .rateLimited
        case 408, 504: kind = .timeout
        default: kind = .unavailable
        }
        return APIError(kind, status: status, message: message, body: body)
    }

    /// A server's text made safe to print: what a terminal would act on (escapes, controls,
    /// bidirectional overrides) becomes spaces, and it is cut at 1,000 characters.
    public static func printable(_ text: String) -> String {
        let limit = 1_000
        var out = String(String.UnicodeScalarView(text.unicodeScalars.prefix(limit).map { scalar in
            TerminalText.isUnsafe(scalar) ? " " : scalar
        }))
        if text.unicodeScalars.count > limit { out += "…" }
        return out
    }
}
