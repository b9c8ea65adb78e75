import JSONCore

/// The seeded demo tenant: queues over voice/chat/email, skills, and agents with shifts.
/// The same seed always produces the same data.
struct DemoData: Sendable {
    var queues: [JSONValue]
    var skills: [JSONValue]
    var users: [JSONValue]

    static let strategies = ["priority", "longest_idle", "fewest_calls", "skill_based", "random", "weighted"]
    static let channels = ["voice", "chat", "email"]
    static let statuses = ["Available", "Busy", "Break", "Training", "Offline"]
    static let pauseReasons = ["IT Issue", "Queue Full", "Skill Gap", "Manager Meeting", "System Maintenance"]
    /// The tenant's routing profiles: every agent has one of them, and a reassignment names one.
    static let routingProfiles: [JSONValue] = [
        ("profile-1", "Voice Tier 1"), ("profile-2", "Voice Tier 2"), ("profile-3", "Chat"), ("profile-4", "Email"),
        ("profile-5", "Blended"), ("profile-6", "Escalations"),
    ].map { ["id": .string($0.0), "name": .string($0.1)] }
    private static let topics = [
        "Billing", "Sales", "Support", "Retention", "Claims", "Onboarding", "Technical", "Accounts", "Returns",
        "Shipping", "Loyalty", "Fraud", "Collections", "Renewals",
    ]
    private static let skillNames = [
        "language:en", "language:es", "language:fr", "language:de", "billing", "sales", "tech-support-l1",
        "tech-support-l2", "retention", "claims", "onboarding", "accounts", "returns", "shipping", "loyalty",
        "fraud", "collections", "renewals", "vip", "escalations", "chat-writing", "email-writing", "compliance",
        "product-a", "product-b",
    ]
    private static let firstNames = ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena", "Mo", "Nia", "Omar", "Pia"]
    private static let lastNames = ["Garcia", "Smith", "Nguyen", "Khan", "Rossi", "Meyer", "Silva", "Kim", "Okafor", "Novak", "Dubois", "Larsen"]

