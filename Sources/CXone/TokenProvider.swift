import Foundation
import JSONCore

/// A token as the token endpoint granted it.
struct GrantedToken: Sendable {
    var token: String
    var ttl: Double
    /// The scopes it carries (`scope` of the response), or nil when the server did not say.
    var scopes: Set<String>?
}

/// OAuth2 client-credentials tokens: cached, refreshed before expiry, one refresh in flight
/// however many callers ask, dropped when the API answers 401.
actor TokenProvider {
    private let endpoint: TenantEndpoint
    private let fetch: @Sendable () async throws(APIError) -> GrantedToken
    private var cached: (token: String, refreshAt: Double)?
    /// The scopes of the latest token, when the server said.
    private(set) var scopes: Set<String>?
    private var inFlight: Task<GrantedToken, any Error>?
    /// How many tokens were fetched (tests and the run summary read it).
    private(set) var fetches = 0

    init(endpoint: TenantEndpoint, fetch: @escaping @Sendable () async throws(APIError) -> GrantedToken) {
        self.endpoint = endpoint
        self.fetch = fetch
    }

    /// A valid token, fetching one when there is none or it is near expiry.
    func token() async throws(APIError) -> String {
        let now = ProcessInfo.processInfo.systemUptime
        if let cached, now < cached.refreshAt { return cached.token }
        let task: Task<GrantedToken, any Error>
        if let inFlight {
            task = inFlight
        } else {
            let fetch = self.fetch
            task = Task { try await fetch() }
            inFlight = task
            fetches += 1
        }
        do {
            let granted = try await task.value
            let (token, ttl) = (granted.token, granted.ttl)
            if inFlight == task {
                inFlight = nil
                scopes = granted.scopes
                // Refresh at 80% of the lifetime (at most a minute early).
                cached = (token, ProcessInfo.processInfo.systemUptime + max(0, ttl - min(60, ttl * 0.2)))
            }
            return token
        } catch {
            if inFlight == task { inFlight = nil }
            throw (error as? APIError) ?? APIError(.unauthorized, message: "token request failed: \(error)")
        }
    }

    /// Forgets `token` after a 401, so the next caller fetches a new one.
    func invalidate(_ token: String) {
        if cached?.token == token { cached = nil }
    }
}
