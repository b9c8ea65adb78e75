import AsyncHTTPClient

/// The HTTP client every API call and webhook delivery goes through: one per process, never
/// shut down. Connection attempts are not retried inside AsyncHTTPClient (it would wait out the
/// whole request deadline on a refused connection); the transport retries with its own backoff.
enum HTTPClients {
    static let shared: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 16
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()
}
