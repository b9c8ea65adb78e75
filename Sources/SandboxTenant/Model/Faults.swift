import JSONCore
import Synchronization

/// Injected faults: probabilities (0...1), added latency and holds. The body of `/_sim/faults`.
public struct Faults: Sendable, Equatable {
    public var status429 = 0.0
    public var status500 = 0.0
    public var status503 = 0.0
    /// Connection reset before a response is written.
    public var reset = 0.0
    public var latencyMs = 0.0
    public var jitterMs = 0.0
    /// Added to API writes only (PUT, PATCH, POST, DELETE), before the request is read: how a
    /// test keeps one write in flight while everything else answers at once.
    public var writeLatencyMs = 0.0
    /// Another admin edits a queue just before an incoming write is applied.
    public var concurrentEdit = 0.0
    /// The webhook sink answers 500 (to exercise delivery retries).
    public var webhook500 = 0.0
    /// Each status change stays in flight this long (released early when the fault is cleared):
    /// how a test fills the tenant's concurrent status-change limit.
    public var statusChangeHoldMs = 0.0
    /// The next this many API writes wait on arrival, before the request is read, until the
    /// faults are next replaced (`PUT /_sim/faults`): how a test keeps a write in flight for as
    /// long as it needs, whatever the machine's speed. Counts down as writes arrive.
    public var holdWrites = 0

    public init() {}

    // Computed: key paths are not Sendable, so they are not kept in a global.
    static var probabilityKeys: [(String, WritableKeyPath<Faults, Double>)] {
        [
        ("status429", \.status429), ("status500", \.status500), ("status503", \.status503), ("reset", \.reset),
        ("concurrentEdit", \.concurrentEdit), ("webhook500", \.webhook500),
        ]
    }
    static var millisecondKeys: [(String, WritableKeyPath<Faults, Double>)] {
        [("latencyMs", \.latencyMs), ("jitterMs", \.jitterMs), ("writeLatencyMs", \.writeLatencyMs), ("statusChangeHoldMs", \.statusChangeHoldMs)]
    }

    /// Parses `key=value,key=value` (the `--fault` flag); nil with a reason when invalid.
    public static func parse(_ spec: String) -> Result<Faults, FaultsError> {
        var fields: [String: JSONValue] = [:]
        for part in spec.split(separator: ",") where !part.isEmpty {
            let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, let number = Double(kv[1]) else { return .failure(FaultsError("'\(part)' is not KEY=NUMBER")) }
            fields[kv[0]] = .double(number)
        }
        return from(.object(fields))
    }

    /// Reads the JSON body of `PUT /_sim/faults`; missing keys are 0.
    public static func from(_ json: JSONValue) -> Result<Faults, FaultsError> {
        guard let fields = json.objectValue else { return .failure(FaultsError("faults must be a JSON object")) }
        var faults = Faults()
        let known = Set((probabilityKeys + millisecondKeys).map(\.0) + ["holdWrites"])
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            return .failure(FaultsError("unknown fault '\(unknown)'; known: \(known.sorted().joined(separator: ", "))"))
        }
        for (key, path) in probabilityKeys {
            guard let v = fields[key] else { continue }
            guard let p = v.doubleValue, p >= 0, p <= 1 else { return .failure(FaultsError("\(key) must be a probability between 0 and 1")) }
            faults[keyPath: path] = p
        }
        for (key, path) in millisecondKeys {
            guard let v = fields[key] else { continue }
            guard let ms = v.doubleValue, ms >= 0, ms <= 60_000 else { return .failure(FaultsError("\(key) must be between 0 and 60000")) }
            faults[keyPath: path] = ms
        }
        if let v = fields["holdWrites"] {
            guard let n = v.doubleValue, n >= 0, n <= 1000, n == n.rounded() else {
                return .failure(FaultsError("holdWrites must be a whole number between 0 and 1000"))
            }
            faults.holdWrites = Int(n)
        }
        return .success(faults)
    }

    public var json: JSONValue {
        var fields: [String: JSONValue] = [:]
        for (key, path) in Self.probabilityKeys + Self.millisecondKeys { fields[key] = .double(self[keyPath: path]) }
        fields["holdWrites"] = .int(Int64(holdWrites))
        return .object(fields)
    }
}

/// Why a fault specification was refused.
public struct FaultsError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Draws faults from a seeded generator: the same seed gives the same sequence of draws.
final class FaultInjector: Sendable {
    enum Outcome: Equatable { case proceed, status(Int), reset }

    private struct State {
        var faults: Faults
        var rng: SeededRandom
        /// Bumped each time the faults are replaced: a held write waits for the next one.
        var generation: UInt64 = 0
        var held = 0
    }

    private let state: Mutex<State>

    init(faults: Faults, seed: UInt64) {
        state = Mutex(State(faults: faults, rng: SeededRandom(seed: seed ^ 0xFA17_5EED)))
    }

    var faults: Faults {
        get { state.withLock { $0.faults } }
    }

    /// Replaces the faults, releasing every write held under the ones before.
    func set(_ faults: Faults) {
        state.withLock {
            $0.faults = faults
            $0.generation &+= 1
        }
    }

    /// API writes held now (`holdWrites`), waiting for the faults to be replaced.
    var writesHeld: Int { state.withLock { $0.held } }

    /// Waits, if `holdWrites` holds this write, until the faults are replaced (or the tenant stops).
    func holdIfAsked(write: Bool) async {
        guard write else { return }
        let generation = state.withLock { s -> UInt64? in
            guard s.faults.holdWrites > 0 else { return nil }
            s.faults.holdWrites -= 1
            s.held += 1
            return s.generation
        }
        guard let generation else { return }
        defer { state.withLock { $0.held -= 1 } }
        await waitWhileHeld { state.withLock { $0.generation == generation } }
    }

    /// The added latency (seconds) and what happens to one API request (`write`: one that changes state).
    func draw(write: Bool) -> (latency: Double, outcome: Outcome) {
        state.withLock { s in
            let f = s.faults
            let latency = (f.latencyMs + (f.jitterMs > 0 ? s.rng.unit() * f.jitterMs : 0) + (write ? f.writeLatencyMs : 0)) / 1000
            let r = s.rng.unit()
            var edge = f.status429
            if r < edge { return (latency, .status(429)) }
            edge += f.status500
            if r < edge { return (latency, .status(500)) }
            edge += f.status503
            if r < edge { return (latency, .status(503)) }
            edge += f.reset
            if r < edge { return (latency, .reset) }
            return (latency, .proceed)
        }
    }

    /// True with the probability of `keyPath`, and a deterministic value in [0, 1) for the caller.
    func roll(_ keyPath: KeyPath<Faults, Double>) -> (hit: Bool, value: Double) {
        state.withLock { s in
            let p = s.faults[keyPath: keyPath]
            guard p > 0 else { return (false, 0) }
            return (s.rng.unit() < p, s.rng.unit())
        }
    }
}
