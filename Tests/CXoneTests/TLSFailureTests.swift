import NIOCore
import NIOPosix
import NIOSSL
import Testing

@testable import CXone

/// A TLS failure reads as what went wrong, not as BoringSSL's error stack with source paths.
@Suite("TLS failures")
struct TLSFailureTests {
    /// A self-signed certificate for localhost and 127.0.0.1, valid until 2126 (a fixture: no
    /// authority this machine trusts signed it).
    static let certificate = """
        -----BEGIN CERTIFICATE-----
        MIIBmzCCAUGgAwIBAgIUFHre0Dxqlq9DEKzFZ6WSy/e0HPYwCgYIKoZIzj0EAwIw
        FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNzE5MDIwNFoYDzIxMjYxMTAz
        MTkwMjA0WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
        PQMBBwNCAATI4ZGYYQBg26vNzquJptZ5k9qR4/HBh3+8T3P8ionjA++EQJ8wGlWy
        A1qF65eVWNVY3ex3SEweOuvqCSr2e/1Yo28wbTAdBgNVHQ4EFgQU21R/JTROb1y7
        VavHIfIVcaF1SXswHwYDVR0jBBgwFoAU21R/JTROb1y7VavHIfIVcaF1SXswDwYD
        VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
        zj0EAwIDSAAwRQIhAMJLg5TkDCBBHwUAW0sgGA1rz5ldbMFfSjZo5XJLughLAiB9
        G1QSaafSsAKXqCUhWlXNqhm2W/0SbGH/IA8Q8MgbhA==
        -----END CERTIFICATE-----
        """
    static let key = """
        -----BEGIN PRIVATE KEY-----
        MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgJu1tCcy7w7KwecOz
        51GFol+aWVXlrLNx6uptZLc9UvWhRANCAATI4ZGYYQBg26vNzquJptZ5k9qR4/HB
        h3+8T3P8ionjA++EQJ8wGlWyA1qF65eVWNVY3ex3SEweOuvqCSr2e/1Y
        -----END PRIVATE KEY-----
        """

    @Test func aCertificateNoTrustedAuthoritySignedIsNamedAsSuch() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let context = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(Self.certificate.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(Self.key.utf8), format: .pem))))
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = server.localAddress?.port ?? 0
        do throws(HTTPFailure) {
            _ = try await HTTP1Client.exchange(.GET, "https://127.0.0.1:\(port)/x", headers: [], body: nil, timeout: 10, maxBody: 1 << 20)
            Issue.record("a self-signed certificate was trusted")
        } catch {
            #expect(error.kind == .connection && error.detail.hasPrefix("the server's TLS certificate could not be verified"), "\(error.detail)")
            #expect(error.detail.contains("CERTIFICATE_VERIFY_FAILED") && !error.detail.contains(".cc:"), "\(error.detail)")
        }
        try await server.close()
        try await group.shutdownGracefully()
    }
}
