import Crypto
import Foundation
import JSONCore
import Synchronization

/// Secret values in snapshots, sealed so that rollback can be exact while the audit log holds
/// no secret in clear: a value under a secret-named key (`integration.apiToken`) is stored as
/// `"[sealed:v1:<base64 AES-GCM>]"`. The key lives outside the database: `CXRUN_AUDIT_KEY`, or
/// a 0600 file next to it (`audit.key`, created on the first seal); a shared (PostgreSQL) log's
/// only from `CXRUN_AUDIT_KEY`, which the team shares (a key file on one machine would open on
/// that machine alone). Without the key a secret is masked, or a sealed value cannot be opened;
/// rollback then leaves that field as it is and says so.
final class SecretSeal: Sendable {
    static let prefix = "[sealed:v1:"
    /// Where the key file is, when the environment gives no key (nil: a shared log, no file).
    let keyFile: String?
    private let environmentKey: [UInt8]?
    /// The key once read or made: a log full of secret fields reads its file once, not per value.
    private let loaded = Mutex<[UInt8]?>(nil)

    init(auditPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment) {
        keyFile = auditPath.map { path in
            let folder = (path as NSString).deletingLastPathComponent
            return (folder.isEmpty ? "." : folder) + "/audit.key"
        }
        environmentKey = environment["CXRUN_AUDIT_KEY"].flatMap { $0.isEmpty ? nil : Array(SHA256.hash(data: Data($0.utf8))) }
    }

    /// The seal of the audit log at `location` (a file path, or a shared log's URL: no key file).
    convenience init(audit location: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(auditPath: AuditLocation.isURL(location) ? nil : location, environment: environment)
    }

    /// Where the key comes from, for messages.
    var keySource: String { environmentKey != nil || keyFile == nil ? "CXRUN_AUDIT_KEY" : keyFile ?? "" }

    /// Why sealed values did not open, for messages: no key here, or a key that is not theirs.
    var unopenedReason: String {
        key(creating: false) == nil ? "the key \(keySource) is not here to open them"
            : "the key \(keySource) does not open them: they were sealed with another key (or masked when no key could be had)"
    }

    // MARK: sealing

    /// The document with every secret-named value sealed (masked when no key can be had).
    func seal(_ document: JSONValue, redactor: Redactor) -> JSONValue { sealing(document, redactor: redactor) ?? document }

    /// The document sealed, or nil when it holds nothing to seal or mask (then nothing is copied).
    private func sealing(_ document: JSONValue, redactor: Redactor) -> JSONValue? {
        switch document {
        case .object(let fields):
            return JSONValue.rebuilt(fields) { key, value in
                guard Redactor.isSensitiveKey(key) && value != .null else { return sealing(value, redactor: redactor) }
                return .string(sealed(value) ?? Redactor.mask)
            }.map(JSONValue.object)
        case .array(let items): return JSONValue.rebuilt(items) { sealing($0, redactor: redactor) }.map(JSONValue.array)
        default: return redactor.redacted(document)
        }
    }

    /// A planned change with its secret values sealed: the whole value when the path goes
    /// through a secret-named key, else any secret-named keys inside it.
    func seal(_ change: JSONChange, redactor: Redactor) -> JSONChange {
        let secret = change.path.contains(where: Redactor.isSensitiveKey)
        func one(_ v: JSONValue?) -> JSONValue? {
            guard let v else { return nil }
            if secret && v != .null { return .string(sealed(v) ?? Redactor.mask) }
            return seal(v, redactor: redactor)
        }
        return JSONChange(path: change.path, old: one(change.old), new: one(change.new))
    }

    /// The change with its sealed values opened, and whether any could not be opened (a value
    /// masked because no key could be had at sealing time never opens).
    func open(_ change: JSONChange) -> (change: JSONChange, unopened: Bool) {
        var unopened = false
        func one(_ v: JSONValue?) -> JSONValue? {
            guard let v else { return nil }
            if v == .string(Redactor.mask) && change.path.contains(where: Redactor.isSensitiveKey) {
                unopened = true
                return v
            }
            let (opened, unknown) = open(v)
            if !unknown.isEmpty { unopened = true }
            return opened
        }
        return (JSONChange(path: change.path, old: one(change.old), new: one(change.new)), unopened)
    }

    private func sealed(_ value: JSONValue) -> String? {
        guard let key = key(creating: true), let box = try? AES.GCM.seal(Data(value.jsonString().utf8), using: key).combined else { return nil }
        return Self.prefix + box.base64EncodedString() + "]"
    }

    // MARK: opening

    /// The document with sealed values opened, and the paths of secret values it could not
    /// open (no key, another key, or masked before sealing existed).
    func open(_ document: JSONValue) -> (document: JSONValue, unknown: [[String]]) {
        var unknown: [[String]] = []
        let key = self.key(creating: false)
        let opened = open(document, path: [], key: key, unknown: &unknown)
        return (opened, unknown)
    }

    private func open(_ value: JSONValue, path: [String], key: SymmetricKey?, unknown: inout [[String]]) -> JSONValue {
        switch value {
        case .object(let fields):
            var out: [String: JSONValue] = [:]
            for (k, v) in fields { out[k] = open(v, path: path + [k], key: key, unknown: &unknown) }
            return .object(out)
        case .array(let items):
            return .array(items.map { open($0, path: path, key: key, unknown: &unknown) })
        case .string(let s) where s.hasPrefix(Self.prefix) && s.hasSuffix("]"):
            let base64 = String(s.dropFirst(Self.prefix.count).dropLast())
            if let key, let data = Data(base64Encoded: base64), let box = try? AES.GCM.SealedBox(combined: data),
                let plain = try? AES.GCM.open(box, using: key), let json = try? JSONValue.parse(plain)
            {
                return json
            }
            unknown.append(path)
            return value
        case .string(let s) where s == Redactor.mask && path.last.map(Redactor.isSensitiveKey) == true:
            unknown.append(path)
            return value
        default:
            return value
        }
    }

    // MARK: the key

    private func key(creating: Bool) -> SymmetricKey? {
        if let environmentKey { return SymmetricKey(data: environmentKey) }
        if let bytes = loaded.withLock({ $0 }) ?? fileKey(creating: creating) {
            loaded.withLock { $0 = bytes }
            return SymmetricKey(data: bytes)
        }
        return nil
    }

    /// The key file's 32 bytes, made first when `creating` and there is none.
    private func fileKey(creating: Bool) -> [UInt8]? {
        guard let keyFile else { return nil }
        if let data = FileManager.default.contents(atPath: keyFile), data.count == 32 { return Array(data) }
        guard creating else { return nil }
        // Written to a private temporary file, then linked into place: a reader never sees a
        // half-written key, and of two processes creating it at once the first link wins.
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        let temporary = keyFile + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
        let fd = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { return nil }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let linked = written == 32 && link(temporary, keyFile) == 0
        unlink(temporary)
        if linked { return bytes }
        if let data = FileManager.default.contents(atPath: keyFile), data.count == 32 { return Array(data) }
        return nil
    }
}
