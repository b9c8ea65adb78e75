import JSONCore

/// The tenant's rules for a queue document (DESIGN.md §9–10), as strict as the seeds say the
/// server is: every known field of the type its schema gives (a stored value never breaks the
/// tenant's own responses), the strategies' prerequisites, skills that exist. Unknown fields are
/// not checked: they are kept as given.
struct QueueValidation {
    static let strategies: Set<String> = ["priority", "longest_idle", "fewest_calls", "skill_based", "random", "weighted"]
    static let channels: Set<String> = ["voice", "chat", "email"]
    static let overflowActions: Set<String> = ["routeToQueue", "drop"]
    static let maxWaiters: Int64 = 100
    static let maxHoldSeconds: Int64 = 300
    /// The fields every queue has (a field within an object as its path).
    static let required: [[String]] = [["name"], ["channel"], ["routing", "strategy"]]
    static let maxSkillRequirements = 10
    static let maxSkills = 100
    /// Overflow links in any chain of queues (as the client's `max_overflow_depth`).
    static let maxOverflowDepth = 3

    /// The id of the queue being written, and whether a queue id exists (for overflow targets).
    let queueID: String
    let queueExists: (String) -> Bool
    /// The overflow graph as stored: a queue's enabled routeToQueue target, and the queues
    /// overflowing into a queue.
    var overflowTarget: (String) -> String? = { _ in nil }
    var overflowInto: (String) -> [String] = { _ in [] }
    /// Whether a skill id exists in the tenant.
    var skillExists: (String) -> Bool = { _ in true }

