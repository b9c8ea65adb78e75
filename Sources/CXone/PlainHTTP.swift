import JSONCore
import NIOHTTP1

/// One unauthenticated JSON exchange (a sandbox tenant's control plane): no token, no retries.
public enum PlainHTTP {
    /// Sends `body` (JSON) with `method` to `url`; returns the status and the JSON answer.
    public static func json(_ method: String, _ url: String, body: JSONValue? = nil, headers: [(String, String)] = [], timeout: Double = 30) async throws(APIError)
        -> (status: Int, body: JSONValue)
    {
        var bytes: [UInt8]?
        if let body {
            do { bytes = try body.jsonBytes() } catch { throw APIError(.invalidRequest, message: "the body is not valid JSON: \(error)") }
        }
        do {
            let reply = try await Transport.exchange(
                HTTPMethod(rawValue: method.uppercased()), url, body: bytes, token: nil,
                headers: headers + (bytes == nil ? [] : [("Content-Type", "application/json")]), timeout: timeout, requireJSON: false,
                stats: TransportStats())
            return (reply.status, reply.body ?? .null)
        } catch let failure {
            throw failure.error
        }
    }
}
