import NIOCore
import NIOHTTP1

/// An answer: status, headers and the whole body.
struct HTTPReply: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: ByteBuffer
}

/// One request on its way, from queued to answered or failed; the first outcome wins. Confined
/// to the event loop of its connection.
final class PendingExchange {
    let origin: RequestURL.Origin
    let head: HTTPRequestHead
    let body: ByteBuffer?
    let maxBody: Int
    private let promise: EventLoopPromise<HTTPReply>
    private(set) var finished = false
    /// Set once its bytes were handed to a connection (the server may have seen them).
    var written = false
    /// The connection serving it, once one does.
    var connection: HTTPConnection?
    var deadline: Scheduled<Void>?

    init(origin: RequestURL.Origin, head: HTTPRequestHead, body: ByteBuffer?, maxBody: Int, promise: EventLoopPromise<HTTPReply>) {
        self.origin = origin
        self.head = head
        self.body = body
        self.maxBody = maxBody
        self.promise = promise
    }

    func succeed(_ reply: HTTPReply) {
        guard !finished else { return }
        finished = true
        deadline?.cancel()
        promise.succeed(reply)
    }

    func fail(_ failure: HTTPFailure) {
        guard !finished else { return }
        finished = true
        deadline?.cancel()
        var failure = failure
        failure.requestWritten = written
        promise.fail(failure)
    }

    /// Ends it from outside (timeout, cancellation): a connection in the middle of it cannot be
    /// reused, so it is closed.
    func abort(_ failure: HTTPFailure) {
        guard !finished else { return }
        fail(failure)
        connection?.channel.close(promise: nil)
    }
}
