import Glibc
import NIOCore
import NIOPosix
import NIOSSL

/// A failure to connect, or of TLS, in an operator's words — "connection refused", BoringSSL's
/// reason (`CERTIFICATE_VERIFY_FAILED`) — not NIO's descriptions with addresses, errno tuples and
/// this build's source paths. For the tenant's API and for a team's PostgreSQL alike.
public enum NetworkFailure {
    /// The words for `error`, or nil when it is neither a connect nor a TLS failure.
    public static func describe(_ error: any Error) -> String? {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return describe(first.error) ?? "\(first.error)" }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "the host name does not resolve" }
            return "no address of the host answered"
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ENETUNREACH, EHOSTUNREACH: return "no route to the host"
            case ECONNRESET: return "the connection was reset by the other side"
            default: return nil
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return "the connection attempt timed out" }
        return describeTLS(error)
    }

    /// The words for a TLS `error`, or nil when it is no TLS error.
    static func describeTLS(_ error: any Error) -> String? {
        if let error = error as? NIOSSLExtraError {
            if error == .failedToValidateHostname { return "the server's TLS certificate is not for this host (\(error))" }
            return "TLS: \(error)"
        }
        guard let error = error as? NIOSSLError else { return nil }
        switch error {
        case .handshakeFailed(let cause):
            let reasons = reasons(cause)
            if reasons.contains("CERTIFICATE_VERIFY_FAILED") {
                return "the server's TLS certificate could not be verified with this machine's trusted certificates "
                    + "(CERTIFICATE_VERIFY_FAILED: self-signed, expired, or from an authority this machine does not trust)"
            }
            return "the TLS handshake failed" + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: ", ")))")
        case .uncleanShutdown:
            return "the server ended the TLS session without closing it"
        default:
            return "TLS: \(error)"
        }
    }

    /// BoringSSL's reason names in `error` (`error:1000007d:SSL routines:OPENSSL_internal:REASON at file:line`).
    static func reasons(_ error: BoringSSLError) -> [String] {
        let stack: NIOBoringSSLErrorStack
        switch error {
        case .sslError(let s), .unknownError(let s), .invalidSNIName(let s), .failedToSetALPN(let s): stack = s
        default: return ["\(error)"]
        }
        return stack.map { entry in
            let text = entry.description
            guard let start = text.range(of: "error:") else {
                return String(text.drop { $0 != " " }.drop { $0 == " " }.prefix(200))  // "Error:  EOF during handshake"
            }
            // code : library : function : reason (up to " at " the source path)
            let fields = text[start.upperBound...].split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
            let reason = fields.count == 4 ? fields[3] : text[start.upperBound...]
            return String((reason.range(of: " at ").map { reason[..<$0.lowerBound] } ?? reason).prefix(200))
        }
    }
}
