import NIOCore
import NIOHTTP1

/// The end of a connection's pipeline: sends one request at a time and collects its answer.
final class ExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var current: PendingExchange?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    /// Told when an exchange ended with a complete answer: whether the connection may serve another.
    var onAnswered: ((_ reusable: Bool) -> Void)?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func send(_ exchange: PendingExchange) {
        guard let context else { return exchange.fail(HTTPFailure(.connection, "the connection is gone")) }
        current = exchange
        head = nil
        body.clear()
        exchange.written = true
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let bytes = exchange.body { context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let exchange = current else { return }
        switch unwrapInboundIn(data) {
        case .head(let received):
            // 1xx answers are interim; the real one follows.
            if received.status.code / 100 == 1 && received.status != .switchingProtocols { return }
            head = received
            // A body announced too large is refused before any of it is read.
            if let length = received.headers.first(name: "content-length").flatMap(Int.init), length > exchange.maxBody {
                tooLarge(exchange, context: context)
            }
        case .body(let part):
            guard body.readableBytes + part.readableBytes <= exchange.maxBody else { return tooLarge(exchange, context: context) }
            body.writeImmutableBuffer(part)
        case .end:
            guard let head else { return }
            current = nil
            let reply = HTTPReply(status: Int(head.status.code), headers: head.headers, body: body)
            body = ByteBuffer()
            self.head = nil
            exchange.succeed(reply)
            onAnswered?(head.isKeepAlive && context.channel.isActive)
        }
    }

    private func tooLarge(_ exchange: PendingExchange, context: ChannelHandlerContext) {
        current = nil
        let limit = exchange.maxBody >= 1 << 20 ? "\(exchange.maxBody >> 20) MiB" : "\(exchange.maxBody) bytes"
        exchange.fail(HTTPFailure(.body, "the response body is over \(limit)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failCurrent(head == nil ? "the server closed the connection without answering" : "the stream ended before the response was complete")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let what = error is HTTPParserError ? "the answer is not valid HTTP (\(error))" : NetworkFailure.describeTLS(error) ?? "\(error)"
        failCurrent(head == nil ? what : "the stream ended in error: \(what)")
        context.close(promise: nil)
    }

    private func failCurrent(_ detail: String) {
        guard let exchange = current else { return }
        current = nil
        exchange.fail(HTTPFailure(head == nil ? .connection : .body, detail))
    }
}