    func validate(_ doc: JSONValue) -> [FieldError] {
        guard let fields = doc.objectValue else { return [FieldError(path: "", code: "type", message: "the queue must be a JSON object")] }
        var errors: [FieldError] = []
        func fail(_ path: String, _ code: String, _ message: String) { errors.append(FieldError(path: path, code: code, message: message)) }
        func integer(_ path: String, _ value: JSONValue?, _ range: ClosedRange<Int64>) {
            guard let value, value != .null else { return }
            guard let i = value.intValue else { return fail(path, "type", "\(path) must be an integer") }
            if !range.contains(i) { fail(path, "range", "\(path) must be between \(range.lowerBound) and \(range.upperBound), got \(i)") }
        }
        func string(_ path: String, _ value: JSONValue?, in allowed: Set<String>? = nil) -> String? {
            guard let value, value != .null else { return nil }
            guard let s = value.stringValue else { fail(path, "type", "\(path) must be a string"); return nil }
            if let allowed, !allowed.contains(s) {
                fail(path, "enum", "\(path) must be one of \(allowed.sorted().joined(separator: ", ")), got '\(s)'")
            }
            return s
        }
        func object(_ path: String, _ value: JSONValue?) -> [String: JSONValue]? {
            guard let value, value != .null else { return nil }
            guard let o = value.objectValue else { fail(path, "type", "\(path) must be an object"); return nil }
            return o
        }
        func boolean(_ path: String, _ value: JSONValue?) -> Bool? {
            guard let value, value != .null else { return nil }
            guard case .bool(let b) = value else { fail(path, "type", "\(path) must be true or false"); return nil }
            return b
        }

        // A queue cannot be without these: a PUT replaces the whole queue, so a payload that
        // left them out (or a PATCH that nulls them) would leave a queue with no name or channel.
        for path in Self.required {
            let value = doc.value(at: path)
            if value == nil || value == .null {
                let dotted = path.joined(separator: ".")
                fail(dotted, "required", "\(dotted) is required")
            }
        }
        if let name = string("name", fields["name"]), name.isEmpty { fail("name", "required", "name must not be empty") }
        _ = string("channel", fields["channel"], in: Self.channels)
        if let routing = object("routing", fields["routing"]) {
            let strategy = string("routing.strategy", routing["strategy"], in: Self.strategies)
            integer("routing.longestIdleSeconds", routing["longestIdleSeconds"], 0...86_400)
            let priority = object("routing.priority", routing["priority"])
            let enabled = boolean("routing.priority.enabled", priority?["enabled"])
            var levelCount = 0
            if let levels = priority?["levels"], levels != .null {
                if let items = levels.arrayValue {
                    levelCount = items.count
                    for (i, level) in items.enumerated() { integer("routing.priority.levels[\(i)]", level, 1...100) }
                } else {
                    fail("routing.priority.levels", "type", "routing.priority.levels must be an array")
                }
            }
            if strategy == "priority" {
                if enabled != true { fail("routing.priority.enabled", "strategy", "the priority strategy needs routing.priority.enabled = true") }
                if levelCount == 0 { fail("routing.priority.levels", "strategy", "the priority strategy needs at least one priority level") }
            }
            if strategy == "skill_based" && (fields["skills"]?.arrayValue ?? []).isEmpty {
                fail("skills", "strategy", "the skill_based strategy needs at least one skill")
            }
        }
        if let skills = fields["skills"], skills != .null {
            if let items = skills.arrayValue {
                if items.count > Self.maxSkills { fail("skills", "license", "at most \(Self.maxSkills) skill assignments, got \(items.count)") }
                var seen = Set<String>()
                for (i, item) in items.enumerated() {
                    guard let skill = object("skills[\(i)]", item) else { continue }
                    let id = skill["id"]?.stringValue ?? ""
                    if id.isEmpty { fail("skills[\(i)].id", "required", "skills[\(i)].id must be a non-empty string") }
                    if !id.isEmpty && !seen.insert(id).inserted { fail("skills[\(i)].id", "duplicate", "skill \(id) is assigned twice") }
                    if !id.isEmpty && !skillExists(id) { fail("skills[\(i)].id", "not_found", "skill \(id) does not exist in the tenant") }
                    integer("skills[\(i)].level", skill["level"], 1...5)
                }
            } else {
                fail("skills", "type", "skills must be an array")
            }
        }
        if let reqs = fields["skillRequirements"], reqs != .null {
            if let items = reqs.arrayValue {
                if items.count > Self.maxSkillRequirements {
                    fail("skillRequirements", "license", "at most \(Self.maxSkillRequirements) skill requirements, got \(items.count)")
                }
                for (i, item) in items.enumerated() {
                    guard let req = object("skillRequirements[\(i)]", item) else {
                        if item == .null { fail("skillRequirements[\(i)]", "type", "skillRequirements[\(i)] must be an object") }
                        continue
                    }
                    for key in ["skill", "proficiency"] where req.keys.contains(key) {
                        if req[key]?.stringValue == nil { fail("skillRequirements[\(i)].\(key)", "type", "skillRequirements[\(i)].\(key) must be a string") }
                    }
                    if req.keys.contains("required"), case .bool? = req["required"] {} else if req.keys.contains("required") {
                        fail("skillRequirements[\(i)].required", "type", "skillRequirements[\(i)].required must be true or false")
                    }
                }
            } else {
                fail("skillRequirements", "type", "skillRequirements must be an array")
            }
        }
        if let sla = object("serviceLevelTarget", fields["serviceLevelTarget"]) {
            integer("serviceLevelTarget.threshold", sla["threshold"], 0...100)
            integer("serviceLevelTarget.time", sla["time"], 1...300)
        }
        integer("maxWaitTime", fields["maxWaitTime"], 0...86_400)
        integer("maxWaiters", fields["maxWaiters"], 1...Self.maxWaiters)
        integer("wrapUpTime", fields["wrapUpTime"], 0...3_600)
        integer("concurrency", fields["concurrency"], 1...10)
        integer("maxHoldTime", fields["maxHoldTime"], 0...Self.maxHoldSeconds)
        if let wait = object("waitStrategy", fields["waitStrategy"]) {
            integer("waitStrategy.positionThreshold", wait["positionThreshold"], 1...1_000)
            _ = string("waitStrategy.type", wait["type"])
            integer("waitStrategy.abandonmentThreshold", wait["abandonmentThreshold"], 0...Self.maxHoldSeconds)
        }
        if let callback = object("callback", fields["callback"]) {
            integer("callback.positionThreshold", callback["positionThreshold"], 0...1_000)
            _ = boolean("callback.enabled", callback["enabled"])
        }
        if let overflow = object("overflow", fields["overflow"]) {
            let action = string("overflow.action", overflow["action"], in: Self.overflowActions)
            _ = boolean("overflow.enabled", overflow["enabled"])
            integer("overflow.waitTime", overflow["waitTime"], 0...86_400)
            let target = string("overflow.targetQueueId", overflow["targetQueueId"])
            if action == "routeToQueue" {
                if target == nil || target == "" {
                    fail("overflow.targetQueueId", "required", "overflow.targetQueueId is required when action is routeToQueue")
                }
            }
            if let target, !target.isEmpty {
                if target == queueID {
                    fail("overflow.targetQueueId", "self", "a queue cannot overflow to itself")
                } else if !queueExists(target) {
                    fail("overflow.targetQueueId", "not_found", "overflow target queue \(target) does not exist")
                } else if action == "routeToQueue" && overflow["enabled"]?.boolValue != false, let problem = chainProblem(to: target) {
                    fail("overflow.targetQueueId", problem.code, problem.message)
                }
            }
        }
        return errors
    }

    /// A cycle through this queue, or a chain longer than `maxOverflowDepth` links (the links
    /// already leading into this queue, this one, and those after its target).
    private func chainProblem(to target: String) -> (code: String, message: String)? {
        var downstream = 0
        var seen: Set<String> = [queueID]
        var current: String? = target
        while let queue = current {
            if seen.contains(queue) { return ("cycle", "overflow to \(target) forms a cycle back to this queue") }
            seen.insert(queue)
            current = overflowTarget(queue)
            if current != nil { downstream += 1 }
            if downstream > Self.maxOverflowDepth { break }
        }
        func upstream(_ id: String, _ visiting: Set<String>) -> Int {
            overflowInto(id).filter { !visiting.contains($0) }.map { 1 + upstream($0, visiting.union([$0])) }.max() ?? 0
        }
        let links = upstream(queueID, [queueID]) + 1 + downstream
        guard links > Self.maxOverflowDepth else { return nil }
        return ("depth", "overflow chain through this queue would be \(links) links (at most \(Self.maxOverflowDepth))")
    }
}
