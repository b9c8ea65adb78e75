import JSONCore
import Testing

@testable import Runbook

/// The run's overflow graph: the validators' fast path for "how long is the chain into this queue?"
@Suite("Overflow graph")
struct OverflowGraphTests {
    static func queue(_ id: String, v: Int64, to target: String?, enabled: Bool = true) -> JSONValue {
        ["id": .string(id), "version": .int(v),
         "overflow": target.map { ["enabled": .bool(enabled), "action": "routeToQueue", "targetQueueId": .string($0)] } ?? ["enabled": false]]
    }

    @Test func longestChainIntoAQueueFollowsTheLatestVersionOfEachLink() {
        var g = OverflowGraph()
        // a -> b -> c, and d -> c: the longest chain into c is a -> b (2 links), starting at a.
        for q in [Self.queue("a", v: 1, to: "b"), Self.queue("b", v: 1, to: "c"), Self.queue("d", v: 1, to: "c"), Self.queue("c", v: 1, to: nil)] {
            g.remember(q)
        }
        #expect(g.upstream(of: "c") == (2, "a"))
        #expect(g.upstream(of: "a") == (0, nil))
        g.remember(Self.queue("a", v: 2, to: nil))  // a's link removed
        #expect(g.upstream(of: "c").depth == 1)
        g.remember(Self.queue("a", v: 1, to: "b"))  // an older version changes nothing
        #expect(g.upstream(of: "c").depth == 1)
        g.remember(Self.queue("d", v: 2, to: "c", enabled: false))
        g.remember(Self.queue("c", v: 2, to: "b"))  // b -> c -> b: a cycle is walked once, not forever
        #expect(g.upstream(of: "b").depth == 1)
    }
}
