import CXShared
import Crypto
import Foundation
import JSONCore

/// The key that signs plan files (`CXRUN_PLAN_KEY`): with one configured, a plan carries an
/// HMAC that nobody without the key can forge; without one, a SHA-256 that catches edits.
public struct PlanKey: Sendable {
    let bytes: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: bytes) }

    /// The key from the environment, or nil when none is configured.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> PlanKey? {
        guard let text = environment["CXRUN_PLAN_KEY"], !text.isEmpty else { return nil }
        return PlanKey(bytes: Array(text.utf8))
    }
}

/// The digest of a plan's canonical content (sorted keys, values as they read back from the file).
enum PlanDigest {
    static func digest(of content: JSONValue, key: PlanKey?) -> String {
        let bytes = Data(canonical(content).utf8)
        if let key {
            return "hmac-sha256:" + Hex.encode(HMAC<SHA256>.authenticationCode(for: bytes, using: key.key))
        }
        return "sha256:" + Hex.encode(SHA256.hash(data: bytes))
    }

    static func verify(_ digest: String, of content: JSONValue, key: PlanKey?) throws(PlanError) {
        let bytes = Data(canonical(content).utf8)
        if digest.hasPrefix("hmac-sha256:") {
            guard let key else { throw PlanError("the plan is signed (hmac-sha256); set CXRUN_PLAN_KEY to the key it was planned with") }
            guard let mac = Hex.decode(String(digest.dropFirst("hmac-sha256:".count))),
                HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: bytes, using: key.key)
            else { throw PlanError("the plan's signature does not match its content: it was changed after planning (or signed with another key)") }
            return
        }
        guard digest.hasPrefix("sha256:") else { throw PlanError("the plan's digest '\(digest.prefix(20))' is of no known kind") }
        // With a key configured, an unsigned plan could have been rewritten with a fresh hash.
        if key != nil { throw PlanError("the plan is not signed, but CXRUN_PLAN_KEY is set: only signed plans are applied") }
        guard digest == "sha256:" + Hex.encode(SHA256.hash(data: bytes)) else {
            throw PlanError("the plan's digest does not match its content: it was changed after planning")
        }
    }

    /// Values as the file holds them: a number that reads back as another kind hashes the same both ways.
    private static func canonical(_ content: JSONValue) -> String {
        let once = content.jsonString()
        return ((try? JSONValue.parse(once))?.jsonString()) ?? once
    }
}
