import CXone
import Foundation
import JSONCore
import Testing
import TestSupport

@testable import Runbook

/// `cxrun plan` / `cxrun apply` through the Runbook facade, against the sandbox tenant over HTTP.
@Suite("Plan and apply")
struct PlanApplyTests {
    /// Plans `maxWaitTime` (and a priority strategy on the second queue) for the first two
    /// voice queues, plus a webhook.
    static let script = #"""
        local picked = queues({channel = "voice"})
        local a = fetch(picked[1].id)
        local b
        for i = 2, #picked do
          if picked[i].routing.strategy ~= "priority" then b = fetch(picked[i].id); break end
        end
        deploy(a.id, build(a, {maxWaitTime = 301}))
        deploy(b.id, build(b, {maxWaitTime = 302, routing = {strategy = "priority", priority = {enabled = true, levels = {1, 2}}}}))
        webhook("wfm", {event = "planned_change", queues = {a.id, b.id}})
        print(a.id, b.id)
        """#

    /// Plans `source` as `cxrun plan` does; returns the plan, its file text and the two queue ids.
    static func plan(_ bench: Bench, _ source: String = script, key: PlanKey? = nil, createdAt: Date = Date()) async throws
        -> (plan: Plan, file: String, ids: [String])
    {
        let printed = Captured()
        let request = RunbookRequest(
            scriptPath: "book.lua", source: source, args: ["token=abc"], tenant: bench.tenant(), dryRun: true, limits: RunLimits(timeout: 60),
            auditPath: bench.auditPath, stdlib: stdlibPath, output: { printed.append($0) }, log: { _, _ in })
        let result = try await RunbookSession.run(request)
        #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
        let plan = Plan(request: request, result: result, createdAt: createdAt)
        let ids = printed.value.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\t").map(String.init)
        try #require(source != script || ids.count == 2, "the script printed its targets: \(printed.value)")
        return (plan, plan.file(key: key), ids)
    }

    static func apply(_ bench: Bench, _ file: String, key: PlanKey? = nil, tenant: ResolvedTenant? = nil, options: PlanApply.Options = .init())
        async throws(PlanError) -> PlanApply.Report
    {
        let plan = try Plan.read(file, key: key)
        var options = options
        if options.stdlib == nil { options.stdlib = stdlibPath }
        return try await PlanApply.apply(plan, file: file, tenant: tenant ?? bench.tenant(), auditPath: bench.auditPath, options: options)
    }

    /// Another admin's edit, straight through the API.
    static func edit(_ bench: Bench, _ id: String, _ path: [String], _ value: JSONValue) async throws {
        let client = CXoneClient(endpoint: bench.tenant().endpoint!)
        let doc = try await client.queue(id).value
        _ = try await client.putQueue(id, doc.setting(value, at: path), ifMatch: doc["version"]?.intValue)
    }

    static func queue(_ bench: Bench, _ id: String) async throws -> JSONValue {
        try await CXoneClient(endpoint: bench.tenant().endpoint!).queue(id).value
    }

    static func writes(_ bench: Bench) async throws -> [String] {
        try await bench.requests().filter { $0["method"]?.stringValue != "GET" && $0["path"]?.stringValue?.hasPrefix("/api/") == true }
            .compactMap { $0["path"]?.stringValue }
    }

    @Test func aPlanReadsLikeAReviewAndItsFileRoundTrips() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (plan, file, ids) = try await Self.plan(bench)
            #expect(plan.actions.map(\.kind) == [.queue, .queue, .webhook])
            #expect(plan.actions[0].target == ids[0] && plan.actions[0].baseVersion == 1 && plan.actions[0].baseSHA256?.count == 64)
            #expect(plan.args == ["token=[redacted]"], "arguments are kept with secrets masked: \(plan.args.jsonString())")
            let text = PlanText.render(plan.actions, color: false)
            #expect(text.contains("(queue \(PlanText.short(ids[0])), v1)\n    ~ maxWaitTime: "), "\(text)")
            #expect(text.contains("-> 302") && text.contains("~ routing.strategy: ") && text.contains("-> \"priority\""), "\(text)")
            let hook = try #require(bench.tenant().webhooks["wfm"]?.url)
            #expect(text.contains("+ webhook wfm\n    to: \(PlannedChange.shownURL(hook))\n    payload: {\"event\":\"planned_change\""), "\(text)")
            #expect(PlannedChange.shownURL(hook).hasPrefix("http://127.0.0.1:") && PlannedChange.shownURL(hook).hasSuffix("/…"))
            #expect(text.hasSuffix("Plan: 2 queues to change, 1 webhook.\n"), "\(text)")
            #expect(PlanText.render(plan.actions, color: true).contains("\u{1B}[33m~\u{1B}[0m "), "colours when asked (a TTY)")
            #expect(!text.contains("\u{1B}"), "no colours otherwise")
            let back = try Plan.read(file, key: nil)
            #expect(back.file(key: nil) == file, "reading and writing a plan changes no byte")
            #expect(back.actions.map(\.changes) == plan.actions.map(\.changes))
        }
    }

    /// A changed list of items with ids reads item by item under its one line: a reviewer
    /// compared the two whole lists, ids and all, to find the one level that changed.
    @Test func aChangedListOfItemsWithIdsReadsItemByItem() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (result, _) = try await bench.run(#"""
                local q
                for _, s in ipairs(queues()) do if #s.skills >= 2 then q = fetch(s.id) break end end
                local skills = {}
                for i, s in ipairs(q.skills) do skills[#q.skills - i + 1] = {id = s.id, level = s.level} end
                skills[1].level = skills[1].level % 5 + 1  -- the last of the fetched order, moved first
                table.remove(skills, #skills)              -- the first dropped
                deploy(q.id, build(q, {skills = skills}))
                """#, dryRun: true)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let text = result.plannedChanges.map(\.text).joined(separator: "\n")
            let lines = text.split(separator: "\n").map(String.init)
            let items = lines.filter { $0.hasPrefix("        ") }
            #expect(items.count == 2, "\(text)")
            #expect(items.contains { $0.hasPrefix("        ~ [id ") && $0.contains("] level: ") }, "\(text)")
            #expect(items.contains { $0.hasPrefix("        - [id ") && $0.contains("\"level\":") }, "\(text)")
        }
        let same: JSONValue = [["id": "a", "level": 1], ["id": "b", "level": 2]]
        #expect(PlanText.itemLines(same, [["id": "b", "level": 2], ["id": "a", "level": 1]], shown: { $0.jsonString() })
                == ["        (the same items in another order)"])
        #expect(PlanText.itemLines([["skill": "s1", "required": true]], [["skill": "s1", "required": false], ["skill": "s2"]], shown: { $0.jsonString() })
                == ["        ~ [skill s1] required: true -> false", #"        + [skill s2] {"skill":"s2"}"#])
        #expect(PlanText.itemLines([1, 2], [2], shown: { $0.jsonString() }) == nil, "a list of plain values says it all in one line")
        #expect(PlanText.itemLines([["id": "a"], ["id": "a"]], [["id": "a"]], shown: { $0.jsonString() }) == nil, "ids given twice: no item key")
    }

    @Test func applyChangesExactlyThePlannedFieldsWhateverTheScriptDoesSince() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (_, file, ids) = try await Self.plan(bench)
            let before = try await (Self.queue(bench, ids[0]), Self.queue(bench, ids[1]))
            #expect(try await Self.writes(bench).isEmpty, "planning wrote nothing")
            // The script is gone (or rewritten): apply runs no script.
            let report = try await Self.apply(bench, file)
            #expect(!report.failed && report.lines.map(\.state) == [.applied, .applied, .applied], "\(report.lines.map(\.message))")
            #expect(try await Self.writes(bench) == ["/api/v2/routing/queues/\(ids[0])", "/api/v2/routing/queues/\(ids[1])"],
                    "one write per queue, nothing else")
            let a = try await Self.queue(bench, ids[0]), b = try await Self.queue(bench, ids[1])
            #expect(before.0.changes(to: a, ignoring: ["version"]).map(\.dotted) == ["maxWaitTime"])
            #expect(a["maxWaitTime"] == 301 && b["maxWaitTime"] == 302 && b.value(at: ["routing", "strategy"]) == "priority")
            let deliveries = try await bench.send(.GET, "/_sim/webhooks")
            #expect(deliveries.jsonString().contains("planned_change"), "the planned payload was delivered: \(deliveries.jsonString())")
            // Linked in the audit log: the run names the plan, the plan is kept with it.
            let run = try bench.audit.run(report.runID)
            #expect(run?.planID != nil && run?.status == .succeeded)
            #expect(try bench.audit.planFile(appliedBy: report.runID) == file)
            let bindings = try bench.audit.calls(run: report.runID).map(\.binding)
            // The targets read, the queues and skills the rules check them against, the writes.
            #expect(bindings == ["fetch", "fetch", "queues", "skills", "deploy", "deploy", "webhook"], "one row per call: \(bindings)")
            // Applied once only.
            do throws(PlanError) {
                _ = try await Self.apply(bench, file)
                Issue.record("a second apply of the same plan went through")
            } catch { #expect(error.description.contains("has been applied: run \(report.runID)"), "\(error)") }
            // And undone like any run's deploys.
            let undo = try await RollbackSession.run(of: report.runID, queues: [], tenant: bench.tenant(), auditPath: bench.auditPath, force: false, dryRun: false)
            #expect(undo.lines.allSatisfy { $0.ok }, "\(undo.lines.map(\.message))")
            #expect(try await Self.queue(bench, ids[0])["maxWaitTime"] == before.0["maxWaitTime"])
            #expect(try await Self.queue(bench, ids[1]).value(at: ["routing", "strategy"]) == before.1.value(at: ["routing", "strategy"]))
        }
    }

    /// A plan applied again with another local audit log (whose once-only check cannot see the
    /// first apply) sends its webhook again, under the same delivery id: a receiver that drops an
    /// id it has seen drops it. (Each apply drew a new id, so nothing could tell the two apart.)
    @Test func aPlansWebhookHasOneDeliveryIdAtEveryApply() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (_, file, _) = try await Self.plan(bench)
            let first = try await Self.apply(bench, file)
            #expect(!first.failed, "\(first.lines.map(\.message))")
            let plan = try Plan.read(file, key: nil)
            var options = PlanApply.Options()
            options.stdlib = stdlibPath
            let elsewhere = try await PlanApply.apply(plan, file: file, tenant: bench.tenant(), auditPath: bench.auditPath + ".elsewhere.sqlite",
                                                      options: options)
            #expect(elsewhere.lines.map(\.state) == [.unchanged, .unchanged, .applied], "\(elsewhere.lines.map(\.message))")
            let ids = try #require(try await bench.send(.GET, "/_sim/webhooks")["deliveries"]?.arrayValue).compactMap { $0["deliveryId"]?.stringValue }
            #expect(ids.count == 2 && Set(ids).count == 1, "\(ids)")
            #expect(ids.first.flatMap(UUID.init(uuidString:)) != nil, "a UUID, as receivers expect: \(ids)")
            // Another plan's webhook, or another webhook of this plan, has an id of its own.
            #expect(Plan.deliveryID(plan: plan.id, action: 2) == ids.first && Plan.deliveryID(plan: plan.id, action: 3) != ids.first
                    && Plan.deliveryID(plan: plan.id + "x", action: 2) != ids.first)
        }
    }

    /// A script that reads back what it wrote and builds on it plans what it would do: a fetch in
    /// a dry run reads the run's planned writes. Before, it read the tenant's unchanged queue, and a
    /// script adding 1 twice planned +1. Applied, the plan leaves every queue as a real run of the
    /// script does (on a second tenant with the same seed).
    @Test func aPlanIsWhatTheScriptWouldDoWhenItReadsItsOwnWrites() async throws {
        let source = #"""
            local ids = {}
            for _, q in ipairs(queues({channel = "voice"})) do ids[#ids + 1] = q.id end
            for i = 1, 3 do
              local id = ids[i]
              local q = fetch(id)
              deploy(id, build(q, {maxWaitTime = q.maxWaitTime + 1}))
              local q2 = fetch(id)
              deploy(id, build(q2, {maxWaitTime = q2.maxWaitTime + 1, wrapUpTime = q2.maxWaitTime % 60}))
              local q3 = fetch(id)
              patch(id, {version = q3.version, maxHoldTime = (q3.maxWaitTime + q3.wrapUpTime) % 300})
              deploy(id, build(q, {maxWaiters = 7}))  -- from the first, stale fetch: merged, as a real run merges it
              local ok, e = pcall(deploy, id, build(q, {maxWaitTime = 1}))  -- stale, and a field changed since: a conflict
              assert(not ok and e.code == "conflict", "a stale overlapping write is a conflict in a plan too")
            end
            -- Rolled back in the run, then changed again: the plan holds the last change alone.
            local id = ids[4]
            local q = fetch(id)
            deploy(id, build(q, {maxWaitTime = 77}))
            rollback(id)
            assert(fetch(id).maxWaitTime == q.maxWaitTime, "a dry run reads its planned rollback")
            deploy(id, build(fetch(id), {maxWaiters = 9}))
            print(table.concat(ids, "	", 1, 4))
            """#
        let planned = try await Bench.start()
        let real = try await Bench.start()
        try await stopping(planned) {
            try await stopping(real) {
                let (plan, file, ids) = try await Self.plan(planned, source)
                #expect(plan.actions.count == 4 && plan.actions.allSatisfy { $0.baseVersion == 1 }, "one net change per queue, over the tenant's version")
                #expect(plan.actions.last?.changes.map(\.dotted) == ["maxWaiters"], "\(plan.actions.last?.changes.map(\.dotted) ?? [])")
                let report = try await Self.apply(planned, file)
                #expect(!report.failed, "\(report.lines.map(\.message))")
                let (ran, _) = try await real.run(source)
                #expect(ran.outcome.status == .succeeded, "\(ran.outcome.failureText)")
                for id in ids {
                    let (a, b) = (try await Self.queue(planned, id), try await Self.queue(real, id))
                    #expect(a.changes(to: b, ignoring: ["version"]).isEmpty, "\(id): \(a.changes(to: b, ignoring: ["version"]).map(\.dotted))")
                }
            }
        }
    }

    /// What is reviewed is what a run would do, at random: scripts of random fetches, deploys and
    /// patches built on what they read back, stale writes (merged, or a conflict under pcall) and
    /// in-run rollbacks, planned and applied on one tenant, end exactly as a real run of the
    /// script on a second tenant with the same seed. (80 more seeds by hand.)
    @Test func aPlanAppliedEndsAsARealRunOfRandomScripts() async throws {
        let source = #"""
            math.randomseed(tonumber(cx.args[1]))
            local ids = {}
            for _, q in ipairs(queues()) do ids[#ids + 1] = q.id end
            local fields = {
              function(d) return {maxWaitTime = d.maxWaitTime % 3000 + math.random(500)} end,
              function(d) return {maxHoldTime = (d.maxHoldTime + math.random(50)) % 300} end,
              function(d) return {wrapUpTime = (d.wrapUpTime + math.random(100)) % 3600} end,
              function() return {maxWaiters = math.random(100)} end,
            }
            local docs = {}
            for _ = 1, tonumber(cx.args[2]) do
              local i = math.random(4)
              local id, op = ids[i], math.random(7)
              docs[i] = docs[i] or fetch(id)
              if op <= 2 then
                docs[i] = fetch(id)
              elseif op <= 4 then
                local d = fetch(id)
                deploy(id, build(d, fields[math.random(4)](d)))
              elseif op == 5 then
                local d = fetch(id)
                local c = fields[math.random(4)](d)
                c.version = d.version
                patch(id, c)
              elseif op == 6 then
                local d = docs[i]
                pcall(deploy, id, build(d, fields[math.random(4)](d)))
              else
                pcall(rollback, id)
              end
            end
            print(table.concat(ids, "\t", 1, 4))
            """#
        let planned = try await Bench.start()
        let real = try await Bench.start()
        try await stopping(planned) {
            try await stopping(real) {
                for seed in 1...4 {
                    for bench in [planned, real] { _ = try await bench.send(.POST, "/_sim/reset") }
                    let printed = Captured()
                    let request = RunbookRequest(
                        scriptPath: "random.lua", source: source, args: [String(seed), "16"], tenant: planned.tenant(), dryRun: true,
                        limits: RunLimits(timeout: 60), auditPath: planned.auditPath, stdlib: stdlibPath, output: { printed.append($0) }, log: { _, _ in })
                    let result = try await RunbookSession.run(request)
                    #expect(result.outcome.status == .succeeded, "seed \(seed): \(result.outcome.failureText)")
                    let plan = Plan(request: request, result: result, createdAt: Date())
                    if !plan.actions.isEmpty {
                        let report = try await Self.apply(planned, plan.file(key: nil))
                        #expect(!report.failed, "seed \(seed): \(report.lines.map(\.message))")
                    }
                    let (ran, _) = try await real.run(source, args: [String(seed), "16"])
                    #expect(ran.outcome.status == .succeeded, "seed \(seed): \(ran.outcome.failureText)")
                    for id in printed.value.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\t").map(String.init) {
                        let (a, b) = (try await Self.queue(planned, id), try await Self.queue(real, id))
                        #expect(a.changes(to: b, ignoring: ["version"]).isEmpty, "seed \(seed), \(id): \(a.changes(to: b, ignoring: ["version"]).map(\.dotted))")
                    }
                }
            }
        }
    }

    @Test func anEditToOtherFieldsIsKeptAndAnEditToAPlannedFieldMakesThePlanStale() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (_, file, ids) = try await Self.plan(bench)
            try await Self.edit(bench, ids[0], ["maxWaiters"], 77)  // another field: both survive
            try await Self.edit(bench, ids[1], ["maxWaitTime"], 999)  // a planned field: stale
            let written = try await Self.writes(bench).count
            let refused = try await Self.apply(bench, file)
            #expect(refused.refused && refused.failed)
            #expect(refused.stale.map(\.target) == [ids[1]] && refused.stale.first?.fields == ["maxWaitTime"], "\(refused.stale)")
            #expect(try await Self.writes(bench).count == written, "a stale plan writes nothing")
            #expect(try await Self.queue(bench, ids[0])["maxWaitTime"] != 301)
            #expect(try bench.audit.run(refused.runID)?.status == .failed)

            var options = PlanApply.Options()
            options.skipStale = true
            let delivered = try #require(try await bench.send(.GET, "/_sim/webhooks")["deliveries"]?.arrayValue?.count)
            let report = try await Self.apply(bench, file, options: options)
            // The webhook names both queues: sent after one was skipped, it reported a change that
            // did not happen (it was delivered).
            #expect(report.lines.map(\.state) == [.merged, .skipped, .skipped], "\(report.lines.map(\.message))")
            #expect(report.lines[1].message.contains("maxWaitTime"))
            #expect(report.lines[2].message.hasPrefix("not sent: planned after 1 change that did not happen"), "\(report.lines[2].message)")
            #expect(try await bench.send(.GET, "/_sim/webhooks")["deliveries"]?.arrayValue?.count == delivered, "nothing delivered")
            let a = try await Self.queue(bench, ids[0]), b = try await Self.queue(bench, ids[1])
            #expect(a["maxWaitTime"] == 301 && a["maxWaiters"] == 77, "the plan's change and the other admin's both survive")
            #expect(b["maxWaitTime"] == 999 && b.value(at: ["routing", "strategy"]) != "priority", "the stale queue is untouched")
        }
    }

    @Test func tamperedForeignExpiredAndUnsignedPlansAreRefused() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (_, file, _) = try await Self.plan(bench)
            func refusal(_ text: String, key: PlanKey? = nil, tenant: ResolvedTenant? = nil, options: PlanApply.Options = .init()) async -> String {
                do {
                    _ = try await Self.apply(bench, text, key: key, tenant: tenant, options: options)
                    return "applied"
                } catch { return error.description }
            }
            // Any byte of an action: a value, a base version, a target.
            #expect(await refusal(file.replacingOccurrences(of: "301", with: "302")).contains("changed after planning"))
            #expect(await refusal(file.replacingOccurrences(of: "\"base_version\" : 1", with: "\"base_version\" : 2")).contains("changed after planning"))
            #expect(await refusal(String(file.dropLast(3))).contains("the plan file is invalid JSON"))
            // A key given twice leaves the digest of what cxrun reads intact, but a reviewer's
            // reader may show the other value: refused, naming the key.
            let twice = file.replacingOccurrences(of: "\"new\" : 301", with: "\"new\" : 999, \"new\" : 301")
            #expect(twice != file)
            #expect(await refusal(twice).contains("the key \"new\" is given twice"))
            var other = bench.tenant()
            other.name = "prod"
            #expect(await refusal(file, tenant: other).contains("the plan is for tenant test"))
            // Its webhook configured to go elsewhere here (a staging WFM): where a payload goes was reviewed too.
            var staging = bench.tenant()
            staging.webhooks["wfm"]?.url = "https://wfm-staging.example/hook?token=s3cr3t"
            let refused = await refusal(file, tenant: staging)
            #expect(refused.contains("to http://127.0.0.1:") && refused.contains("/…, and here it goes to https://wfm-staging.example/…: apply it where"), "\(refused)")
            #expect(!file.contains("/_sim/webhooks/wfm") && !refused.contains("s3cr3t"), "a path or query can hold a token: neither kept nor shown")
            staging.webhooks["wfm"]?.url = (bench.tenant().webhooks["wfm"]?.url ?? "") + "2"
            #expect(await refusal(file, tenant: staging).contains("(another path)"))
            var strict = PlanApply.Options()
            strict.now = Date().addingTimeInterval(7200)
            #expect(await refusal(file, options: strict).contains("minutes old"))
            // Signed plans: the key is needed, and a key makes unsigned plans unacceptable.
            let key = PlanKey.fromEnvironment(["CXRUN_PLAN_KEY": "team-key-1"])
            #expect(await refusal(file, key: key).contains("not signed"))
            let (_, signed, _) = try await Self.plan(bench, key: key)
            #expect(signed.contains("\"digest\" : \"hmac-sha256:"))
            #expect(await refusal(signed).contains("set CXRUN_PLAN_KEY"))
            #expect(await refusal(signed, key: PlanKey.fromEnvironment(["CXRUN_PLAN_KEY": "another"])).contains("signature does not match"))
            #expect(try await Self.writes(bench).isEmpty, "no refused plan wrote anything")
            #expect(await refusal(signed, key: key) == "applied")
        }
    }

    /// A script that sets the first three queues' maxWaitTime to `value` (Lua, of `q` and `i`),
    /// then tells WFM.
    static func threeWaitTimes(_ value: String) -> String {
        """
        local qs = queues()
        for i = 1, 3 do
          local q = fetch(qs[i].id)
          deploy(q.id, build(q, {maxWaitTime = \(value)}))
        end
        webhook("wfm", {event = "rebalanced", queues = 3})
        """
    }

    /// A plan whose change breaks cxrun's rules is refused as a whole before anything is written:
    /// the apply used to write the first queue, stop at the tenant's 400 on the second, and leave
    /// the tenant half-changed. The plan said so in review, and the refusal names the problem.
    @Test func aPlanBreakingTheRulesIsRefusedBeforeAnythingIsWritten() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (plan, file, _) = try await Self.plan(bench, Self.threeWaitTimes("i == 2 and -5 or q.maxWaitTime + 1"))
            // The review said nothing of it: the plan now shows what cxrun's rules say, kept in the file.
            #expect(plan.actions.map(\.warnings.count) == [0, 1, 0, 0], "\(plan.actions.map(\.warnings))")
            #expect(plan.actions[1].warnings.first?.contains("maxWaitTime must be between 1 and 3600, got -5") == true)
            #expect(try Plan.read(file, key: nil).actions.map(\.warnings) == plan.actions.map(\.warnings), "the file keeps them")
            let text = PlanText.render(plan.actions, color: false)
            #expect(text.contains("    ! maxWaitTime must be between 1 and 3600, got -5\n") && text.contains("Warning: 1 planned queue is marked (!) by cxrun's rules"),
                    "\(text)")
            #expect(text.contains("cxrun apply refuses the whole plan while a change brings such a problem"), "\(text)")
            let delivered = try #require(try await bench.send(.GET, "/_sim/webhooks")["deliveries"]?.arrayValue?.count)
            let report = try await Self.apply(bench, file)
            #expect(report.failed && report.refused && report.lines.isEmpty, "\(report.lines.map(\.message))")
            #expect(report.broken.map(\.target) == [plan.actions[1].target], "\(report.broken)")
            #expect(report.broken.first?.problems == ["maxWaitTime must be between 1 and 3600, got -5"], "\(report.broken)")
            #expect(try await Self.writes(bench).isEmpty, "nothing written")
            #expect(try await bench.send(.GET, "/_sim/webhooks")["deliveries"]?.arrayValue?.count == delivered, "nothing delivered")
            let row = try bench.audit.run(report.runID)
            #expect(row?.status == .failed && row?.error == "the plan breaks cxrun's rules in 1 planned change; nothing was written", "\(String(describing: row?.error))")
            #expect(try bench.audit.appliedRun(plan: plan.id) == nil, "the plan is not recorded as applied")
        }
    }

    /// A problem the queue had before the plan is shown as such, and does not refuse the apply:
    /// the change does not bring it (a wait of 5000 s, which cxrun's rules call too long and the
    /// sandbox takes, set by someone before).
    @Test func aProblemTheQueueHadBeforeIsShownAsSuchAndDoesNotRefuse() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let id = try #require(try await bench.queues().first?["id"]?.stringValue)
            try await Self.edit(bench, id, ["maxWaitTime"], 5000)
            let (plan, file, _) = try await Self.plan(bench, """
                local q = fetch("\(id)")
                deploy(q.id, build(q, {maxWaiters = 42}))
                """)
            #expect(plan.actions.first?.warnings == ["maxWaitTime must be between 1 and 3600, got 5000 (so already before this change)"],
                    "\(plan.actions.map(\.warnings))")
            let report = try await Self.apply(bench, file)
            #expect(!report.failed && report.lines.map(\.state) == [.applied], "\(report.broken) \(report.lines.map(\.message))")
            #expect(try await Self.queue(bench, id)["maxWaiters"] == 42)
        }
    }

    /// A run that listed the queues knows them all: an overflow target among none of them does not
    /// exist (it said "not known in this run (fetch it or list queues first)" after the listing).
    @Test func anOverflowTargetTheTenantDoesNotHaveIsNamedSo() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (plan, file, _) = try await Self.plan(bench, #"""
                local q = fetch(queues()[2].id)
                deploy(q.id, build(q, {overflow = {enabled = true, action = "routeToQueue", targetQueueId = "missing-queue", waitTime = 60}}))
                """#)
            let expected = "overflow.targetQueueId: overflow target queue missing-queue does not exist in this tenant"
            #expect(plan.actions.first?.warnings == [expected], "\(plan.actions.map(\.warnings))")
            let report = try await Self.apply(bench, file)
            #expect(report.refused && report.broken.first?.problems == [expected], "\(report.broken)")
            #expect(try await Self.writes(bench).isEmpty, "nothing written")
        }
    }

    /// The rules are run with the tenant as it is at the apply, not as it was planned: a
    /// colleague's three overflow links into a queue since the plan make the planned link out of
    /// it a chain of four, which the tenant refuses. The plan, clean when made, is refused before
    /// its first change (a valid one) is written.
    @Test func theRulesSeeTheTenantAsItIsAtTheApply() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            // No overflow link anywhere to begin with: the chains below are the only ones.
            for queue in try await bench.queues() where queue["overflow"]?["enabled"]?.boolValue == true {
                try await Self.edit(bench, try #require(queue["id"]?.stringValue), ["overflow", "enabled"], false)
            }
            let ids = try await bench.queues().prefix(6).compactMap { $0["id"]?.stringValue }
            let (plan, file, _) = try await Self.plan(bench, """
                queues()  -- listed: the plan's rules know every queue
                local first = fetch("\(ids[5])")
                deploy(first.id, build(first, {maxWaitTime = first.maxWaitTime + 1}))
                local q = fetch("\(ids[0])")
                deploy(q.id, build(q, {overflow = {enabled = true, action = "routeToQueue", targetQueueId = "\(ids[1])", waitTime = 60}}))
                """)
            #expect(plan.actions.allSatisfy { $0.warnings.isEmpty }, "clean when planned: \(plan.actions.map(\.warnings))")
            // Another admin links 4 -> 3 -> 2 -> 0, each link valid on its own (the last a chain of three).
            for (from, to) in [(4, 0), (3, 4), (2, 3)] {
                try await Self.edit(bench, ids[from], ["overflow"], ["enabled": true, "action": "routeToQueue", "targetQueueId": .string(ids[to]), "waitTime": 60])
            }
            let report = try await Self.apply(bench, file)
            #expect(report.refused && report.broken.map(\.target) == [ids[0]], "\(report.broken) \(report.lines.map(\.message))")
            let problem = report.broken.first?.problems.first ?? ""
            #expect(problem.contains("overflow chain is 4 deep counting 3 link(s) into this queue (the chain starts at \(ids[2])); the tenant allows 3"),
                    "\(problem)")
            #expect(try await Self.queue(bench, ids[5])["maxWaitTime"] == plan.actions[0].changes.first?.old, "the valid change was not written either")
        }
    }

    /// A change that fails during the apply stops it, as the script would have stopped at its
    /// error: the changes planned after it were planned with it made. (They were all applied,
    /// and the webhook announcing them delivered.) Here another admin changes the second queue's
    /// planned field while the apply's first write is in flight (held by the sandbox).
    @Test(.timeLimit(.minutes(2))) func aChangeThatFailsStopsTheApplyAsTheScriptWouldHaveStopped() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (_, file, _) = try await Self.plan(bench, Self.threeWaitTimes("q.maxWaitTime + i"))
            let delivered = try #require(try await bench.send(.GET, "/_sim/webhooks")["deliveries"]?.arrayValue?.count)
            let before = try await bench.queues()
            _ = try await bench.send(.PUT, "/_sim/faults", json: ["holdWrites": 1])
            let apply = Task { try await Self.apply(bench, file) }
            let inFlight = try await eventually { try await bench.send(.GET, "/_sim/faults")["writesHeld"] == 1 }
            #expect(inFlight, "the apply's first write was seen in flight")
            let second = try #require(before[1]["id"]?.stringValue)
            try await Self.edit(bench, second, ["maxWaitTime"], 1234)
            _ = try await bench.send(.PUT, "/_sim/faults", json: [:])
            let report = try await apply.value
            #expect(report.failed && report.lines.map(\.state) == [.applied, .failed, .skipped, .skipped], "\(report.lines.map(\.message))")
            #expect(report.lines[1].message.contains("maxWaitTime"), "the conflict names the field: \(report.lines[1].message)")
            #expect(report.lines[2].message.hasPrefix("not attempted: an earlier change failed"), "\(report.lines[2].message)")
            let third = try #require(report.lines[2].action.target as String?)
            #expect(try await Self.queue(bench, third)["version"] == before.first { $0["id"]?.stringValue == third }?["version"], "untouched")
            #expect(try await Self.queue(bench, second)["maxWaitTime"] == 1234, "the other admin's change stands")
            #expect(try await bench.send(.GET, "/_sim/webhooks")["deliveries"]?.arrayValue?.count == delivered, "nothing delivered")
            let row = try bench.audit.run(report.runID)
            #expect(row?.status == .failed && row?.error == "1 of 4 planned changes failed; the 2 after it were not attempted", "\(String(describing: row?.error))")
        }
    }

    /// A dry run reads its own planned reassignment, as a real run reads its write: rolling the
    /// first agent's back raised not_found in the plan (and the plan kept the change the real run
    /// undid); reassigning the second twice planned the second from the tenant's old profile.
    @Test func aPlannedReassignIsReadBackAndRolledBackAsARealRunDoes() async throws {
        let source = #"""
            local list = agents()
            local a, b, other = list[1], nil, nil
            for _, u in ipairs(list) do if u.routingProfileId ~= a.routingProfileId then other = u.routingProfileId break end end
            for i = 2, #list do if list[i].routingProfileId ~= other then b = list[i] break end end
            reassign(a.id, other)
            local undone = rollback(a.id)
            local r1, r2 = reassign(b.id, other), reassign(b.id, other)
            print(undone.routing_profile_id, r1.previous_routing_profile_id, r2.previous_routing_profile_id, r2.changed)
            """#
        let (planned, plannedOutput, realOutput) = try await Self.dryThenReal(source)
        #expect(plannedOutput == realOutput, "the plan read what the run reads: \(plannedOutput) vs \(realOutput)")
        #expect(planned.map(\.kind) == [.profile], "only b's change is left: \(planned.map(\.text))")
    }

    /// `source` as a dry run, then for real, on one fresh tenant: the plan and both outputs.
    static func dryThenReal(_ source: String) async throws -> (planned: [PlannedChange], plannedOutput: String, realOutput: String) {
        let bench = try await Bench.start()
        var both: (planned: [PlannedChange], plannedOutput: String, realOutput: String)?
        try await stopping(bench) {
            let (planned, plannedOutput) = try await bench.run(source, dryRun: true)
            #expect(planned.outcome.status == .succeeded, "\(planned.outcome.failureText)")
            let (real, realOutput) = try await bench.run(source)
            #expect(real.outcome.status == .succeeded, "\(real.outcome.failureText)")
            both = (planned.plannedChanges, plannedOutput, realOutput)
        }
        return try #require(both)
    }

    /// The same for an agent's status: the second agent_status of a dry run read the tenant's
    /// status, not the one the run had planned (previous_status "Available" where a run says "Break").
    @Test func aPlannedAgentStatusIsReadBackAsARealRunDoes() async throws {
        let source = #"""
            local a
            for _, u in ipairs(agents()) do if u.status == "Available" then a = u break end end
            local r1 = agent_status(a.id, {status = "Break", pause_reason = "IT Issue"})
            local r2 = agent_status(a.id, {status = "Training"})
            print(r1.previous_status, r2.previous_status)
            """#
        let (planned, plannedOutput, realOutput) = try await Self.dryThenReal(source)
        #expect(plannedOutput == "Available\tBreak\n" && realOutput == plannedOutput, "\(plannedOutput) vs \(realOutput)")
        #expect(planned.map(\.text).first?.contains("~ status: \"Available\" -> \"Training\"") == true, "one net change: \(planned.map(\.text))")
    }

    /// `validate` in a dry run sees the overflow links the run planned, as a real run's sees the
    /// ones it wrote: a chain built link by link was judged without them, so the plan held a link
    /// the real run's validate refuses (the sla_overflow runbook planned two).
    @Test func validateSeesTheLinksTheRunPlanned() async throws {
        let source = #"""
            local chat = queues({channel = "chat"})
            local ids = {}
            for i = 1, 5 do ids[i] = chat[i].id end
            for i = 1, 5 do  -- no link into or out of them to begin with
              local q = fetch(ids[i])
              deploy(q.id, build(q, {overflow = {enabled = false, action = "drop", targetQueueId = cx.null}}))
            end
            for i = 1, 4 do
              local q = fetch(ids[i])
              local payload = build(q, {overflow = {enabled = true, action = "routeToQueue", targetQueueId = ids[i + 1], waitTime = 60}})
              local ok = validate(payload)
              print(i, ok)
              if ok then deploy(q.id, payload) end
            end
            """#
        let (_, plannedOutput, realOutput) = try await Self.dryThenReal(source)
        #expect(plannedOutput == realOutput && realOutput.contains("\tfalse\n"), "\(plannedOutput) vs \(realOutput)")
    }

    /// Rules that could not be run (no stdlib here) mark the planned queues as unchecked: a plan
    /// checked by nothing must not read as one checked and clean.
    @Test func aPlanNotCheckedSaysSo() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let request = RunbookRequest(
                scriptPath: "book.lua", source: "local q = fetch(queues()[1].id)\ndeploy(q.id, build(q, {maxWaitTime = 333}))\n", args: [],
                tenant: bench.tenant(), dryRun: true, limits: RunLimits(timeout: 60), auditPath: bench.auditPath, stdlib: nil,
                output: { _ in }, log: { _, _ in })
            let result = try await RunbookSession.run(request)
            #expect(result.outcome.status == .succeeded, "\(result.outcome.failureText)")
            let warnings = result.plannedChanges.map(\.warnings)
            #expect(warnings.count == 1 && warnings[0].first?.hasPrefix("not checked against cxrun's rules: ") == true, "\(warnings)")
        }
    }

    @Test func faultsDuringApplyEndEveryTargetRightWithOneRowPerCall() async throws {
        let bench = try await Bench.start { $0.seed = 9 }
        try await stopping(bench) {
            let (plan, file, _) = try await Self.plan(bench, #"""
                for i, q in ipairs(queues()) do
                  if i > 16 then break end
                  local doc = fetch(q.id)
                  deploy(q.id, build(doc, {maxWaiters = 41}))
                end
                """#)
            let planned = plan.actions.count
            #expect(planned > 10)
            _ = try await bench.send(.PUT, "/_sim/faults", json: ["status429": 0.2, "status503": 0.05, "reset": 0.05])
            var retry = RetryPolicy()
            retry.maxAttempts = 12
            retry.baseDelay = 0.01
            retry.maxDelay = 0.2
            let report = try await Self.apply(bench, file, tenant: bench.tenant(retry: retry))
            _ = try await bench.send(.PUT, "/_sim/faults", json: [:])
            #expect(!report.failed, "\(report.lines.filter { $0.state == .failed }.map(\.message))")
            let after = try await bench.queues()
            for action in plan.actions {
                let doc = after.first { $0["id"]?.stringValue == action.target }
                #expect(doc?["maxWaiters"] == 41)
                #expect(doc?["version"]?.intValue == (action.baseVersion ?? 0) + 1, "written exactly once: \(action.target)")
            }
            let calls = try bench.audit.calls(run: report.runID)
            #expect(calls.filter { $0.binding == "fetch" }.count == planned && calls.filter { $0.binding == "deploy" }.count == planned)
            #expect(calls.allSatisfy { $0.status == .ok }, "\(calls.filter { $0.status != .ok }.map(\.exportLine))")
        }
    }

    @Test func anAgentStatusIsAppliedAsPlannedAndRefusedWhenTheAgentMoved() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let source = #"""
                local picked = {}
                for _, a in ipairs(agents()) do
                  if a.shiftSchedule.onShift and a.roles[1].name == "Agent" and not a.wrapUp.active and a.status ~= "Training" then
                    picked[#picked + 1] = a
                  end
                end
                agent_status(picked[1].id, {status = "Training", auto_available = true, respect_wrap_up = false, wrap_up_code = "W7"})
                agent_status(picked[2].id, {status = "Training"})
                print(picked[1].id, picked[2].id)
                """#
            let (plan, file, ids) = try await Self.plan(bench, source)
            try #require(ids.count == 2)
            #expect(plan.actions.map(\.kind) == [.agent, .agent] && plan.actions[0].against != nil)
            let text = PlanText.render(plan.actions, color: false)
            #expect(text.contains("-> \"Training\""))
            // Everything the apply sends besides the status is shown (it showed only a pause reason).
            #expect(text.contains("    # wrap-up code: W7; auto_available: made Available after its wrap-up; respect_wrap_up = false: set during a wrap-up too\n"),
                    "\(text)")
            let client = CXoneClient(endpoint: bench.tenant().endpoint!)
            // Someone moves the second agent to another status after the plan: stale.
            let other = try await client.user(ids[1]).value["status"]?.stringValue == "Available" ? "Break" : "Available"
            var body: JSONValue = ["status": .string(other)]
            if other == "Break" { body = ["status": "Break", "pauseReason": "IT Issue"] }
            _ = try await client.setStatus(ids[1], body)
            let refused = try await Self.apply(bench, file)
            #expect(refused.refused && refused.stale.map(\.target) == [ids[1]], "\(refused.stale)")
            #expect(try await client.user(ids[0]).value["status"] != "Training", "nothing applied")
            var options = PlanApply.Options()
            options.skipStale = true
            let report = try await Self.apply(bench, file, options: options)
            #expect(report.lines.map(\.state) == [.applied, .skipped], "\(report.lines.map(\.message))")
            #expect(try await client.user(ids[0]).value["status"] == "Training")
            #expect(try await client.user(ids[1]).value["status"] == .string(other))
        }
    }

    /// An agent whose shift ended between the plan and the apply may not have its status changed,
    /// as the `agent_status` binding says in a run: the apply set it anyway, unchecked. Now the plan
    /// is refused before its first change (a queue's) is written, naming the agent and the window.
    @Test func anAgentWhoseShiftEndedSinceThePlanRefusesTheApply() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let (plan, file, ids) = try await Self.plan(bench, #"""
                local q = fetch(queues()[1].id)
                deploy(q.id, build(q, {maxWaitTime = q.maxWaitTime + 1}))
                for _, a in ipairs(agents()) do
                  if a.shiftSchedule.onShift and a.roles[1].name == "Agent" and not a.wrapUp.active and a.status ~= "Training" then
                    agent_status(a.id, {status = "Training"})
                    print(q.id, a.id)
                    break
                  end
                end
                """#)
            try #require(ids.count == 2 && plan.actions.map(\.kind) == [.queue, .agent])
            let client = CXoneClient(endpoint: bench.tenant().endpoint!)
            // The tenant's clock moved on until the agent is off shift.
            var offShift = false
            for day in 5...6 {
                for hour in 0..<24 where !offShift {
                    let at = "2026-01-0\(day)T\(hour < 10 ? "0" : "")\(hour):00:00Z"
                    _ = try await bench.send(.PUT, "/_sim/clock", json: ["now": .string(at)])
                    offShift = try await client.user(ids[1]).value["shiftSchedule"]?["onShift"] == false
                }
            }
            try #require(offShift, "the agent went off shift")
            let report = try await Self.apply(bench, file)
            #expect(report.refused && report.broken.map(\.target) == [ids[1]], "\(report.broken) \(report.lines.map(\.message))")
            #expect(report.broken.first?.problems.first?.contains("is outside the shift window") == true, "\(report.broken)")
            #expect(try await Self.writes(bench).isEmpty, "nothing written, the queue's change neither")
        }
    }

    @Test func secretValuesAreSealedInThePlanAndOpenedOnlyWhereTheKeyIs() async throws {
        let bench = try await Bench.start()
        try await stopping(bench) {
            let source = #"""
                local q = fetch(queues()[1].id)
                deploy(q.id, build(q, {integration = {apiToken = "tok-PLAN-999999"}, maxWaitTime = 211}))
                print(q.id, q.id)
                """#
            let (plan, file, ids) = try await Self.plan(bench, source)
            #expect(!file.contains("tok-PLAN") && file.contains(SecretSeal.prefix), "no secret in the plan file")
            #expect(!PlanText.render(plan.actions, color: false).contains("tok-PLAN"))
            let key = bench.directory + "/audit.key"
            let saved = try Data(contentsOf: URL(fileURLWithPath: key))
            try FileManager.default.removeItem(atPath: key)
            do throws(PlanError) {
                _ = try await Self.apply(bench, file)
                Issue.record("applied without the key that sealed its secrets")
            } catch { #expect(error.description.contains("sealed secret values"), "\(error)") }
            try saved.write(to: URL(fileURLWithPath: key))
            // `integration` is a field cxrun's schema does not know: the plan marks it, but as advice
            // (the tenant keeps a field it does not know), so the apply is not refused for it.
            #expect(plan.actions.first?.warnings == [] && plan.actions.first?.advice.first?.hasPrefix("unknown field integration") == true,
                    "\(plan.actions.map(\.warnings)) \(plan.actions.map(\.advice))")
            let text = PlanText.render(plan.actions, color: false)
            #expect(text.contains("    ? unknown field integration") && text.contains("Note: 1 planned queue carries advice (?)") && !text.contains("Warning:"),
                    "\(text)")
            #expect(try Plan.read(file, key: nil).actions.map(\.advice) == plan.actions.map(\.advice), "the file keeps it")
            let report = try await Self.apply(bench, file)
            #expect(!report.failed, "\(report.lines.map(\.message))")
            let q = try await Self.queue(bench, ids[0])
            #expect(q.value(at: ["integration", "apiToken"]) == "tok-PLAN-999999" && q["maxWaitTime"] == 211)
        }
    }

    @Test func aChangeRebasesFieldByField() {
        let current: JSONValue = ["a": 1, "b": ["c": 2], "d": 5, "version": 3]
        let changes = [JSONChange(path: ["a"], old: 1, new: 10), JSONChange(path: ["b", "c"], old: 9, new: 3),
                       JSONChange(path: ["d"], old: 4, new: 5), JSONChange(path: ["e"], old: nil, new: 1)]
        let r = PlanRebase(changes, onto: current)
        #expect(r.stale == ["b.c"] && r.alreadyDone == ["d"])
        #expect(r.document == ["a": 10, "b": ["c": 2], "d": 5, "e": 1, "version": 3])
    }
    /// What the plan shows of the tenant's text — a name, a field's key, a value — cannot act on
    /// the reviewer's terminal: controls, bidirectional and zero-width characters and the Unicode
    /// line separators appear as escapes, in colour or not; what is safe shows as it is.
    @Test func aPlanShowsHostileTextAsEscapes() {
        let base: JSONValue = ["id": "q1", "name": "Sales \u{1B}[2J\u{202E}evil\u{2028}", "version": 1]
        let change = PlannedChange(queue: "q1", base: base, changes: [
            JSONChange(path: ["skills\u{200B}", "x\u{9B}1m"], old: "a\u{7F}", new: "b\u{2066}"),
            JSONChange(path: ["description"], old: "Café ☕ 日本", new: "tab\there"),
            // A root field whose key has a dot is not the routing's strategy: quoted.
            JSONChange(path: ["routing.strategy"], old: nil, new: "priority"),
        ])
        for color in [false, true] {
            let text = PlanText.render([change], color: color)
            #expect(text.contains(#"Sales \u{1B}[2J\u{202E}evil\u{2028}"#), "\(text)")
            #expect(text.contains(#"["skills\u{200B}"]["x\u{9B}1m"]: "a\u{7F}" -> "b\u{2066}""#), "\(text)")
            #expect(text.contains(#" ["routing.strategy"]: "priority""#) && !text.contains(" routing.strategy"), "\(text)")
            #expect(text.contains(#"description: "Café ☕ 日本" -> "tab\there""#), "\(text)")
            let acting = text.unicodeScalars.filter { ["\u{202E}", "\u{2028}", "\u{200B}", "\u{9B}", "\u{7F}", "\u{2066}"].contains($0) }
            #expect(acting.isEmpty && (color || !text.contains("\u{1B}")), "\(text)")
        }
    }
}
