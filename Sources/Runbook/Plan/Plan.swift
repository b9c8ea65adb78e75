import CXShared
import Crypto
import Foundation
import JSONCore

/// A reviewed change, saved to apply later exactly as read (`cxrun plan`, `cxrun apply`): where
/// it came from, and every planned action in order with the base it was planned against.
public struct Plan: Sendable {
    public var id: String
    public var tenant: String
    /// The tenant's API base URL (for the sandbox tenant: its database file).
    public var tenantIdentity: String
    public var script: String
    public var scriptSHA256: String
    /// The script's arguments, secrets masked.
    public var args: JSONValue
    public var operatorName: String
    public var host: String
    public var createdAt: Double
    public var actions: [PlannedChange]
    /// The team's audit log (PostgreSQL) the plan was made with: its apply is recorded there,
    /// and applied once there. Nil for a plan made with a local log.
    public var teamStore: String?

    /// The plan file's format; a file of another version is refused.
    public static let format = "cxrun-plan/1"

    /// The plan of a dry run (`request` with `dryRun` set, and its result): one action per
    /// target (a target changed twice is one net change), targets with nothing to change left out.
    public init(request: RunbookRequest, result: RunbookResult, createdAt: Date = Date()) {
        id = "plan-" + request.runID
        tenant = request.tenant.name
        tenantIdentity = request.tenant.identity
        script = request.scriptPath
        scriptSHA256 = Hex.encode(SHA256.hash(data: Data(request.source.utf8)))
        args = Redactor(secrets: request.tenant.secrets).redact(arguments: request.args)
        operatorName = RunOwner.operatorName
        host = ProcessInfo.processInfo.hostName
        self.createdAt = createdAt.timeIntervalSince1970
        if case .postgres(let team)? = try? AuditLocation.parse(request.auditPath) { teamStore = team.identity }
        // A plan file is read by people and passed around: secret values in it are sealed like
        // the audit log's snapshots (apply opens them with the same key).
        let seal = SecretSeal(audit: request.auditPath)
        let redactor = Redactor(secrets: request.tenant.secrets)
        actions = Self.netActions(result.plannedChanges).map { action in
            var a = action
            a.changes = a.changes.map { seal.seal($0, redactor: redactor) }
            a.body = a.body.map { seal.seal($0, redactor: redactor) }
            return a
        }
    }

    /// The plan with its sealed secret values opened with the audit log's key; refused when a
    /// value cannot be opened (the key that sealed it is not here).
    func opened(with seal: SecretSeal) throws(PlanError) -> Plan {
        var copy = self
        var unopened: [String] = []
        for i in copy.actions.indices {
            copy.actions[i].changes = copy.actions[i].changes.map { change in
                let (opened, failed) = seal.open(change)
                if failed { unopened.append("\(copy.actions[i].target): \(change.dotted)") }
                return opened
            }
            if let body = copy.actions[i].body {
                let (opened, unknown) = seal.open(body)
                if !unknown.isEmpty { unopened.append("\(copy.actions[i].target): body") }
                copy.actions[i].body = opened
            }
        }
        guard unopened.isEmpty else {
            throw PlanError("the plan holds sealed secret values (\(unopened.joined(separator: "; "))) and the key that sealed them "
                            + "(\(seal.keySource)) is not here; set CXRUN_AUDIT_KEY to it, or plan again here")
        }
        return copy
    }

    static func netActions(_ planned: [PlannedChange]) -> [PlannedChange] {
        var out: [PlannedChange] = []
        for change in planned {
            if change.kind != .webhook, let i = out.firstIndex(where: { $0.kind == change.kind && $0.target == change.target }) {
                out[i] = out[i].merging(change)
            } else {
                out.append(change)
            }
        }
        return out.filter { $0.kind == .webhook || !$0.changes.isEmpty }
    }

    /// The counts a reviewer reads last: `3 queues to change, 1 agent status, 1 webhook`.
    static func countLine(_ actions: [PlannedChange]) -> String {
        func count(_ kind: PlannedChange.Kind, _ one: String, _ many: String) -> String? {
            let n = actions.filter { $0.kind == kind }.count
            return n == 0 ? nil : "\(n) \(n == 1 ? one : many)"
        }
        let parts = [count(.queue, "queue to change", "queues to change"), count(.agent, "agent status", "agent statuses"),
                     count(.profile, "routing profile", "routing profiles"),
                     count(.webhook, "webhook", "webhooks")].compactMap { $0 }
        return parts.isEmpty ? "no changes" : parts.joined(separator: ", ")
    }
}

// MARK: the file

extension Plan {
    /// The plan's content, without its digest (what the digest covers).
    var content: JSONValue {
        var fields: [String: JSONValue] = [
            "format": .string(Self.format), "id": .string(id),
            "tenant": ["name": .string(tenant), "base_url": .string(tenantIdentity)],
            "script": ["path": .string(script), "sha256": .string(scriptSHA256)], "args": args,
            "operator": .string(operatorName), "host": .string(host), "created_at": .double(createdAt),
            "actions": .array(actions.map(Self.json)),
        ]
        if let teamStore { fields["audit"] = .string(teamStore) }
        return .object(fields)
    }

    /// The plan file: its content and a digest over it.
    public func file(key: PlanKey?) -> String {
        var fields = content.objectValue ?? [:]
        fields["digest"] = .string(PlanDigest.digest(of: content, key: key))
        return JSONValue.object(fields).jsonString(pretty: true) + "\n"
    }

