import CXShared
import Crypto
import Foundation
import JSONCore

/// What a dry run would have done to one target, with what a plan file needs to apply exactly
/// that later: the base it was planned against and the body it would send.
public struct PlannedChange: Sendable {
    /// What kind of target (and what applying it does).
    public enum Kind: String, Sendable {
        case queue, agent, webhook
        /// An agent's routing profile (`reassign`).
        case profile
    }

    public var kind: Kind
    public var target: String
    public var title: String
    public var changes: [JSONChange]
    public var note: String?
    /// Queue: the version and document hash the changes were planned against.
    public var baseVersion: Int64?
    public var baseSHA256: String?
    /// Agent: the status the change was planned against; profile: the routing profile; webhook:
    /// where it was planned to go (`destination`).
    public var against: JSONValue?
    /// Agent: the status request; profile: the routing-profile request; webhook: the payload.
    public var body: JSONValue?
    /// Queue: what cxrun's rules (cx.validate) say of the planned document (`path: message`),
    /// shown in the plan; the tenant may refuse such a change at apply.
    public var warnings: [String] = []
    /// Queue: the rules' advice on the planned document: likely mistakes the tenant takes all the
    /// same (a field it does not know, a time that looks like milliseconds).
    public var advice: [String] = []

    init(queue id: String, base: JSONValue, changes: [JSONChange], note: String? = nil) {
        kind = .queue
        target = id
        title = base["name"]?.stringValue ?? ""
        self.changes = changes
        self.note = note
        baseVersion = base["version"]?.intValue
        baseSHA256 = Self.sha256(base)
    }

    init(agent id: String, title: String, against: JSONValue, request: JSONValue, changes: [JSONChange], note: String?) {
        kind = .agent
        target = id
        self.title = title
        self.changes = changes
        self.note = note
        self.against = against
        body = request
    }

    init(profile id: String, title: String, against: JSONValue, to profile: String, note: String?) {
        kind = .profile
        target = id
        self.title = title
        changes = [JSONChange(path: ["routingProfileId"], old: against, new: .string(profile))]
        self.note = note
        self.against = against
        body = ["routingProfileId": .string(profile)]
    }

    init(webhook name: String, url: String, payload: JSONValue) {
        kind = .webhook
        target = name
        title = ""
        changes = []
        against = Self.destination(url)
        body = payload
    }

    /// A webhook URL as a plan keeps it: where it goes, as a reviewer reads it (scheme, host and
    /// port: a path or query can hold a token, as some webhook services' URLs do, and a plan file
    /// is passed around), and the SHA-256 of the whole URL, which the apply compares.
    static func destination(_ url: String) -> JSONValue {
        ["shown": .string(shownURL(url)), "sha256": .string(urlSHA256(url))]
    }

    /// The SHA-256 a plan keeps of a webhook URL.
    static func urlSHA256(_ url: String) -> String { Hex.encode(SHA256.hash(data: Array(url.utf8))) }

    /// `https://wfm.example.com/…`; a URL relative to the tenant (the sandbox tenant's sink) as it is.
    static func shownURL(_ url: String) -> String {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, let host = parts.host else { return url }
        let rest = parts.path.isEmpty && parts.query == nil ? "" : "/…"
        return "\(scheme)://\(host)" + (parts.port.map { ":\($0)" } ?? "") + rest
    }

    init(kind: Kind, target: String, title: String, changes: [JSONChange], note: String?, baseVersion: Int64?, baseSHA256: String?,
         against: JSONValue?, body: JSONValue?, warnings: [String] = [], advice: [String] = []) {
        (self.kind, self.target, self.title, self.changes, self.note) = (kind, target, title, changes, note)
        (self.baseVersion, self.baseSHA256, self.against, self.body, self.warnings) = (baseVersion, baseSHA256, against, body, warnings)
        self.advice = advice
    }

    /// The hash a plan keeps of a document: SHA-256 of its canonical JSON (sorted keys).
    static func sha256(_ document: JSONValue) -> String {
        Hex.encode(SHA256.hash(data: Data(document.jsonString().utf8)))
    }

    /// The same target changed twice in one run is one action: the net change over the first base.
    func merging(_ later: PlannedChange) -> PlannedChange {
        var merged = self
        for change in later.changes {
            if let i = merged.changes.firstIndex(where: { $0.path == change.path }) {
                merged.changes[i].new = change.new
                if merged.changes[i].old == merged.changes[i].new { merged.changes.remove(at: i) }
            } else {
                merged.changes.append(change)
            }
        }
        merged.changes.sort { $0.dotted < $1.dotted }
        merged.body = later.body ?? body
        merged.note = later.note ?? note
        return merged
    }
}
