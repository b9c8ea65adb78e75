import Foundation
import JSONCore
import NIOCore
import NIOPosix
import NIOHTTP1
import Synchronization

/// A response with how many attempts it took.
public struct Sent<Value: Sendable>: Sendable {
    public var value: Value
    public var status: Int
    public var attempts: Int
}

/// Counters over every request of a client (the run summary reports them).
public final class TransportStats: Sendable {
    private let counts = Mutex<(requests: Int, retries: Int, rateLimited: Int, reauths: Int)>((0, 0, 0, 0))
    public var requests: Int { counts.withLock { $0.requests } }
    public var retries: Int { counts.withLock { $0.retries } }
    /// 429 answers received.
    public var rateLimited: Int { counts.withLock { $0.rateLimited } }
    public var reauths: Int { counts.withLock { $0.reauths } }
    func record(request: Bool = false, retry: Bool = false, rateLimited: Bool = false, reauth: Bool = false) {
        counts.withLock {
            if request { $0.requests += 1 }
            if retry { $0.retries += 1 }
            if rateLimited { $0.rateLimited += 1 }
            if reauth { $0.reauths += 1 }
        }
    }
}

/// Sends API requests: bearer auth (one re-auth on 401), client-side pacing, `Retry-After` on
/// 429, exponential backoff with full jitter on 5xx and connection errors, per-request timeouts.
/// A write whose outcome is unknown is not retried here: it fails with `details.outcome =
/// "unknown"` so the caller can re-read first.
public final class Transport: Sendable {
    public let endpoint: TenantEndpoint
    public let stats = TransportStats()
    let tokens: TokenProvider
    private let bucket: TokenBucket
    static let maxBody = 16 << 20

    public init(endpoint: TenantEndpoint) {
        self.endpoint = endpoint
        // No configured limit: learn the tenant's from its 429s (AIMD), shared by every coroutine.
        bucket = TokenBucket(rate: endpoint.rateLimit, adaptive: endpoint.learnsRateLimit)
        let stats = self.stats
        tokens = TokenProvider(endpoint: endpoint) { () async throws(APIError) -> GrantedToken in
            try await Transport.fetchToken(endpoint, stats: stats)
        }
    }

    /// The scopes the current token was granted (fetching one if needed), or nil when the token
    /// endpoint does not say.
    public func grantedScopes() async throws(APIError) -> Set<String>? {
        _ = try await tokens.token()
        return await tokens.scopes
    }

    /// How many tokens were fetched so far.
    public var tokenFetches: Int { get async { await tokens.fetches } }

