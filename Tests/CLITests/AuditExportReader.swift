import Foundation
import Testing

/// Reads `cxrun audit export` in a folder, for tests that check what the runs did.
enum AuditExport {
    struct Run {
        var id: String
        var status: String
        var finishedAt: Double
        var error: String?
    }

    struct Call {
        var runID: String
        var binding: String
        var target: String?
        var status: String
        var errorCode: String?
        var message: String?
        var startedAt: Double
        var latencyMs: Double
        var endedAt: Double { startedAt + latencyMs / 1000 }
    }

    static func read(in dir: URL, extra: [String] = [], environment: [String: String] = [:]) async throws -> (runs: [Run], calls: [Call]) {
        let r = try await runCLI(["audit", "export"] + extra, in: dir, environment: environment)
        var runs: [Run] = [], calls: [Call] = []
        for line in r.stdout.split(separator: "\n") {
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            if o["type"] as? String == "run" {
                runs.append(Run(id: o["id"] as? String ?? "", status: o["status"] as? String ?? "", finishedAt: o["finished_at"] as? Double ?? 0,
                                error: o["error"] as? String))
            } else {
                calls.append(Call(runID: o["run_id"] as? String ?? "", binding: o["binding"] as? String ?? "", target: o["target"] as? String,
                                  status: o["status"] as? String ?? "", errorCode: o["error_code"] as? String,
                                  message: (o["result"] as? [String: Any])?["message"] as? String,
                                  startedAt: o["started_at"] as? Double ?? 0, latencyMs: o["latency_ms"] as? Double ?? 0))
            }
        }
        return (runs, calls)
    }

    /// Every queue two runs both deployed was written by one only after the other had ended:
    /// the later run's deploy to it completed after the earlier run's row was finalized.
    static func expectNotInterleaved(in dir: URL, extra: [String] = [], environment: [String: String] = [:], _ note: String) async throws {
        let (runs, calls) = try await read(in: dir, extra: extra, environment: environment)
        let finished = Dictionary(runs.map { ($0.id, $0.finishedAt) }, uniquingKeysWith: { a, _ in a })
        let deploys = calls.filter { $0.binding == "deploy" && $0.status == "ok" }
        var checked = 0
        for (queue, writes) in Dictionary(grouping: deploys, by: { $0.target ?? "" }) where Set(writes.map(\.runID)).count > 1 {
            let ordered = writes.sorted { $0.endedAt < $1.endedAt }
            for (earlier, later) in zip(ordered, ordered.dropFirst()) where earlier.runID != later.runID {
                checked += 1
                #expect(later.endedAt >= (finished[earlier.runID] ?? .infinity),
                        "\(note): queue \(queue) written by \(later.runID) before \(earlier.runID) ended")
            }
        }
        #expect(checked > 0, "\(note): no queue was written by two runs")
    }
}