    /// Reads a plan file, refusing one whose digest does not match its content.
    public static func read(_ text: String, key: PlanKey?) throws(PlanError) -> Plan {
        let json: JSONValue
        do { json = try JSONValue.parse(text) } catch { throw PlanError("the plan file is \(error)") }
        guard var fields = json.objectValue, let digest = fields.removeValue(forKey: "digest")?.stringValue else {
            throw PlanError("the plan file has no digest")
        }
        guard fields["format"]?.stringValue == format else {
            throw PlanError("the plan file's format is \(fields["format"]?.jsonString() ?? "missing"), expected \"\(format)\"")
        }
        try PlanDigest.verify(digest, of: .object(fields), key: key)
        return try decode(.object(fields))
    }

    /// The delivery id (`X-Cxrun-Delivery`) of the plan's webhook action `index`: the same at
    /// every apply of the plan, so a receiver that drops an id it has seen drops a second apply's
    /// delivery, made with another audit log whose once-only check could not see the first. A
    /// name-based UUID (version 5 layout, SHA-256), as a receiver expecting a UUID reads it.
    static func deliveryID(plan id: String, action index: Int) -> String {
        var b = Array(SHA256.hash(data: Array("cxrun plan webhook\u{0}\(id)\u{0}\(index)".utf8)).prefix(16))
        b[6] = b[6] & 0x0F | 0x50
        b[8] = b[8] & 0x3F | 0x80
        return Hex.uuid(b)
    }

    /// A plan as the audit log keeps it (checked when it was applied), or nil.
    public static func stored(_ text: String) -> Plan? {
        guard var fields = (try? JSONValue.parse(text))?.objectValue else { return nil }
        fields["digest"] = nil
        return try? decode(.object(fields))
    }

    private static func json(_ a: PlannedChange) -> JSONValue {
        var o: [String: JSONValue] = ["kind": .string(a.kind.rawValue), "target": .string(a.target), "title": .string(a.title),
                                      "changes": .array(a.changes.map(json))]
        if let note = a.note { o["note"] = .string(note) }
        if !a.warnings.isEmpty { o["warnings"] = .array(a.warnings.map(JSONValue.string)) }
        if !a.advice.isEmpty { o["advice"] = .array(a.advice.map(JSONValue.string)) }
        if let v = a.baseVersion { o["base_version"] = .int(v) }
        if let h = a.baseSHA256 { o["base_sha256"] = .string(h) }
        if let s = a.against { o["against"] = s }
        if let b = a.body { o["body"] = b }
        return .object(o)
    }

    /// A change keeps absent and null apart: a missing `old` is an added field, a missing `new` a removed one.
    private static func json(_ c: JSONChange) -> JSONValue {
        var o: [String: JSONValue] = ["path": .array(c.path.map(JSONValue.string))]
        if let old = c.old { o["old"] = old }
        if let new = c.new { o["new"] = new }
        return .object(o)
    }

    private static func decode(_ j: JSONValue) throws(PlanError) -> Plan {
        func string(_ v: JSONValue?, _ what: String) throws(PlanError) -> String {
            guard let s = v?.stringValue else { throw PlanError("the plan file has no \(what)") }
            return s
        }
        var plan = Plan(empty: ())
        plan.id = try string(j["id"], "id")
        plan.tenant = try string(j["tenant"]?["name"], "tenant.name")
        plan.tenantIdentity = try string(j["tenant"]?["base_url"], "tenant.base_url")
        plan.script = try string(j["script"]?["path"], "script.path")
        plan.scriptSHA256 = try string(j["script"]?["sha256"], "script.sha256")
        plan.args = j["args"] ?? .array([])
        plan.operatorName = try string(j["operator"], "operator")
        plan.host = try string(j["host"], "host")
        guard let created = j["created_at"]?.doubleValue else { throw PlanError("the plan file has no created_at") }
        plan.createdAt = created
        plan.teamStore = j["audit"]?.stringValue
        guard let actions = j["actions"]?.arrayValue else { throw PlanError("the plan file has no actions") }
        for (i, a) in actions.enumerated() {
            guard let kind = a["kind"]?.stringValue.flatMap(PlannedChange.Kind.init(rawValue:)), let target = a["target"]?.stringValue,
                let changes = a["changes"]?.arrayValue
            else { throw PlanError("action \(i + 1) of the plan file is malformed") }
            var parsed: [JSONChange] = []
            for c in changes {
                guard let path = c["path"]?.arrayValue?.compactMap(\.stringValue), !path.isEmpty else {
                    throw PlanError("action \(i + 1) of the plan file has a change without a path")
                }
                parsed.append(JSONChange(path: path, old: c["old"], new: c["new"]))
            }
            let action = PlannedChange(kind: kind, target: target, title: a["title"]?.stringValue ?? "", changes: parsed, note: a["note"]?.stringValue,
                                       baseVersion: a["base_version"]?.intValue, baseSHA256: a["base_sha256"]?.stringValue,
                                       against: a["against"], body: a["body"], warnings: a["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                                       advice: a["advice"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            if kind == .queue && (action.baseVersion == nil || action.baseSHA256 == nil) {
                throw PlanError("action \(i + 1) of the plan file (queue \(target)) has no base version or hash")
            }
            plan.actions.append(action)
        }
        return plan
    }

    private init(empty: Void) {
        (id, tenant, tenantIdentity, script, scriptSHA256, args, operatorName, host, createdAt, actions) = ("", "", "", "", "", .null, "", "", 0, [])
    }
}

/// Why a plan cannot be read or applied.
public struct PlanError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