    /// Sends one API call. `idempotent` requests are retried after connection errors too.
    public func send(
        _ method: HTTPMethod, _ path: String, body: JSONValue? = nil, headers: [(String, String)] = [], idempotent: Bool
    ) async throws(APIError) -> Sent<JSONValue> {
        // Encoded once; a body that cannot be JSON is the caller's error, never worth a retry.
        var bytes: [UInt8]?
        var headers = headers
        if let body {
            do { bytes = try body.jsonBytes() } catch { throw APIError(.invalidRequest, message: "the request body is not valid JSON: \(error)") }
            headers.append(("Content-Type", "application/json"))
        }
        var reauthed = false
        var lastError = APIError(.unavailable, message: "no attempt was made")
        let policy = endpoint.retry
        // A write retried after an attempt that may have reached the server: if it ends without
        // an answer (cancelled, retries used up), whether it applied is unknown, and says so.
        var mayHaveApplied = false
        func ended(_ error: APIError, attempt: Int) -> APIError {
            guard mayHaveApplied, !error.outcomeUnknown, (error.status ?? 500) >= 500 else { return error }
            var unknown = error
            unknown.message += " (an earlier attempt may have been applied)"
            unknown.outcomeUnknown = true
            unknown.attempts = attempt
            return unknown
        }
        for attempt in 1...policy.maxAttempts {
            if attempt > 1 { stats.record(retry: true) }
            let granted: Double
            do { granted = try await bucket.acquire() } catch {
                throw ended(APIError(.timeout, message: "cancelled while waiting for the rate limiter"), attempt: attempt - 1)
            }
            let token: String, url: String
            do {
                token = try await tokens.token()
                url = try await endpoint.resolve(endpoint.baseURL + path)
            } catch { throw ended(error, attempt: attempt - 1) }
            let reply: (status: Int, headers: HTTPHeaders, body: JSONValue?)
            do {
                reply = try await Self.exchange(method, url, body: bytes, token: token,
                                                headers: headers, timeout: endpoint.requestTimeout, stats: stats)
            } catch let failure {
                lastError = failure.error
                if !failure.beforeSending && method != .GET { mayHaveApplied = true }
                if failure.beforeSending || idempotent {
                    do { try await Self.pause(policy.backoff(attempt: attempt)) } catch { throw ended(error, attempt: attempt) }
                    continue
                }
                var unknown = failure.error
                unknown.message += " (the request may have been applied)"
                unknown.outcomeUnknown = true
                unknown.attempts = attempt
                throw unknown
            }
            switch reply.status {
            case 200..<300:
                return Sent(value: reply.body ?? .null, status: reply.status, attempts: attempt)
            case 401 where !reauthed:
                reauthed = true
                stats.record(reauth: true)
                await tokens.invalidate(token)
                lastError = APIError.from(status: 401, body: reply.body)
                continue
            case 429:
                stats.record(rateLimited: true)
                bucket.rateLimited(sentAt: granted)
                lastError = APIError.from(status: 429, body: reply.body)
                guard let wait = policy.delay(retryAfter: reply.headers.first(name: "Retry-After"), attempt: attempt) else { throw ended(lastError, attempt: attempt) }
                do { try await Self.pause(wait) } catch { throw ended(error, attempt: attempt) }
            case 502, 503, 504:
                lastError = APIError.from(status: reply.status, body: reply.body)
                do { try await Self.pause(policy.backoff(attempt: attempt)) } catch { throw ended(error, attempt: attempt) }
            case 500 where idempotent:
                lastError = APIError.from(status: 500, body: reply.body)
                do { try await Self.pause(policy.backoff(attempt: attempt)) } catch { throw ended(error, attempt: attempt) }
            case 500:
                // A 500 on a write says nothing about whether it applied.
                var error = APIError.from(status: 500, body: reply.body)
                error.outcomeUnknown = true
                error.attempts = attempt
                throw error
            default:
                var error = APIError.from(status: reply.status, body: reply.body)
                error.attempts = attempt
                throw error
            }
        }
        throw ended(lastError, attempt: policy.maxAttempts)
    }

    private static func pause(_ seconds: Double) async throws(APIError) {
        // Callers bound the wait; this keeps a bad number from trapping in Duration.
        let wait = seconds.isFinite ? min(max(0, seconds), 3600) : 0
        do { try await Task.sleep(for: .seconds(wait)) } catch { throw APIError(.timeout, message: "cancelled") }
    }

    struct ExchangeFailure: Error {
        var error: APIError
        /// True when the request cannot have reached the server (safe to retry any request).
        var beforeSending: Bool
    }

