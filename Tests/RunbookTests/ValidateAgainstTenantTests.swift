import Foundation
import Testing
import TestSupport

@testable import Runbook

/// What `validate` calls valid, the tenant accepts: random edits of real queue documents (fields,
/// types, ranges, lists, overflow targets), each payload `validate` passes is deployed, and none
/// may come back `invalid`. Found, before the `fields` rule and the list and overflow-target
/// checks: channels the tenant does not serve, concurrency and wrap-up out of range, `{}` sent as
/// an object where a list belongs, an overflow target that does not exist on a drop action; and
/// later a skill requirement's proficiency given as a number, or a null one (or a null entry); and
/// a priority level of 1e300, on which validate itself raised.
@Suite("validate against the tenant")
struct ValidateAgainstTenantTests {
    static let script = #"""
        local ids = {}
        for _, q in ipairs(queues()) do ids[#ids + 1] = q.id end
        local sk = skills()
        local function any_skill() return sk[math.random(#sk)].id end
        local fields = {"maxWaitTime", "maxWaiters", "wrapUpTime", "maxHoldTime", "concurrency", "name", "channel",
          {"serviceLevelTarget", "threshold"}, {"serviceLevelTarget", "time"}, {"routing", "strategy"}, {"routing", "longestIdleSeconds"},
          {"routing", "priority"}, {"waitStrategy", "positionThreshold"}, {"waitStrategy", "abandonmentThreshold"},
          {"callback", "positionThreshold"}, {"callback", "enabled"}, {"overflow", "enabled"}, {"overflow", "waitTime"},
          {"overflow", "action"}, {"overflow", "targetQueueId"}, "skills", "skillRequirements", "routing", "overflow", "serviceLevelTarget"}
        local function value()
          local pool = {0, 1, -1, 2, 5, 6, 10, 11, 29, 30, 31, 50, 51, 100, 101, 300, 301, 600, 601, 3600, 3601, 86400, 86401, 1.5,
            2.0, -0.0, 2^53, 1e300, math.mininteger, "300", {0}, {1e300}, {threshold = "80"}, {{id = any_skill(), level = 2.5}},
            "x", "", true, false, "priority", "skill_based", "weighted", "drop", "routeToQueue", "voice", "fax", cx.null,
            {}, cx.array{}, {1, 2}, {enabled = true, levels = {1, 2}}, {enabled = true, levels = {}}, {enabled = false},
            {{id = any_skill(), level = 3}}, {{id = any_skill(), level = 6}}, {{id = "nope", level = 1}}, {{level = 2}},
            {{skill = "x", proficiency = "advanced", required = true}}, {{skill = 5}}, {{skill = "x", proficiency = 3}},
            {{skill = "x", proficiency = cx.null}}, {{skill = cx.null}}, {{required = cx.null}}, {cx.null}, ids[math.random(#ids)],
            {action = "drop", enabled = true}, {action = "routeToQueue", enabled = true, targetQueueId = ids[math.random(#ids)], waitTime = 60},
            {threshold = 80, time = 20}, {threshold = 101, time = 0}, {strategy = "random"}, {strategy = "priority"}}
          return pool[math.random(#pool)]
        end
        math.randomseed(tonumber(cx.args[1]))
        local valid, refused = 0, 0
        for _ = 1, tonumber(cx.args[2]) do
          local id = ids[math.random(#ids)]
          local q = fetch(id)
          local change = {}
          for _ = 1, math.random(1, 3) do
            local f, v = fields[math.random(#fields)], value()
            if type(f) == "table" then
              if type(change[f[1]]) ~= "table" then change[f[1]] = {} end
              change[f[1]][f[2]] = v
            else
              change[f] = v
            end
          end
          local built, payload = pcall(build, q, change)
          if built and validate(payload) then
            valid = valid + 1
            local ok, err = pcall(deploy, id, payload)
            if not ok and err.code == "invalid" then
              refused = refused + 1
              print("REFUSED", require("cx.diff").render(change), err.message)
            end
          end
        end
        print("valid", valid, "refused", refused)
        """#

    @Test(arguments: [11, 12, 13])
    func whatValidatePassesTheTenantAccepts(_ seed: Int) async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, output) = try await bench.run(Self.script, args: [String(seed), "250"])
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let last = output.split(separator: "\n").last.map(String.init) ?? ""
            let fields = last.split(separator: "\t")
            #expect(fields.count == 4 && fields[3] == "0", "every payload validate passed was accepted:\n\(output)")
            #expect((fields.count == 4 ? Int(fields[1]) ?? 0 : 0) >= 10, "enough payloads passed to mean something: \(last)")
        }
    }
}
