import Foundation
import TestSupport
import JSONCore
import Testing

@testable import SandboxTenant

@Suite("Sandbox tenant: tokens and access")
struct TokenTests {
    @Test func basicAuthFormBodyAndJSONBodyAllWorkOnEveryAlias() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let basic = "Basic " + Data("cxrun-demo:cxrun-demo-secret".utf8).base64EncodedString()
            for path in ["/oauth/token", "/oauth2/token", "/api/v2/oauth/token"] {
                let a = try await sim.send(.POST, path, headers: [("Authorization", basic), ("Content-Type", "application/x-www-form-urlencoded")],
                                           body: "grant_type=client_credentials&scope=routing:queue:write")
                #expect(a.status == 200, "\(path): \(a.text)")
                #expect(a.json["token_type"] == "Bearer" && a.json["expires_in"] == 3600)
                #expect(a.json["scope"] == "routing:queue:write")
                let b = try await sim.send(.POST, path, json: ["grant_type": "client_credentials", "client_id": "cxrun-demo",
                                                               "client_secret": "cxrun-demo-secret"])
                #expect(b.status == 200)
                #expect(b.json["scope"]?.stringValue?.contains("analytics:queue:view") == true, "no scope asked: all allowed")
            }
            // The scheme in any case, spaces around the credentials allowed.
            let lower = try await sim.send(.POST, "/oauth/token", headers: [("Authorization", "basic  " + basic.dropFirst(6) + " "),
                                                                            ("Content-Type", "application/x-www-form-urlencoded")],
                                           body: "grant_type=client_credentials")
            #expect(lower.status == 200, "\(lower.text)")
        }
    }

    @Test func badCredentialsGrantAndScopesAreRefused() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let wrong = try await sim.send(.POST, "/oauth/token", json: ["grant_type": "client_credentials", "client_id": "cxrun-demo", "client_secret": "nope"])
            #expect(wrong.status == 401 && wrong.json["error"] == "invalid_client")
            let grant = try await sim.send(.POST, "/oauth/token", json: ["grant_type": "password", "client_id": "cxrun-demo", "client_secret": "cxrun-demo-secret"])
            #expect(grant.status == 400 && grant.json["error"] == "unsupported_grant_type")
            let scope = try await sim.send(.POST, "/oauth/token", json: ["grant_type": "client_credentials", "client_id": "cxrun-demo",
                                                                         "client_secret": "cxrun-demo-secret", "scope": "admin:everything"])
            #expect(scope.status == 400 && scope.json["error"] == "invalid_scope")
        }
    }

    @Test func restrictedClientsGetOnlyTheirScopesAndEndpointsNameTheMissingOne() async throws {
        let sim = try await Sim.start { $0.clients = [SimClient(id: "reader", secret: "s3cret", scopes: ["routing:queue:view"])] }
        try await stopping(sim) {
            let reply = try await sim.send(.POST, "/oauth/token", json: ["grant_type": "client_credentials", "client_id": "reader",
                                                                         "client_secret": "s3cret", "scope": "routing:queue:view routing:queue:write"])
            #expect(reply.json["scope"] == "routing:queue:view")
            let token = try #require(reply.json["access_token"]?.stringValue)
            #expect(try await sim.send(.GET, "/api/v2/routing/queues", token: token).status == 200)
            let forbidden = try await sim.send(.POST, "/api/v2/analytics/queues/summary/query", token: token, json: [:])
            #expect(forbidden.status == 403)
            #expect(forbidden.json["message"]?.stringValue?.contains("analytics:queue:view") == true)
        }
    }

    @Test func missingUnknownAndExpiredTokensAre401() async throws {
        let sim = try await Sim.start { $0.tokenTTL = 2 }
        try await stopping(sim) {
            #expect(try await sim.send(.GET, "/api/v2/routing/queues").status == 401)
            #expect(try await sim.send(.GET, "/api/v2/routing/queues", token: "forged").status == 401)
            // Used once while valid, so the tenant has it in memory when it expires. On a loaded
            // machine the first use can come after its 2 s: a new token then, until one is used
            // in time (bounded), rather than a test that fails by the machine's speed.
            var token = try await sim.token()
            var used = try await sim.send(.GET, "/api/v2/routing/queues", token: token)
            let tries = ContinuousClock.now + .seconds(30)
            while used.status == 401, ContinuousClock.now < tries {
                token = try await sim.token()
                used = try await sim.send(.GET, "/api/v2/routing/queues", token: token)
            }
            #expect(used.status == 200)
            // Tokens expire on the real clock: wait for that (polling, not a fixed sleep).
            var expired = try await sim.send(.GET, "/api/v2/routing/queues", token: token)
            let deadline = ContinuousClock.now + .seconds(30)
            while expired.status == 200, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
                expired = try await sim.send(.GET, "/api/v2/routing/queues", token: token)
            }
            #expect(expired.status == 401)
            #expect(expired.json["message"] == "the bearer token has expired")
        }
    }

    @Test func bearerIsReadInAnyCaseAndOtherSchemesAreRefused() async throws {
        let sim = try await Sim.start()
        try await stopping(sim) {
            let token = try await sim.token()
            for header in ["bearer \(token)", "BEARER \(token)", "Bearer  \(token)"] {
                let reply = try await sim.send(.GET, "/api/v2/routing/queues", headers: [("Authorization", header)])
                #expect(reply.status == 200, "\(header): \(reply.text)")
            }
            for header in ["Bearer\(token)", "Basic \(token)", "Bearer", "Bear"] {
                let reply = try await sim.send(.GET, "/api/v2/routing/queues", headers: [("Authorization", header)])
                #expect(reply.status == 401, "\(header): \(reply.text)")
            }
        }
    }

    @Test func headerValuesAreTrimmedAndPrefixesMatchInAnyCase() {
        #expect(" \t a b \t ".dropFirst(0).withoutOptionalWhitespace == "a b")
        #expect("".dropFirst(0).withoutOptionalWhitespace == "")
        #expect(" \t".dropFirst(0).withoutOptionalWhitespace == "")
        #expect("BeArEr x".dropFirst(0).afterPrefix(ignoringCase: "bearer ") == "x")
        #expect("bearer".dropFirst(0).afterPrefix(ignoringCase: "bearer ") == nil)
        #expect("bearex x".dropFirst(0).afterPrefix(ignoringCase: "bearer ") == nil)
        #expect("w/\"3\"".dropFirst(0).afterPrefix(ignoringCase: "W/") == "\"3\"")
        // Bytes past ASCII are compared as they are, never folded.
        #expect("ÉX".dropFirst(0).afterPrefix(ignoringCase: "é") == nil)
    }

    @Test func clientSpecsParse() {
        #expect(SimClient.parse("a:b") == SimClient(id: "a", secret: "b"))
        #expect(SimClient.parse("a:b:routing:queue:view,users:read")?.scopes == ["routing:queue:view", "users:read"])
        #expect(SimClient.parse("nosecret") == nil)
        #expect(SimClient.parse(":x") == nil)
    }
}
