import NIOCore
import NIOHTTP1
import NIOPosix

/// HTTP/1.1 exchanges on the caller's own event loop. A run's binding work runs on the run's
/// loop (LuaHost's HostThread), so its requests, their connections and their answers stay on that
/// one thread: no hop to an I/O thread and back per call. Called from anywhere else, one shared
/// loop does the I/O (one, so that those callers share its kept-alive connections).
///
/// Hand-written on NIO's HTTP codec rather than AsyncHTTPClient: that client's own per-request
/// work (its state machines, a task and an actor hop per request, promises across loops) cost
/// ~0.18 ms of CPU per request here, more than the whole budget of a call. This one does what
/// cxrun needs: keep-alive pooling, TLS, a deadline over the whole exchange, a body size cap.
/// No redirects are followed (the API does not send them; a 3xx is an error like any other).
enum HTTP1Client {
    static let sharedLoop = NIOSingletons.posixEventLoopGroup.next()

    /// Sends one request; the whole exchange, connection included, must end within `timeout` seconds.
    static func exchange(
        _ method: HTTPMethod, _ url: String, headers: [(String, String)], body: [UInt8]?, timeout: Double, maxBody: Int
    ) async throws(HTTPFailure) -> HTTPReply {
        let target = try RequestURL.parse(url)
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: target.target)
        head.headers.reserveCapacity(headers.count + 3)
        head.headers.add(name: "Host", value: target.hostHeader)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        if let body {
            head.headers.add(name: "Content-Length", value: String(body.count))
        } else if method == .POST || method == .PUT || method == .PATCH {
            head.headers.add(name: "Content-Length", value: "0")
        }
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? sharedLoop
        let promise = loop.makePromise(of: HTTPReply.self)
        let started = NIOLoopBoundBox.makeBoxSendingValue(
            PendingExchange(origin: target.origin, head: head, body: body.map { ByteBuffer(bytes: $0) }, maxBody: maxBody, promise: promise),
            eventLoop: loop)
        let seconds = timeout.isFinite ? min(max(timeout, 0.001), 86_400) : 30
        let start: @Sendable () -> Void = {
            let exchange = started.value
            exchange.deadline = loop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) {
                exchange.abort(HTTPFailure(.timeout, "timed out after \(seconds) s"))
            }
            HTTPConnectionPool.current(loop).run(exchange, connectTimeout: seconds)
        }
        if loop.inEventLoop { start() } else { loop.execute(start) }
        do {
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                loop.execute { started.value.abort(HTTPFailure(.cancelled, "cancelled")) }
            }
        } catch let failure as HTTPFailure {
            throw failure
        } catch {
            throw HTTPFailure(.connection, "\(error)")
        }
    }
}
