import Crypto
import Foundation

/// The `X-Cxrun-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
public enum WebhookSignature {
    /// Header names of a signed delivery.
    public static let signatureHeader = "X-Cxrun-Signature"
    public static let deliveryHeader = "X-Cxrun-Delivery"
    /// How far a signature's timestamp may be from now before it is refused as stale.
    public static let tolerance = 300

    /// The header value signing `body` at `timestamp`.
    public static func sign(body: [UInt8], secret: String, timestamp: Int) -> String {
        "t=\(timestamp),v1=\(hexMAC(body: body, secret: secret, timestamp: timestamp))"
    }

    /// The outcome of checking a delivery's signature.
    public enum Verdict: String, Sendable, Equatable {
        case valid, missing, malformed, mismatch, stale
    }

    /// Checks `header` against `body`, in constant time, within the tolerance of `now`.
    public static func verify(header: String?, body: [UInt8], secret: String, now: Int) -> Verdict {
        guard let header else { return .missing }
        var timestamp: Int?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2 else { continue }
            if kv[0] == "t" { timestamp = Int(kv[1]) }
            if kv[0] == "v1" { signatures.append(kv[1]) }
        }
        guard let t = timestamp, !signatures.isEmpty else { return .malformed }
        var message = Array("\(t).".utf8)
        message.append(contentsOf: body)
        let key = SymmetricKey(data: Array(secret.utf8))
        // swift-crypto compares in constant time.
        let matches = signatures.contains { hex in
            guard let mac = Hex.decode(hex) else { return false }
            return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: message, using: key)
        }
        guard matches else { return .mismatch }
        return abs(now - t) > tolerance ? .stale : .valid
    }

    private static func hexMAC(body: [UInt8], secret: String, timestamp: Int) -> String {
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8)))
        return Hex.encode(mac)
    }
}
