import Foundation
import Synchronization

/// A throwaway PostgreSQL cluster for tests: initdb in a temporary folder (as the unprivileged
/// `postgres` user when the tests run as root, as initdb requires), started on a free loopback
/// port, stopped when the test process exits. `shared` is started once per test process; each
/// test takes its own database in it. The async API runs the tools (initdb, pg_ctl, psql) off the
/// cooperative pool (`offPool`): blocking its few threads for seconds
/// would starve every other test running in parallel. The `…Blocking` forms are for threads
/// that may block (a script's print callback, a benchmark).
public final class PostgresServer: Sendable {
    public let port: Int
    public let folder: String
    private let bin: String
    private static let sharedServer = Mutex<Result<PostgresServer, PostgresServerError>?>(nil)
    private static let started = Mutex<[PostgresServer]>([])

    /// The cluster every test of this process shares.
    public static func shared() async throws -> PostgresServer { try await offPool { try sharedBlocking() } }

    /// A new cluster of its own (for a test that stops it).
    public static func start() async throws -> PostgresServer { try await offPool { try startBlocking() } }

    /// A new, empty database; its URL.
    public func createDatabase(_ prefix: String = "t") async throws -> String {
        try await offPool { try self.createDatabaseBlocking(prefix) }
    }

    /// Runs SQL through psql; its output.
    @discardableResult
    public func sql(_ statement: String, database: String = "postgres") async throws -> String {
        try await offPool { try self.sqlBlocking(statement, database: database) }
    }

    /// Stops the cluster at once.
    public func stop() async { _ = try? await offPool { self.stopBlocking() } }

    /// The cluster every test of this process shares (blocks the calling thread while it starts).
    public static func sharedBlocking() throws -> PostgresServer {
        try sharedServer.withLock { server in
            if server == nil {
                do { server = .success(try PostgresServer.startBlocking()) } catch let error as PostgresServerError { server = .failure(error) } catch {
                    server = .failure(PostgresServerError(description: "\(error)"))
                }
            }
            return try server!.get()
        }
    }

    /// A new cluster of its own (blocks the calling thread while it starts).
    public static func startBlocking() throws -> PostgresServer {
        guard let bin = ["17", "16", "15"].map({ "/usr/lib/postgresql/\($0)/bin" }).first(where: { FileManager.default.fileExists(atPath: $0 + "/initdb") })
        else { throw PostgresServerError(description: "PostgreSQL is not installed (make deps installs postgresql)") }
        let folder = try temporaryFolder("pgtest")
        if geteuid() == 0 { try run("/bin/chown", ["-R", "postgres:postgres", folder]) }
        try PostgresServer(port: 0, folder: folder, bin: bin)
            .asServerUser(bin + "/initdb", ["-D", folder + "/data", "-U", "cxrun", "-A", "trust", "-E", "UTF8", "--no-sync"])
        // A port found free can be taken by another test's server before postgres binds it (seen
        // once with the suite running twice at once): a start that fails is tried on another port.
        var failure: (any Error)?
        for _ in 0..<3 {
            let server = PostgresServer(port: try freePort(), folder: folder, bin: bin)
            do {
                try server.startAgainBlocking()
            } catch {
                let log = (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? ""
                failure = PostgresServerError(description: "\(error); server log: \(log.suffix(600))")
                continue
            }
            started.withLock { list in
                if list.isEmpty { atexit { PostgresServer.stopAll() } }
                list.append(server)
            }
            return server
        }
        throw failure ?? PostgresServerError(description: "the cluster did not start")
    }

    private init(port: Int, folder: String, bin: String) {
        self.port = port
        self.folder = folder
        self.bin = bin
    }

    /// Starts the cluster (again, after `stop`) and waits until it accepts connections.
    public func startAgainBlocking() throws {
        try asServerUser(bin + "/pg_ctl", [
            "-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "60", "start",
            "-o", "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
        ])
    }

    /// Stops the cluster at once (connections are cut); blocks the calling thread.
    public func stopBlocking() {
        _ = try? asServerUser(bin + "/pg_ctl", ["-D", folder + "/data", "-m", "immediate", "-w", "stop"])
    }

    /// A new, empty database; its URL (no TLS on loopback).
    public func createDatabaseBlocking(_ prefix: String = "t") throws -> String {
        let name = "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
        try sqlBlocking("CREATE DATABASE \(name)")
        return "postgresql://cxrun@127.0.0.1:\(port)/\(name)?sslmode=disable"
    }

    /// Runs SQL through psql; its output.
    @discardableResult
    public func sqlBlocking(_ statement: String, database: String = "postgres") throws -> String {
        try Self.run(bin + "/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "cxrun", "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", statement])
    }

    private func asServerUser(_ tool: String, _ arguments: [String]) throws {
        if geteuid() == 0 {
            try Self.run("/usr/sbin/runuser", ["-u", "postgres", "--", tool] + arguments)
        } else {
            try Self.run(tool, arguments)
        }
    }

    private static func stopAll() {
        for server in started.withLock({ $0 }) {
            server.stopBlocking()
            try? FileManager.default.removeItem(atPath: server.folder)
        }
    }

    /// Runs a tool to its end (posix_spawn and waitpid, `ChildProcess`: Foundation's Process can
    /// miss the exit of a child whose own children live on, as pg_ctl's server does); its output,
    /// from a file (a pipe would stay open in that server).
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("cxrun-pgtool-\(UUID().uuidString)").path
        defer { unlink(outPath) }
        let status: Int32
        do {
            status = try ChildProcess(tool, arguments, stdout: .file(outPath), stderr: .stdout).wait()
        } catch {
            throw PostgresServerError(description: "cannot start \(tool): \(error)")
        }
        let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw PostgresServerError(description: "\((tool as NSString).lastPathComponent) \(arguments.joined(separator: " ")) failed (\(status)): \(text)")
        }
        return text
    }

    /// A loopback port nothing listens on now.
    public static func freePort() throws -> Int {
        try BoundPort().port
    }
}

public struct PostgresServerError: Error, CustomStringConvertible, Sendable {
    public var description: String
}
