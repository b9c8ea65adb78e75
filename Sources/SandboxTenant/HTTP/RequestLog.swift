import Foundation
import JSONCore
import Synchronization

/// The most recent requests the tenant served (`GET /_sim/requests`).
final class RequestLog: Sendable {
    struct Entry: Sendable {
        var seq: Int
        var method: String
        var path: String
        var status: Int
        var latencyMs: Double
        var clientID: String?
        var fault: String?
        var at: Double

        var json: JSONValue {
            [
                "seq": .int(Int64(seq)), "method": .string(method), "path": .string(path), "status": .int(Int64(status)),
                "latencyMs": .double((latencyMs * 100).rounded() / 100), "clientId": clientID.map(JSONValue.string) ?? .null,
                "fault": fault.map(JSONValue.string) ?? .null, "at": .double(at),
            ]
        }
    }

    private let capacity = 5_000
    private let state = Mutex<(next: Int, entries: [Entry])>((1, []))

    func record(method: String, path: String, status: Int, latencyMs: Double, clientID: String?, fault: String?) {
        state.withLock { s in
            s.entries.append(Entry(seq: s.next, method: method, path: path, status: status, latencyMs: latencyMs,
                                   clientID: clientID, fault: fault, at: Date().timeIntervalSince1970))
            s.next += 1
            // Trimmed in halves, not one entry per request (each trim moves the whole array).
            if s.entries.count >= 2 * capacity { s.entries.removeFirst(capacity) }
        }
    }

    /// Entries after `since` (a seq), oldest first, at most `limit`.
    func entries(since: Int, limit: Int) -> [Entry] {
        state.withLock { s in Array(s.entries.suffix(capacity).lazy.filter { $0.seq > since }.prefix(limit)) }
    }

    func clear() { state.withLock { $0.entries.removeAll() } }
}