    static func generate(seed: UInt64, queueCount: Int = 48, userCount: Int = 480) -> DemoData {
        var rng = SeededRandom(seed: seed)
        let skills: [JSONValue] = skillNames.enumerated().map { i, name in
            ["id": .string(rng.uuid()), "name": .string(name), "description": .string("Skill \(i + 1): \(name)")]
        }
        let skillIDs = skills.compactMap { $0["id"]?.stringValue }

        var queueIDs: [String] = []
        for _ in 0..<queueCount { queueIDs.append(rng.uuid()) }
        var queues: [JSONValue] = []
        // Overflow chain length per queue: links stay within the tenant's depth limit (3).
        var depth: [Int] = []
        for (i, id) in queueIDs.enumerated() {
            let channel = channels[i % channels.count]
            let strategy = strategies[Int(rng.next() % UInt64(strategies.count))]
            let queueSkills = pick(2 + Int(rng.next() % 3), from: skillIDs, &rng).map { sid -> JSONValue in
                ["id": .string(sid), "level": .int(Int64(1 + rng.next() % 5))]
            }
            let positionThreshold = Int64(5 + rng.next() % 20)
            // Overflow only points at an earlier queue (no cycles) whose chain is short enough.
            let candidate = i > 0 && rng.unit() < 0.5 ? Int(rng.next() % UInt64(i)) : nil
            let target = candidate.flatMap { depth[$0] < 3 ? $0 : nil }
            depth.append(target.map { depth[$0] + 1 } ?? 1)
            let overflow: JSONValue =
                target.map { t in
                    ["enabled": true, "action": "routeToQueue", "targetQueueId": .string(queueIDs[t]),
                     "waitTime": .int(Int64(60 + 30 * (rng.next() % 5)))]
                } ?? ["enabled": false, "action": "drop", "waitTime": 120]
            queues.append([
                "id": .string(id),
                "name": .string("\(channel.capitalized) - \(topics[i % topics.count]) \(i / topics.count + 1)"),
                "channel": .string(channel),
                "version": 1,
                "routing": [
                    "strategy": .string(strategy),
                    "longestIdleSeconds": 300,
                    "priority": ["enabled": .bool(strategy == "priority"), "levels": strategy == "priority" ? [1, 2, 3] : .array([])],
                ],
                "skills": .array(queueSkills),
                "skillRequirements": [
                    ["skill": .string(["language:en", "language:es"][i % 2]), "proficiency": "advanced", "required": true]
                ],
                "serviceLevelTarget": ["threshold": .int(Int64([70, 80, 90][i % 3])), "time": .int(Int64([20, 30, 60][(i / 3) % 3]))],
                "maxWaitTime": .int(Int64(120 + 60 * (rng.next() % 5))),
                "maxWaiters": .int(Int64(20 + rng.next() % 60)),
                "wrapUpTime": .int(Int64(15 + 15 * (rng.next() % 4))),
                // Contacts an agent handles at once: chat agents hold two or three conversations.
                "concurrency": .int(channel == "chat" ? Int64(2 + i % 2) : 1),
                "waitStrategy": ["type": "position", "positionThreshold": .int(positionThreshold), "abandonmentThreshold": .int(Int64(60 + 30 * (rng.next() % 6)))],
                "callback": ["enabled": .bool(channel == "voice"), "positionThreshold": .int(max(1, positionThreshold / 2))],
                "maxHoldTime": .int(Int64(60 + 30 * (rng.next() % 7))),
                "overflow": overflow,
            ])
        }

        var users: [JSONValue] = []
        for i in 0..<userCount {
            let first = firstNames[Int(rng.next() % UInt64(firstNames.count))]
            let last = lastNames[Int(rng.next() % UInt64(lastNames.count))]
            let role = i % 25 == 0 ? "Supervisor" : (i % 60 == 7 ? "Analyst" : "Agent")
            let memberOf = pick(2 + Int(rng.next() % 3), from: queueIDs, &rng)
            let userSkills = pick(2 + Int(rng.next() % 4), from: skillIDs, &rng).map { sid -> JSONValue in
                ["id": .string(sid), "level": .int(Int64(1 + rng.next() % 5))]
            }
            let shift = Shift.seeded(index: i, seed: seed)
            let draw = rng.unit()
            let status = draw < 0.55 ? "Available" : draw < 0.75 ? "Busy" : draw < 0.85 ? "Break" : draw < 0.92 ? "Training" : "Offline"
            users.append([
                "id": .string(rng.uuid()),
                "firstName": .string(first),
                "lastName": .string(last),
                "email": .string("\(first.lowercased()).\(last.lowercased()).\(i)@example.com"),
                "roles": [["name": .string(role)]],
                "status": .string(status),
                "pauseReason": status == "Break" ? .string(pauseReasons[i % pauseReasons.count]) : .null,
                "wrapUpCode": .null,
                // A few agents are in wrap-up for the first hour after seeding (offset in seconds).
                "wrapUpSeconds": .int(status == "Busy" && i % 9 == 0 ? 3600 : 0),
                "skills": .array(userSkills),
                "queueIds": .array(memberOf.map(JSONValue.string)),
                "routingProfileId": routingProfiles[i % routingProfiles.count]["id"] ?? .null,
                "shiftSchedule": ["startHour": .double(shift.startHour), "durationHours": .double(shift.durationHours), "timezone": "UTC"],
            ])
        }
        return DemoData(queues: queues, skills: skills, users: users)
    }

    private static func pick(_ n: Int, from items: [String], _ rng: inout SeededRandom) -> [String] {
        var pool = items
        var out: [String] = []
        for _ in 0..<min(n, pool.count) {
            out.append(pool.remove(at: Int(rng.next() % UInt64(pool.count))))
        }
        return out
    }
}
