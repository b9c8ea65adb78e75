import Foundation
import Testing
import TestSupport

@testable import Runbook

/// A run's locks as a run holds them: renewed while it lives, waited for, deadlocks broken.
@Suite("Run locks held by a run")
struct LeaseKeeperTests {
    static func store() throws -> AuditStore { try AuditStore(path: try temporaryFolder("leases") + "/audit.sqlite") }

    static func keeper(_ store: AuditStore, _ run: String, timeout: Double = 30, ttl: Double = 60) -> LeaseKeeper {
        LeaseKeeper(store: store, tenant: "https://t.example", runID: run, operatorName: "ana", timeout: timeout, ttl: ttl)
    }

    /// Polls `condition` (bounded); whether it came true.
    static func eventually(_ condition: () throws -> Bool) async throws -> Bool {
        try await TestSupport.eventually(within: .seconds(10), poll: .milliseconds(20)) { try condition() }
    }

    @Test func aHeldLeaseIsRenewedWhileTheRunLivesAndFreedAtItsEnd() async throws {
        let store = try Self.store()
        let keeper = Self.keeper(store, "r1", ttl: 0.4)
        try await keeper.acquire("queue:q1", for: "deploy")
        let first = try #require(try store.leases(now: 0).first?.expiresAt)
        #expect(try await Self.eventually { (try store.leases(now: 0).first?.expiresAt ?? 0) > first }, "the heartbeat renews it")
        keeper.releaseAll()
        #expect(try store.leases(now: 0).isEmpty)
    }

    @Test func aWriteWaitsOutItsTimeoutThenFailsNamingTheHolder() async throws {
        let store = try Self.store()
        try await Self.keeper(store, "r1").acquire("queue:q1", for: "deploy")
        do {
            try await Self.keeper(store, "r2", timeout: 0.2).acquire("queue:q1", for: "deploy")
            Issue.record("the lease was taken twice")
        } catch {
            #expect(error.code == .locked && error.message.contains("queue:q1 is locked by run r1 (operator ana, pid \(getpid())"), "\(error.message)")
            #expect(error.message.contains("waited 0.2 s"), "\(error.message)")
        }
    }

    /// A run stopped (its task cancelled) while it waits for a lease stops waiting: a cancelled
    /// sleep returns at once, so waiting on would spin against the store until the timeout.
    @Test func aStoppedRunStopsWaitingForALease() async throws {
        let store = try Self.store()
        try await Self.keeper(store, "r1").acquire("queue:q1", for: "deploy")
        let waiting = Task { try await Self.keeper(store, "r2", timeout: 5).acquire("queue:q1", for: "deploy") }
        waiting.cancel()
        do {
            try await waiting.value
            Issue.record("the lease was taken twice")
        } catch {
            let failure = error as? BindingError
            #expect(failure?.code == .locked && failure?.message.contains("stopped waiting (the run was interrupted); nothing was sent") == true, "\(error)")
        }
    }

    @Test func ofTwoRunsWaitingForEachOtherTheYoungerGivesWayAtOnce() async throws {
        let store = try Self.store()
        let older = Self.keeper(store, "20261126T100000Z-aaaa"), younger = Self.keeper(store, "20261126T100001Z-bbbb")
        try await older.acquire("queue:a", for: "deploy")
        try await younger.acquire("queue:b", for: "deploy")
        let olderWaits = Task { try await older.acquire("queue:b", for: "deploy") }
        // The younger asks for what the older holds while the older waits for the younger's: it
        // sees the cycle on its first look after the older's wait is recorded, and gives way.
        do {
            try await younger.acquire("queue:a", for: "deploy")
            Issue.record("the younger run got the older's lease")
        } catch {
            #expect(error.code == .locked && error.message.contains("deadlock"), "\(error.message)")
        }
        younger.releaseAll()
        try await olderWaits.value
        let held = try store.leases(now: 0)
        #expect(Set(held.map(\.target)) == ["queue:a", "queue:b"] && held.allSatisfy { $0.runID == "20261126T100000Z-aaaa" }, "\(held)")
    }
}
