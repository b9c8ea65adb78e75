/// Why an HTTP exchange produced no response.
struct HTTPFailure: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        /// The URL cannot be requested.
        case badURL
        /// No connection could be made (refused, unreachable, no such host, connect timeout).
        case connect
        /// The whole exchange took longer than its timeout.
        case timeout
        /// The connection failed or the answer was not HTTP, before the response head.
        case connection
        /// The response head arrived; its body could not be read in full.
        case body
        /// The caller's task was cancelled.
        case cancelled
    }

    var kind: Kind
    var detail: String
    /// False when the request cannot have reached the server (it was never written).
    var requestWritten = false

    init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    var description: String { detail }
}
