import Foundation
import Runbook
import TestSupport

/// Scale: a rebalance of every queue, its rollback (`cxrun rollback --run`), and a listing of every
/// agent, at 500 / 5,000 queues and 5,000 / 50,000 agents, each a process of the release binary
/// against a separately started `cxrun sim --queues N --agents M`. Prints wall time and peak memory
/// (max RSS) of the client process, and the time ratio between the sizes (10 = linear).
enum ScaleBench {
    static let rebalance = """
        local ids = {}
        for _, q in ipairs(queues()) do ids[#ids + 1] = q.id end
        cx.each(ids, function(id)
          local q = fetch(id)
          local p = build(q, {maxWaitTime = q.maxWaitTime + 1})
          assert(validate(p))
          deploy(id, p)
        end, {concurrency = 8})
        print(#ids)
        """
    static let listing = "print(#agents())\n"

    struct Run {
        var seconds: Double
        var maxRSSMiB: Double
        var status: Int32
        /// User + system CPU of the process.
        var cpuSeconds: Double = 0
    }

    static func run() {
        guard let cxrun = BenchTools.cxrun else { return say("\nscale benchmark: no cxrun next to cxrun-bench") }
        say("\nscale benchmark: cxrun run (release) against cxrun sim --queues N --agents M; client wall time and peak memory")
        var figures: [String: [Run]] = [:]
        for (queues, agents) in [(500, 5_000), (5_000, 50_000)] {
            do {
                let (rebalanced, rolledBack, listed) = try measure(cxrun: cxrun, queues: queues, agents: agents)
                say(String(format: "  rebalance %5d queues:  %6.2f s  max RSS %6.1f MiB  exit %d", queues, rebalanced.seconds, rebalanced.maxRSSMiB, rebalanced.status))
                say(String(format: "  rollback  %5d queues:  %6.2f s  max RSS %6.1f MiB  exit %d", queues, rolledBack.seconds, rolledBack.maxRSSMiB, rolledBack.status))
                say(String(format: "  list     %6d agents:  %6.2f s  max RSS %6.1f MiB  exit %d", agents, listed.seconds, listed.maxRSSMiB, listed.status))
                figures["rebalance", default: []].append(rebalanced)
                figures["rollback", default: []].append(rolledBack)
                figures["list", default: []].append(listed)
            } catch {
                return say("  scale benchmark failed: \(error)")
            }
        }
        for name in ["rebalance", "rollback", "list"] {
            guard let f = figures[name], f.count == 2 else { continue }
            say(String(format: "  %@: time 10x size / 1x size = %.1f   (goal: linear, <= 12); peak memory at 10x %.1f MiB   (goal < 300)",
                       name, f[1].seconds / f[0].seconds, f[1].maxRSSMiB))
        }
    }

    static func measure(cxrun: String, queues: Int, agents: Int) throws -> (rebalance: Run, rollback: Run, list: Run) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cxrun-scale-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sim = try SimProcess(cxrun: cxrun, folder: dir, arguments: ["--queues", String(queues), "--agents", String(agents)])
        defer { sim.stop() }
        try "[tenants.scale]\nbase_url = \"\(sim.url)\"\nclient_id = \"cxrun-demo\"\nclient_secret_env = \"SCALE_SECRET\"\n"
            .write(toFile: dir + "/cxrun.toml", atomically: true, encoding: .utf8)
        try rebalance.write(toFile: dir + "/rebalance.lua", atomically: true, encoding: .utf8)
        try listing.write(toFile: dir + "/list.lua", atomically: true, encoding: .utf8)
        func client(_ script: String) -> Run {
            spawn(cxrun, ["run", "--config", dir + "/cxrun.toml", "--tenant", "scale", "--audit-db", dir + "/audit-\(script).sqlite",
                          "--timeout", "3600", dir + "/\(script).lua"], environment: ["SCALE_SECRET=cxrun-demo-secret"])
        }
        let rebalanced = client("rebalance")
        // The rebalance undone: every queue restored from the audit log's snapshots.
        guard let runID = try AuditStore(path: dir + "/audit-rebalance.sqlite", readOnly: true).runs(limit: 1).first?.id else {
            throw BenchError("the rebalance left no run in its audit log")
        }
        let rolledBack = spawn(cxrun, ["rollback", "--config", dir + "/cxrun.toml", "--tenant", "scale", "--audit-db", dir + "/audit-rebalance.sqlite",
                                       "--run", runID], environment: ["SCALE_SECRET=cxrun-demo-secret"])
        return (rebalanced, rolledBack, client("list"))
    }

    /// Runs a process to its end (output discarded); its wall time and max RSS from wait4.
    static func spawn(_ path: String, _ arguments: [String], environment: [String]) -> Run {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = (environment + ["PATH=/usr/bin:/bin"]).map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        let started = Date()
        var pid: pid_t = 0
        guard posix_spawn(&pid, path, &actions, nil, argv, envp) == 0 else { return Run(seconds: 0, maxRSSMiB: 0, status: -1) }
        var status: Int32 = 0
        var usage = rusage()
        wait4(pid, &status, 0, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return Run(seconds: Date().timeIntervalSince(started), maxRSSMiB: Double(usage.ru_maxrss) / 1024, status: (status >> 8) & 0xff,
                   cpuSeconds: seconds(usage.ru_utime) + seconds(usage.ru_stime))
    }
}

/// A `cxrun sim` started for a benchmark (port 0, rate limit off, quiet hour), and its address.
/// Started with TestSupport's posix_spawn child, not Foundation's Process (whose run() crashes now
/// and then on Linux: swift-corelibs-foundation #5472).
final class SimProcess {
    let process: ChildProcess
    let url: String

    init(cxrun: String, folder: String, arguments: [String]) throws {
        process = try ChildProcess(cxrun, ["sim", "--port", "0", "--db", folder + "/sandbox.sqlite", "--rate-limit", "0", "--clock", "2026-01-05T03:00:00Z"]
                                   + arguments, stdout: .pipe)
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = process.stdout?.availableData ?? Data()
            if chunk.isEmpty { throw BenchError("cxrun sim ended before listening") }
            line.append(chunk)
        }
        guard let url = String(decoding: line, as: UTF8.self).split(separator: "\n").first?.split(separator: " ").last else {
            throw BenchError("cxrun sim printed no address")
        }
        self.url = String(url)
    }

    func stop() {
        process.signal(SIGKILL)  // it may have inherited a blocked SIGTERM
        process.wait()
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
