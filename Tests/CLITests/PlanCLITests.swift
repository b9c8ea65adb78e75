import Foundation
import JSONCore
import Testing

/// `cxrun plan`, `cxrun show`, `cxrun apply` as an operator uses them (the in-process sandbox tenant).
@Suite("cxrun plan / show / apply")
struct PlanCLITests {
    static let book = """
        local q = fetch(queues({channel = "voice"})[1].id)
        deploy(q.id, build(q, {maxWaitTime = 444}))
        print(q.id)
        """

    @Test func planReviewApplyAndRollBack() async throws {
        let dir = try scriptFolder(["book.lua": Self.book, "other_admin.lua": """
            local q = fetch(queues({channel = "voice"})[1].id)
            deploy(q.id, build(q, {maxWaiters = 12}))
            """])
        let plan = try await runCLI(["plan", "book.lua", "--out", "change.cxplan"], in: dir)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("~ maxWaitTime: ") && plan.stdout.contains("-> 444") && plan.stdout.contains("Plan: 1 queue to change."),
                "\(plan.stdout)")
        #expect(plan.stderr.contains("plan saved: change.cxplan") && plan.stderr.contains("cxrun apply change.cxplan"), "\(plan.stderr)")
        let id = plan.stdout.split(separator: "\n").first.map(String.init) ?? ""
        let show = try await runCLI(["show", "change.cxplan"], in: dir)
        #expect(show.status == 0 && show.stdout.contains("script:  book.lua") && show.stdout.contains("-> 444"), "\(show.stdout) \(show.stderr)")

        // What was reviewed is what is applied: the script may change or vanish meanwhile.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("book.lua"))
        let other = try await runCLI(["run", "other_admin.lua"], in: dir)  // another admin, another field
        #expect(other.status == 0, "\(other.stderr)")
        let apply = try await runCLI(["apply", "change.cxplan"], in: dir)
        #expect(apply.status == 0, "\(apply.stdout) \(apply.stderr)")
        #expect(apply.stdout.hasPrefix("merged") && apply.stdout.contains(id), "\(apply.stdout)")
        try "local q = fetch(queues({channel = \"voice\"})[1].id)\nprint(q.maxWaitTime, q.maxWaiters)\n"
            .write(to: dir.appendingPathComponent("read.lua"), atomically: true, encoding: .utf8)
        let read = try await runCLI(["run", "read.lua"], in: dir)
        #expect(read.stdout == "444\t12\n", "the plan's change and the other admin's both hold: \(read.stdout) \(read.stderr)")
        let again = try await runCLI(["apply", "change.cxplan"], in: dir)
        #expect(again.status == 2 && again.stderr.contains("has been applied"), "\(again.stderr)")

        let runID = apply.stderr.split(separator: " ").dropFirst(2).first.map(String.init) ?? ""
        let shown = try await runCLI(["audit", "show", runID], in: dir)
        #expect(shown.stdout.contains("plan     plan-") && shown.stdout.contains("-> 444"), "\(shown.stdout)")
        let rollback = try await runCLI(["rollback", "--run", runID], in: dir)
        #expect(rollback.status == 0 && rollback.stdout.contains("ok   \(id): restored"), "\(rollback.stdout) \(rollback.stderr)")
    }

    @Test func aStalePlanIsRefusedNamingTheFieldAndATamperedOneExitsTwo() async throws {
        let dir = try scriptFolder(["book.lua": Self.book, "same_field.lua": """
            local q = fetch(queues({channel = "voice"})[1].id)
            deploy(q.id, build(q, {maxWaitTime = 555}))
            """])
        let plan = try await runCLI(["plan", "book.lua", "--json"], in: dir)
        #expect(plan.status == 0, "\(plan.stderr)")
        let saved = try JSONValue.parse(plan.stdout)
        #expect(saved["format"] == "cxrun-plan/1" && saved["digest"]?.stringValue?.hasPrefix("sha256:") == true, "\(plan.stdout)")
        let path = plan.stderr.components(separatedBy: "plan saved: ").last?.split(separator: "\n").first.map(String.init) ?? ""
        #expect(path.hasPrefix(".cxrun/plans/plan-") && path.hasSuffix(".cxplan"), "\(plan.stderr)")

        let tampered = dir.appendingPathComponent("tampered.cxplan")
        try plan.stdout.replacingOccurrences(of: "444", with: "445").write(to: tampered, atomically: true, encoding: .utf8)
        let refused = try await runCLI(["apply", "tampered.cxplan"], in: dir)
        #expect(refused.status == 2 && refused.stderr.contains("changed after planning"), "\(refused.stderr)")

        _ = try await runCLI(["run", "same_field.lua"], in: dir)
        let stale = try await runCLI(["apply", path], in: dir)
        #expect(stale.status == 1, "\(stale.stdout) \(stale.stderr)")
        #expect(stale.stderr.contains("the plan is stale; nothing was written") && stale.stderr.contains(": maxWaitTime"), "\(stale.stderr)")
    }
}
