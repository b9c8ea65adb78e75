import Foundation
import Testing
import TestSupport

@testable import Runbook
@testable import SandboxTenant

/// The sandbox tenant's metrics and the stdlib's capacity math are the same math: a runbook that
/// recomputes a queue's abandonment, wait and service level with `cx.capacity.erlang_a` from the
/// tenant's own inputs (offered load, servers, handle time, the queue's patience) gets the
/// tenant's figures, at a quiet hour and at the peak. (Callers who would hang up take a callback
/// at the queue's callback conversion rate instead: hang-ups are Erlang A's times one minus it.)
@Suite("Sandbox metrics agree with cx.capacity")
struct TrafficMathTests {
    @Test(arguments: ["2026-01-05T03:00:00Z", "2026-01-05T12:00:00Z"])
    func erlangAFromTheTenantsInputsGivesTheTenantsFigures(_ clock: String) async throws {
        let bench = try await Bench.start { $0.clock = SimClock.parse(clock) }
        try await stopping(bench) {
            let (result, output) = try await bench.run("""
                local capacity = require("cx.capacity")
                local by_id = {}
                for _, q in ipairs(queues()) do by_id[q.id] = q end
                local worst, checked, busy = 0, 0, 0
                for _, m in ipairs(analytics(nil, { interval = "PT1H" })) do
                  local q = by_id[m.queue_id]
                  local patience = math.max(5, (q.waitStrategy or {}).abandonmentThreshold or 120)
                  local sla = (q.serviceLevelTarget or {}).time or 20
                  local r = capacity.erlang_a(m.servers, m.offeredLoad, m.averageHandleTime, patience)
                  local sl = capacity.erlang_a_service_level(m.servers, m.offeredLoad, m.averageHandleTime, patience, sla)
                  local hang_ups = r.abandon_probability * (1 - m.callbackConversionRate)
                  worst = math.max(worst, math.abs(hang_ups - m.abandonRate), math.abs(sl - m.serviceLevel),
                    math.abs(r.mean_wait - m.averageWaitTime) / math.max(1, m.averageWaitTime))
                  checked = checked + 1
                  if r.wait_probability > 0.1 then busy = busy + 1 end
                end
                print(checked, busy, worst)
                """)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let fields = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\t").compactMap { Double($0) }
            try #require(fields.count == 3, "\(output)")
            #expect(fields[0] == 48, "every queue compared")
            #expect(fields[1] > 0, "some queues wait, so the comparison is not only of zeros")
            // The tenant reports its figures to 4 decimals (and its inputs to 4 as well).
            #expect(fields[2] < 2e-3, "largest difference \(fields[2]) at \(clock)")
        }
    }
}
