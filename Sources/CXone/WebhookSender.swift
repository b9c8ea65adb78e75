import CXShared
import Foundation
import JSONCore
import NIOHTTP1

/// What became of one webhook delivery.
public struct WebhookOutcome: Sendable, Equatable {
    public var delivered: Bool
    public var attempts: Int
    public var httpStatus: Int?
    public var error: String?

    /// Why it was not delivered: `5 attempts, last HTTP 500` or the error.
    public var failureText: String {
        "\(attempts) attempt\(attempts == 1 ? "" : "s")" + (httpStatus.map { ", last HTTP \($0)" } ?? "") + (error.map { ", \($0)" } ?? "")
    }

    public var json: JSONValue {
        var fields: [String: JSONValue] = ["status": .string(delivered ? "delivered" : "failed"), "attempts": .int(Int64(attempts))]
        if let httpStatus { fields["http_status"] = .int(Int64(httpStatus)) }
        if let error { fields["error"] = .string(error) }
        return .object(fields)
    }
}

/// Delivers signed webhooks: JSON POST with `X-Cxrun-Delivery` and `X-Cxrun-Signature`,
/// retried with backoff on 5xx, 429 and connection errors (never on other 4xx).
public struct WebhookSender: Sendable {
    public var maxAttempts = 5
    public var timeout = 10.0
    public var retry = RetryPolicy()

    public init() {}

    /// Delivers `body` to `url` (a relative URL is resolved against `endpoint`: the sandbox
    /// tenant's own webhook sink, once it has started).
    public func deliver(url target: String, secret: String, deliveryID: String, body: JSONValue, stats: TransportStats,
                        endpoint: TenantEndpoint? = nil) async -> WebhookOutcome {
        let bytes: [UInt8]
        do { bytes = try body.jsonBytes() } catch { return WebhookOutcome(delivered: false, attempts: 0, error: error.description) }
        let url: String
        do { url = try await endpoint?.resolve(target) ?? target } catch { return WebhookOutcome(delivered: false, attempts: 0, error: error.message) }
        var last = WebhookOutcome(delivered: false, attempts: 0)
        for attempt in 1...maxAttempts {
            // Signed per attempt: a retry carries a fresh timestamp.
            let signature = WebhookSignature.sign(body: bytes, secret: secret, timestamp: Int(Date().timeIntervalSince1970))
            do {
                let reply = try await Transport.exchange(
                    .POST, url, body: bytes, token: nil,
                    headers: [("Content-Type", "application/json"), (WebhookSignature.deliveryHeader, deliveryID),
                              (WebhookSignature.signatureHeader, signature)],
                    timeout: timeout, requireJSON: false, stats: stats)
                last = WebhookOutcome(delivered: (200..<300).contains(reply.status), attempts: attempt, httpStatus: reply.status)
                if last.delivered { return last }
                last.error = (reply.body?["message"]?.stringValue ?? reply.body?.stringValue).map(APIError.printable) ?? "HTTP \(reply.status)"
                guard reply.status == 429 || reply.status >= 500 else { return last }
            } catch let failure {
                last = WebhookOutcome(delivered: false, attempts: attempt, error: failure.error.message)
            }
            if attempt < maxAttempts {
                do { try await Task.sleep(for: .seconds(retry.backoff(attempt: attempt))) } catch { return last }
            }
        }
        return last
    }
}
