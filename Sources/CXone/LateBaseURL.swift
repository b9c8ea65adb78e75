import Synchronization

/// A base URL known once a server has started: the built-in sandbox tenant starts on the first
/// request that needs it, so a run that makes no call never pays for it (start-up time).
public final class LateBaseURL: Sendable {
    private let start: @Sendable () async throws -> String
    private let task = Mutex<Task<String, any Error>?>(nil)

    /// `start` starts the server and returns its base URL; it runs at most once.
    public init(start: @escaping @Sendable () async throws -> String) {
        self.start = start
    }

    /// The server's base URL, starting it first if nothing has yet.
    public func url() async throws(APIError) -> String {
        let start = self.start
        // Detached: the server's own tasks must not inherit the caller's executor (a run's thread).
        let running = task.withLock { current in
            if let current { return current }
            let started = Task.detached(priority: .high) { try await start() }
            current = started
            return started
        }
        do {
            return try await running.value
        } catch {
            throw APIError(.unavailable, message: "the sandbox tenant could not start: \(error)")
        }
    }
}
