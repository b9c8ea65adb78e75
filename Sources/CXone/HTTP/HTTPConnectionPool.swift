import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A kept-alive connection to one origin.
final class HTTPConnection {
    let channel: Channel
    let handler: ExchangeHandler
    var idleClose: Scheduled<Void>?

    init(channel: Channel, handler: ExchangeHandler) {
        self.channel = channel
        self.handler = handler
    }
}

/// The connections of one event loop, by origin: kept alive between requests, at most
/// `perOriginLimit` to an origin (later requests queue for one). Confined to its loop; each loop
/// has its own, so a request and its connection never change threads.
final class HTTPConnectionPool {
    static let perOriginLimit = 16
    /// Below the keep-alive timeouts of common servers (Node and Apache close after 5 s): a
    /// request sent on a connection the server is closing fails, and a write that fails so cannot
    /// be retried (its outcome is unknown).
    static let idleTimeout = TimeAmount.seconds(4)
    static let connectTimeout = 10.0

    private let loop: EventLoop
    private var idle: [RequestURL.Origin: [HTTPConnection]] = [:]
    /// Connections open or being opened, by origin.
    private var open: [RequestURL.Origin: Int] = [:]
    private var queued: [RequestURL.Origin: [PendingExchange]] = [:]

    init(loop: EventLoop) { self.loop = loop }

    /// The pool of the loop this thread runs.
    static func current(_ loop: EventLoop) -> HTTPConnectionPool {
        if let box = pools.currentValue { return box.pool }
        let box = PoolBox(HTTPConnectionPool(loop: loop))
        pools.currentValue = box
        return box.pool
    }

    private static let pools = ThreadSpecificVariable<PoolBox>()

    // Each thread's value is only ever touched by that thread (its event loop).
    private final class PoolBox: @unchecked Sendable {
        let pool: HTTPConnectionPool
        init(_ pool: HTTPConnectionPool) { self.pool = pool }
    }

    /// Sends `exchange` on an idle connection, a new one, or the first to come free.
    func run(_ exchange: PendingExchange, connectTimeout: Double) {
        let origin = exchange.origin
        while let connection = idle[origin]?.popLast() {
            connection.idleClose?.cancel()
            connection.idleClose = nil
            if connection.channel.isActive { return assign(exchange, to: connection) }
        }
        guard open[origin, default: 0] < Self.perOriginLimit else {
            queued[origin, default: []].append(exchange)
            return
        }
        open[origin, default: 0] += 1
        connect(origin, timeout: min(connectTimeout, Self.connectTimeout)).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let connection):
                if exchange.finished { return self.free(connection, origin: origin) }
                self.assign(exchange, to: connection)
            case .failure(let error):
                self.open[origin, default: 1] -= 1
                exchange.fail(HTTPFailure(.connect, NetworkFailure.describe(error) ?? "\(error)"))
                self.startQueued(origin)
            }
        }
    }

    private func assign(_ exchange: PendingExchange, to connection: HTTPConnection) {
        exchange.connection = connection
        connection.handler.send(exchange)
    }

    /// A connection finished an exchange and may serve another: the queue's next, or it waits idle.
    private func free(_ connection: HTTPConnection, origin: RequestURL.Origin) {
        if let next = nextQueued(origin) { return assign(next, to: connection) }
        idle[origin, default: []].append(connection)
        connection.idleClose = loop.assumeIsolated().scheduleTask(in: Self.idleTimeout) { connection.channel.close(promise: nil) }
    }

    /// A connection closed: its place goes to the next queued request.
    private func closed(_ connection: HTTPConnection, origin: RequestURL.Origin) {
        connection.idleClose?.cancel()
        idle[origin]?.removeAll { $0 === connection }
        open[origin, default: 1] -= 1
        startQueued(origin)
    }

    private func startQueued(_ origin: RequestURL.Origin) {
        if let next = nextQueued(origin) { run(next, connectTimeout: Self.connectTimeout) }
    }

    /// The oldest queued request to `origin` still waiting (those ended meanwhile are dropped).
    private func nextQueued(_ origin: RequestURL.Origin) -> PendingExchange? {
        while var waiting = queued[origin], !waiting.isEmpty {
            let next = waiting.removeFirst()
            queued[origin] = waiting
            if !next.finished { return next }
        }
        return nil
    }

    private func connect(_ origin: RequestURL.Origin, timeout: Double) -> EventLoopFuture<HTTPConnection> {
        let tls: NIOSSLContext?
        if origin.tls {
            do { tls = try TLSContext.shared.get() } catch { return loop.makeFailedFuture(error) }
        } else {
            tls = nil
        }
        let host = origin.host
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.milliseconds(Int64(max(0.001, timeout) * 1000)))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                do {
                    if let tls {
                        // An IP address is no server name (SNI carries names only).
                        let name = host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: name))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ExchangeHandler())
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        return bootstrap.connect(host: host, port: origin.port).assumeIsolated().flatMapThrowing { channel in
            let handler = try channel.pipeline.syncOperations.handler(type: ExchangeHandler.self)
            let connection = HTTPConnection(channel: channel, handler: handler)
            handler.onAnswered = { [unowned self, unowned connection] reusable in
                if reusable { self.free(connection, origin: origin) } else { connection.channel.close(promise: nil) }
            }
            channel.closeFuture.assumeIsolated().whenComplete { _ in self.closed(connection, origin: origin) }
            return connection
        }.nonisolated()
    }
}

/// The TLS settings of every https connection: the system's trust roots, made once.
enum TLSContext {
    static let shared: Result<NIOSSLContext, any Error> = Result { try NIOSSLContext(configuration: .makeClientConfiguration()) }
}
