#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JSONCore

/// Keeps secrets out of the audit log, logs and output: values under secret-like keys, and any
/// known secret (client secret, webhook secrets, bearer tokens) wherever it appears in a string.
/// It runs on every audited value, so it scans UTF-8 bytes and allocates only when it masks.
public struct Redactor: Sendable {
    public static let mask = "[redacted]"
    private static let sensitiveWords: [[UInt8]] = ["secret", "token", "password", "passwd", "authorization", "apikey", "api_key",
                                                    "api-key", "credential", "bearer"].map { Array($0.utf8) }
    /// The sensitive words by their first letter (a-z): a key is checked at each of its
    /// letters against the few words starting there, not against every word.
    private static let wordsByInitial: [[[UInt8]]] = (UInt8(ascii: "a")...UInt8(ascii: "z")).map { letter in
        sensitiveWords.filter { $0.first == letter }
    }
    private static let bearer = Array("Bearer ".utf8)
    /// A bearer token is at least this many token characters after "Bearer ".
    private static let bearerMinimum = 8
    private let secrets: [[UInt8]]

    public init(secrets: [String]) {
        // Longest first, so a secret containing another is masked whole.
        self.secrets = Array(Set(secrets.filter { $0.count >= 4 })).sorted { $0.utf8.count > $1.utf8.count }.map { Array($0.utf8) }
    }

    /// True for keys named like secret, token, password, authorization, api key, credential.
    public static func isSensitiveKey(_ key: String) -> Bool {
        var key = key
        let words = wordsByInitial  // once: a global read in the loop was a lazy-initialisation check per byte
        return key.withUTF8 { bytes in
            for start in bytes.indices {
                let letter = bytes[start] | 0x20  // ASCII letters lowercased; other bytes match no initial
                guard letter >= UInt8(ascii: "a"), letter <= UInt8(ascii: "z") else { continue }
                for word in words[Int(letter - UInt8(ascii: "a"))] where bytes.hasIgnoringASCIICase(word, at: start) { return true }
            }
            return false
        }
    }

    /// Script arguments as stored: `KEY=VALUE` with a sensitive key keeps the key, not the value
    /// (`password=hunter2` -> `password=[redacted]`); every argument is redacted like any text.
    public func redact(arguments: [String]) -> JSONValue {
        .array(arguments.map { argument in
            if let eq = argument.firstIndex(of: "="), Self.isSensitiveKey(String(argument[..<eq])) {
                return .string(String(argument[...eq]) + Self.mask)
            }
            return .string(redact(argument))
        })
    }

    public func redact(_ value: JSONValue) -> JSONValue { redacted(value) ?? value }

    /// The value with secrets masked, or nil when it holds none (nothing is copied then: this
    /// runs on every audited document, and most hold no secret).
    func redacted(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .string(let s):
            let r = redact(s)
            return r == s ? nil : .string(r)
        case .array(let items):
            return JSONValue.rebuilt(items, redacted).map(JSONValue.array)
        case .object(let fields):
            return JSONValue.rebuilt(fields) { key, v in
                guard Self.isSensitiveKey(key) && v != .null else { return redacted(v) }
                return v == .string(Self.mask) ? nil : .string(Self.mask)
            }.map(JSONValue.object)
        default: return nil
        }
    }

    /// The text with every known secret and every bearer token masked.
    public func redact(_ text: String) -> String {
        // Most text holds nothing to mask: look before copying.
        var text = text
        let clean = text.withUTF8 { bytes in !secrets.contains { bytes.find($0) != nil } && bytes.find(Self.bearer) == nil }
        if clean { return text }
        var bytes = Array(text.utf8)
        var masked = false
        for secret in secrets {
            var from = 0
            while let at = bytes.find(secret, from: from) {
                bytes.replaceSubrange(at..<at + secret.count, with: Self.mask.utf8)
                from = at + Self.mask.utf8.count
                masked = true
            }
        }
        if maskBearerTokens(&bytes) { masked = true }
        return masked ? String(decoding: bytes, as: UTF8.self) : text
    }

    /// Masks the token after each "Bearer " (at least `bearerMinimum` of `[A-Za-z0-9._~+/=-]`); true if it masked any.
    private func maskBearerTokens(_ bytes: inout [UInt8]) -> Bool {
        var masked = false
        var from = 0
        while let at = bytes.find(Self.bearer, from: from) {
            let token = at + Self.bearer.count
            var end = token
            while end < bytes.endIndex && Self.isTokenByte(bytes[end]) { end += 1 }
            if end - token >= Self.bearerMinimum {
                bytes.replaceSubrange(token..<end, with: Self.mask.utf8)
                from = token + Self.mask.utf8.count
                masked = true
            } else {
                from = end
            }
        }
        return masked
    }

    private static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        default: return "._~+/=-".utf8.contains(b)
        }
    }
}

extension [UInt8] {
    /// Where `needle` first occurs at or after `from` (this runs on every audited string).
    fileprivate func find(_ needle: [UInt8], from: Int = 0) -> Int? {
        withUnsafeBufferPointer { $0.find(needle, from: from) }
    }
}

extension UnsafeBufferPointer<UInt8> {
    fileprivate func find(_ needle: [UInt8], from: Int = 0) -> Int? {
        guard let first = needle.first, from >= 0, from <= count - needle.count else { return nil }
        return needle.withUnsafeBufferPointer { n in
            var i = from
            while i <= count - n.count {
                if self[i] == first && memcmp(baseAddress! + i, n.baseAddress!, n.count) == 0 { return i }
                i += 1
            }
            return nil
        }
    }

    /// Whether `needle` (lowercase ASCII) occurs at `start`, ASCII letters compared without case.
    fileprivate func hasIgnoringASCIICase(_ needle: [UInt8], at start: Int) -> Bool {
        guard needle.count <= count - start else { return false }
        for k in needle.indices {
            var b = self[start + k]
            if b >= 0x41 && b <= 0x5A { b |= 0x20 }
            if b != needle[k] { return false }
        }
        return true
    }
}
