import Foundation
import JSONCore

/// Keeps secrets out of the audit log, logs and output: values under secret-like keys, and any
/// known secret (client secret, webhook secrets, bearer tokens) wherever it appears in a string.
public struct Redactor: Sendable {
    public static let mask = "[redacted]"
    private let secrets: [String]

    public init(secrets: [String]) {
        // Longest first, so a secret containing another is masked whole.
        self.secrets = Array(Set(secrets.filter { $0.count >= 4 })).sorted { $0.count > $1.count }
    }

    /// True for keys named like secret, token, password, authorization, api key, credential.
    public static func isSensitiveKey(_ key: String) -> Bool {
        let k = key.lowercased()
        return ["secret", "token", "password", "passwd", "authorization", "apikey", "api_key", "api-key", "credential", "bearer"]
            .contains { k.contains($0) }
    }

    public func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let s): return .string(redact(s))
        case .array(let items): return .array(items.map(redact))
        case .object(let fields):
            var out: [String: JSONValue] = [:]
            for (key, v) in fields { out[key] = Self.isSensitiveKey(key) && v != .null ? .string(Self.mask) : redact(v) }
            return .object(out)
        default: return value
        }
    }

    public func redact(_ text: String) -> String {
        var out = text
        for secret in secrets where out.contains(secret) { out = out.replacingOccurrences(of: secret, with: Self.mask) }
        // Bearer tokens from any source.
        if let range = out.range(of: "Bearer [A-Za-z0-9._~+/=-]{8,}", options: .regularExpression) {
            out.replaceSubrange(range, with: "Bearer \(Self.mask)")
        }
        return out
    }
}
