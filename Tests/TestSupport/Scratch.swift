import Dispatch
import Foundation
import Synchronization

/// A fresh, empty folder under the temporary directory; the caller may remove it, and whatever is
/// left is removed when the test process exits (a run of the suite used to leave ~300 behind).
public func temporaryFolder(_ name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cxrun-\(name)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    scratchFolders.withLock { folders in
        if folders.isEmpty { atexit { removeScratchFolders() } }
        folders.append(dir)
    }
    return dir
}

/// Every folder `temporaryFolder` made in this process.
private let scratchFolders = Mutex<[String]>([])

private func removeScratchFolders() {
    for dir in scratchFolders.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: dir) }
}

/// Collects what a run prints, from any thread.
public final class Captured: Sendable {
    private let text = Mutex("")
    public init() {}
    public func append(_ s: String) { text.withLock { $0 += s } }
    public var value: String { text.withLock { $0 } }
}

/// Runs blocking work (reading a child's pipe, waiting for it to exit) on a dispatch thread, not
/// on Swift's cooperative pool: a test blocking one of its few threads for seconds starves every
/// other test running in parallel (a Lua run's host I/O among them).
public func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}

/// A server a test starts and must stop (awaited) when it ends.
public protocol StoppableServer: Sendable {
    func stop() async
}

/// Runs `body`, then stops `server` (awaited, also when `body` throws): no test leaves a server
/// behind, and none stops it from a detached task after the test has ended.
public func stopping<S: StoppableServer>(_ server: S, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}
