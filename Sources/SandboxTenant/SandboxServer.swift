import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A running sandbox tenant: an HTTP server on loopback emulating the contact-center API.
public final class SandboxServer: Sendable {
    /// `http://127.0.0.1:PORT`.
    public let baseURL: String
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, host: String, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.baseURL = "http://\(host):\(port)"
        self.group = group
        self.task = task
    }

    /// Opens (and seeds, when new) the state, starts serving, and returns once the port is bound.
    /// With `handleSignals`, SIGINT/SIGTERM shut the server down gracefully.
    public static func start(_ configuration: SandboxConfiguration, handleSignals: Bool = false) async throws -> SandboxServer {
        let tenant = try Tenant(configuration)
        // One thread serves everything: the tenant's state is one SQLite file written in turn, and a
        // single loop that also runs the handlers needs no thread switch per request.
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let executor = EventLoopExecutor(loop: loops.next())
        var logger = Logger(label: "cxrun.sim")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            responder: TenantResponder(tenant: tenant),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "cxrun-sandbox-tenant"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            eventLoopGroupProvider: .shared(loops),
            logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [app], gracefulShutdownSignals: handleSignals ? [.sigint, .sigterm] : [], logger: logger))
        let task = Task {
            defer { continuation.finish() }
            do {
                try await withTaskExecutorPreference(executor) { try await group.run() }
            } catch {
                try? await loops.shutdownGracefully()
                throw error
            }
            try? await loops.shutdownGracefully()
        }
        var bound: Int?
        for await port in ports { bound = port }
        guard let bound, bound > 0 else {
            task.cancel()
            _ = await task.result
            if case .failure(let error) = await task.result {
                // NIO's words for a taken port: "bind(descriptor:ptr:bytes:): Address already in use) (errno: 98)".
                if let io = error as? IOError, io.errnoCode == EADDRINUSE {
                    throw SandboxError.couldNotStart("\(configuration.host):\(configuration.port) is in use (another cxrun sim?): "
                                                     + "pick another --port, or --port 0 for any free one")
                }
                if let io = error as? IOError, io.errnoCode == EACCES {
                    throw SandboxError.couldNotStart("\(configuration.host):\(configuration.port) may not be bound by this user (ports below 1024 need privileges)")
                }
                throw error
            }
            throw SandboxError.couldNotStart("the server did not start listening on \(configuration.host):\(configuration.port)")
        }
        return SandboxServer(port: bound, host: configuration.host, group: group, task: task)
    }

    /// Stops serving (gracefully: requests in flight finish) and waits until the server is down.
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    /// Waits until the server stops (a signal, or `stop()`).
    public func wait() async throws {
        try await task.value
    }
}

/// Why the sandbox tenant could not run.
public enum SandboxError: Error, CustomStringConvertible {
    case couldNotStart(String)

    public var description: String {
        switch self {
        case .couldNotStart(let m): return m
        }
    }
}

