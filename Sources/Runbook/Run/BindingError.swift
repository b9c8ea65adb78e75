import CXone
import JSONCore

/// A binding's failure as scripts see it (DESIGN.md §5): the table `{code=, status=, message=,
/// details=}`. API failures map into it; the run itself adds `sandbox` (refusals, audit
/// failures) and `conflict` with the paths of a failed merge.
public struct BindingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The error codes scripts branch on.
    public enum Code: String, Sendable {
        case invalid, not_found, conflict, unauthorized, forbidden, rate_limited, unavailable, timeout, network, sandbox
        /// Another run holds the lease on the target (run locks) past the lock timeout.
        case locked
    }

    public var code: Code
    /// The HTTP status, when there was a response.
    public var status: Int?
    public var message: String
    /// The server's error body (e.g. `errors: [{path, code, message}]`) or other context.
    public var details: JSONValue?
    /// How many times the request was sent (for the audit row, not the script).
    public var attempts = 1

    public init(_ code: Code, status: Int? = nil, message: String, details: JSONValue? = nil) {
        self.code = code
        self.status = status
        self.message = message
        self.details = details
    }

    /// The script's view of an API failure.
    public init(_ error: APIError) {
        let code: Code
        switch error.kind {
        case .badRequest, .invalidRequest: code = .invalid
        case .notFound: code = .not_found
        case .conflict: code = .conflict
        case .unauthorized: code = .unauthorized
        case .forbidden: code = .forbidden
        case .rateLimited: code = .rate_limited
        case .unavailable: code = .unavailable
        case .timeout: code = .timeout
        case .network: code = .network
        }
        var details = error.body
        if error.outcomeUnknown { details = ["outcome": "unknown", "body": error.body ?? .null] }
        self.init(code, status: error.outcomeUnknown && error.status == nil ? nil : error.status, message: error.message, details: details)
        attempts = error.attempts
    }

    /// A write that may have reached the server and then failed without an answer: whether it
    /// applied is unknown (its audit row stays `pending`; a rollback fences it).
    public var outcomeUnknown: Bool { details?["outcome"] == "unknown" }

    public var description: String { "\(code.rawValue): \(message)" + (status.map { " (HTTP \($0))" } ?? "") }

    /// The table a script receives.
    public var json: JSONValue {
        var fields: [String: JSONValue] = ["code": .string(code.rawValue), "message": .string(message)]
        if let status { fields["status"] = .int(Int64(status)) }
        if let details { fields["details"] = details }
        return .object(fields)
    }
}

/// Calls the API; its failure becomes the script's error.
func api<T>(_ work: () async throws(APIError) -> T) async throws(BindingError) -> T {
    do { return try await work() } catch { throw BindingError(error) }
}