    /// One HTTP exchange. A success whose body is not JSON is an error (a hostile or broken API)
    /// unless `requireJSON` is false (webhook receivers often answer `OK`); other bodies that are
    /// not JSON come back as a string.
    static func exchange(
        _ method: HTTPMethod, _ url: String, body: [UInt8]?, token: String?, headers: [(String, String)], timeout: Double,
        requireJSON: Bool = true, stats: TransportStats
    ) async throws(ExchangeFailure) -> (status: Int, headers: HTTPHeaders, body: JSONValue?) {
        var all: [(String, String)] = [("Accept", "application/json")]
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        all += headers
        stats.record(request: true)
        let reply: HTTPReply
        do {
            reply = try await HTTP1Client.exchange(method, url, headers: all, body: body, timeout: timeout, maxBody: maxBody)
        } catch {
            throw ExchangeFailure(error: describe(error, url: url), beforeSending: !error.requestWritten)
        }
        let status = reply.status
        guard reply.body.readableBytes > 0 else { return (status, reply.headers, nil) }
        do {
            return (status, reply.headers, try reply.body.withUnsafeReadableBytes { raw throws(JSONError) in try JSONValue.parse(bytes: raw) })
        } catch {
            if requireJSON && (200..<300).contains(status) {
                throw ExchangeFailure(
                    error: APIError(.unavailable, status: status, message: "the server answered with malformed JSON: \(error.description)"),
                    beforeSending: false)
            }
            return (status, reply.headers, .string(String(buffer: reply.body)))
        }
    }

    private static func describe(_ failure: HTTPFailure, url: String) -> APIError {
        switch failure.kind {
        case .timeout: return APIError(.timeout, message: "the request to \(url) timed out")
        case .connect: return APIError(.network, message: "cannot connect to \(url): \(failure.detail)")
        case .badURL: return APIError(.invalidRequest, message: "cannot send a request to \(failure.detail)")
        case .cancelled: return APIError(.network, message: "the request to \(url) was cancelled")
        case .connection: return APIError(.network, message: "the connection to \(url) failed: \(failure.detail)", cause: failure.detail)
        case .body: return APIError(.network, message: "reading the response failed: \(failure.detail)", cause: failure.detail)
        }
    }

    /// Client credentials: Basic auth, form body; retried like any idempotent call.
    static func fetchToken(_ endpoint: TenantEndpoint, stats: TransportStats) async throws(APIError) -> GrantedToken {
        var form = "grant_type=client_credentials"
        if !endpoint.scopes.isEmpty {
            form += "&scope=" + PercentEncoding.encode(endpoint.scopes.joined(separator: " "), keeping: ":")
        }
        let basic = Data("\(endpoint.clientID):\(endpoint.clientSecret)".utf8).base64EncodedString()
        var last = APIError(.unauthorized, message: "token request failed")
        let url = try await endpoint.resolve(endpoint.tokenURL)
        for attempt in 1...endpoint.retry.maxAttempts {
            let reply: (status: Int, headers: HTTPHeaders, body: JSONValue?)
            do {
                reply = try await exchange(.POST, url, body: Array(form.utf8), token: nil,
                                           headers: [("Authorization", "Basic \(basic)"), ("Content-Type", "application/x-www-form-urlencoded")],
                                           timeout: endpoint.requestTimeout, stats: stats)
            } catch let failure {
                last = failure.error
                try await pause(endpoint.retry.backoff(attempt: attempt))
                continue
            }
            switch reply.status {
            case 200..<300:
                guard let token = reply.body?["access_token"]?.stringValue, !token.isEmpty else {
                    throw APIError(.unauthorized, status: reply.status, message: "the token response has no access_token")
                }
                // It goes into a header: anything but visible ASCII could smuggle in another header.
                guard token.utf8.count <= 16_384, token.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                    throw APIError(.unauthorized, status: reply.status, message: "the token response has a malformed access_token")
                }
                let ttl = reply.body?["expires_in"]?.doubleValue ?? 3600
                let scopes = reply.body?["scope"]?.stringValue.map { Set($0.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)) }
                return GrantedToken(token: token, ttl: ttl.isFinite ? ttl : 3600, scopes: scopes)
            case 429, 500...599:
                last = APIError.from(status: reply.status, body: reply.body)
                guard let wait = endpoint.retry.delay(retryAfter: reply.headers.first(name: "Retry-After"), attempt: attempt) else { throw last }
                try await pause(wait)
            default:
                var error = APIError.from(status: reply.status, body: reply.body)
                error.message = "the token endpoint refused the client credentials: \(error.message)"
                if error.kind == .badRequest { error.kind = .unauthorized }
                throw error
            }
        }
        throw last
    }
}
