import Foundation
import TestSupport
import Testing

@testable import Runbook

/// cxrun.toml read from real files: full TOML 1.0, errors that name the file, the line or the key.
@Suite("Configuration: cxrun.toml")
struct ConfigurationTests {
    private func resolve(_ text: String, tenant: String? = "prod", environment: [String: String] = ["PROD_SECRET": "s3cret-value"]) throws(ConfigError) -> ResolvedTenant {
        try resolve(Data(text.utf8), tenant: tenant, environment: environment)
    }

    private func resolve(_ data: Data, tenant: String? = "prod", environment: [String: String] = ["PROD_SECRET": "s3cret-value"]) throws(ConfigError) -> ResolvedTenant {
        let dir: String
        do { dir = try temporaryFolder("config") } catch { throw ConfigError(file: nil, key: nil, message: "\(error)") }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/cxrun.toml"
        guard FileManager.default.createFile(atPath: path, contents: data) else {
            throw ConfigError(file: path, key: nil, message: "the test could not write its configuration file")
        }
        return try Configuration.resolve(configPath: path, tenant: tenant, environment: environment, workingDirectory: dir)
    }

    private func error(_ text: String, tenant: String? = "prod") -> ConfigError? {
        do { _ = try resolve(text, tenant: tenant) } catch { return error }
        return nil
    }

    @Test func validTOMLThatUsersWriteIsRead() throws {
        let text = """
            default_tenant = "prod"\r
            [tenants.prod]\r
            base_url = "https://api.example.invalid"\r
            client_id = "ops"\r
            client_secret_env = "PROD_SECRET"\r
            scopes = [\r
              "routing:queue:view",   # multi-line, with a trailing comma\r
              "routing:queue:update",\r
            ]\r
            rate_limit = 1_000\r
            limits = { max_waiters = 50, pause_reasons = ["Lunch", "Training"] }\r
            [webhooks.wfm]\r
            url = 'https://wfm.example.invalid/hook'\r
            secret_env = "PROD_SECRET"\r\n
            """
        let tenant = try resolve(text, tenant: nil)
        // Saved by Notepad: a byte-order mark first. It was "expected a key, found byte 0xEF".
        #expect(try resolve("\u{FEFF}" + text, tenant: nil).name == "prod")
        #expect(tenant.name == "prod")
        #expect(tenant.endpoint?.scopes == ["routing:queue:view", "routing:queue:update"])
        #expect(tenant.endpoint?.rateLimit == 1000)
        #expect(tenant.limits.maxWaiters == 50 && tenant.limits.pauseReasons == ["Lunch", "Training"])
        #expect(tenant.webhooks["wfm"]?.url == "https://wfm.example.invalid/hook")
    }

    @Test(arguments: [
        ("x = 0100\n", "1"),          // leading zeros
        ("x = 1__0\n", "1"),          // doubled underscore
        ("a = 1\nx = \"bell\u{07}\"\n", "2"),  // a control character in a string
        ("[tenants.prod\n", "1"),     // an unclosed header
    ])
    func invalidTOMLIsRefusedNamingTheLine(_ text: String, _ line: String) {
        let e = error(text)
        #expect(e?.file?.hasSuffix("cxrun.toml:\(line)") == true, "\(String(describing: e))")
    }

    /// Found by `make fuzz`: toml++ 3.4 (under TOMLKit, the TOML reader until then) aborted the
    /// process on each of these; cxrun's own TOML parser names the line.
    @Test(arguments: [
        ("a = 1979-08-27T07:32:00Z\n[{c = 3}\\~", "2"),
        ("ok = 1\n\n[\n", "3"),
        ("[[ {x = 1}]]\n", "1"),
        ("s = '''\n[not = a header\n'''\n[=]\n", "4"),
        ("defaula = 1979-05-27Tt_t07:", "1"),
    ])
    func inputsThatCrashedTheOldTOMLParserAreRefused(_ text: String, _ line: String) {
        let e = error(text)
        #expect(e?.file?.hasSuffix("cxrun.toml:\(line)") == true && e?.message.isEmpty == false, "\(String(describing: e))")
    }

    /// The guard refuses only what toml++ cannot parse: brackets inside values, strings and
    /// comments are not headers.
    @Test func bracketsInValuesStringsAndCommentsAreNotHeaders() throws {
        let text = """
            [tenants.prod]  # [{ not a header
            base_url = "https://api.example.invalid/[x"
            client_id = 'ops['
            client_secret_env = "PROD_SECRET"
            scopes = [
            [ "a" ], { x = 1 },
              ]
            note = \"\"\"
            [{ still a string
            \"\"\"
            [ "tenants" . "other" ]
            base_url = "https://other.example.invalid"
            """
        // The file parses (past the guard and toml++); what is refused is a key it does not know.
        let e = error(text)
        #expect(e?.key == "tenants.prod.note" && e?.file?.hasSuffix("cxrun.toml") == true, "\(String(describing: e))")
    }

    @Test func invalidUTF8IsRefusedNamingTheLine() {
        var bytes = Data("a = 1\nb = \"".utf8)
        bytes.append(contentsOf: [0xC3, 0x28])
        bytes.append(contentsOf: Data("\"\n".utf8))
        do {
            _ = try resolve(bytes)
            Issue.record("invalid UTF-8 was accepted")
        } catch {
            #expect(error.file?.hasSuffix("cxrun.toml:2") == true && error.message.contains("UTF-8"), "\(error)")
        }
    }

    @Test func deeplyNestedArraysAreAnErrorNotACrash() {
        let depth = 75_000  // 150 KB of brackets
        let text = "x = " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"
        let e = error(text)
        #expect(e != nil && e?.file?.contains("cxrun.toml") == true, "\(String(describing: e))")
    }

    @Test func misspeltKeysAndSectionsNameTheClosestKnownOne() {
        let base = "[tenants.prod]\nbase_url = \"https://x.invalid\"\nclient_id = \"a\"\nclient_secret_env = \"PROD_SECRET\"\n"
        let rate = error(base + "rate_limt = 5\n")
        #expect(rate?.key == "tenants.prod.rate_limt" && rate?.message.contains("did you mean 'tenants.prod.rate_limit'?") == true,
                "\(String(describing: rate))")
        let section = error(base + "[webhook.wfm]\nurl = \"https://x.invalid\"\n")
        #expect(section?.key == "webhook" && section?.message.contains("did you mean 'webhooks'?") == true, "\(String(describing: section))")
        let limit = error(base + "[tenants.prod.limits]\nmax_waiter = 3\n")
        #expect(limit?.message.contains("did you mean 'tenants.prod.limits.max_waiters'?") == true, "\(String(describing: limit))")
        let hook = error("[webhooks.wfm]\nurl = \"https://x.invalid\"\nsecret_enb = \"X\"\n", tenant: nil)
        #expect(hook?.key == "webhooks.wfm.secret_enb" && hook?.message.contains("'webhooks.wfm.secret_env'") == true, "\(String(describing: hook))")
        let far = error(base + "zzzzzzzz = 1\n")
        #expect(far?.message.hasPrefix("unknown key (known here:") == true, "no wild guess: \(String(describing: far))")
        let array = error("[[tenants]]\nname = \"x\"\n", tenant: nil)
        #expect(array?.key == "tenants" && array?.message.contains("table of tables") == true, "\(String(describing: array))")
    }
    /// Plain http to another machine would carry the client secret and tokens unencrypted: refused
    /// unless the tenant allows it; loopback (the sandbox tenant, `cxrun sim`) and https pass.
    /// A webhook whose secret is not in this shell's environment stops only its own use: it
    /// stopped every command (a rollback during an incident too) with a configuration error.
    /// What the file itself gets wrong is still an error at once.
    @Test func aWebhookSecretNotSetHereFailsOnlyItsUse() throws {
        let base = "[tenants.prod]\nbase_url = \"https://x.invalid\"\nclient_id = \"a\"\nclient_secret_env = \"PROD_SECRET\"\n"
        let tenant = try resolve(base + "[webhooks.ops]\nurl = \"https://hooks.invalid/ops\"\nsecret_env = \"OPS_SECRET\"\n")
        let ops = try #require(tenant.webhooks["ops"])
        #expect(ops.secret.isEmpty && ops.unavailable?.contains("environment variable OPS_SECRET is not set") == true, "\(String(describing: ops.unavailable))")
        let set = try resolve(base + "[webhooks.ops]\nurl = \"https://hooks.invalid/ops\"\nsecret_env = \"OPS_SECRET\"\n",
                              environment: ["PROD_SECRET": "s3cret-value", "OPS_SECRET": "hook-secret"])
        #expect(set.webhooks["ops"] == WebhookTarget(url: "https://hooks.invalid/ops", secret: "hook-secret"))
        let named = error(base + "[webhooks.ops]\nurl = \"https://hooks.invalid/ops\"\n")
        #expect(named?.key == "webhooks.ops.secret_env", "no secret named at all: \(String(describing: named))")
    }

    @Test func plainHTTPToAnotherMachineIsRefusedUnlessAllowed() throws {
        func tenant(_ url: String, _ extra: String = "") -> String {
            "[tenants.prod]\nbase_url = \"\(url)\"\nclient_id = \"a\"\nclient_secret_env = \"PROD_SECRET\"\n" + extra
        }
        for remote in ["http://api.example.invalid", "http://10.0.0.5:8080/v2", "http://[fe80::1]/", "http://127.0.0.1.evil.example/"] {
            let e = error(tenant(remote))
            #expect(e?.key == "tenants.prod.base_url" && e?.message.contains("is plain http to") == true
                    && e?.message.contains("allow_insecure_http = true") == true, "\(remote): \(String(describing: e))")
        }
        for local in ["http://127.0.0.1:8080", "http://localhost:9000", "http://[::1]:8080", "http://127.1.2.3", "https://api.example.invalid"] {
            #expect(error(tenant(local)) == nil, "\(local)")
        }
        #expect(error(tenant("http://10.0.0.5", "allow_insecure_http = true\n")) == nil)
        let token = error(tenant("https://api.example.invalid", "token_url = \"http://auth.example.invalid/token\"\n"))
        #expect(token?.key == "tenants.prod.token_url" && token?.message.contains("plain http to auth.example.invalid") == true, "\(String(describing: token))")
        let notBool = error(tenant("http://10.0.0.5", "allow_insecure_http = \"yes\"\n"))
        #expect(notBool?.key == "tenants.prod.allow_insecure_http" && notBool?.message == "must be true or false", "\(String(describing: notBool))")
        do {
            _ = try resolve(tenant("https://api.example.invalid"), environment: ["PROD_SECRET": "s3cret-value", "CXONE_BASE_URL": "http://10.9.9.9"])
            Issue.record("an override from the environment is checked too")
        } catch {
            #expect(error.message.contains("plain http to 10.9.9.9 (from CXONE_BASE_URL)"), "\(error)")
        }
    }
    /// A configuration named on the command line that is not a plain file of sane size is an
    /// error naming what it is: /dev/zero once read as an empty file (the sandbox tenant, silently),
    /// a FIFO could hang, and a 300 MB file was read whole and quoted whole in the error.
    @Test func aConfigurationThatIsNotAPlainFileOfSaneSizeIsRefused() throws {
        let dir = try temporaryFolder("config-files")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/fifo.toml", 0o600) == 0)
        try Data(repeating: 0x61, count: Configuration.maxConfigBytes + 1).write(to: URL(fileURLWithPath: dir + "/big.toml"))
        try Data(repeating: 0x61, count: 5_000).write(to: URL(fileURLWithPath: dir + "/long-key.toml"))
        let cases = [("/dev/zero", "is not a regular file"), (dir + "/fifo.toml", "is not a regular file"), (dir, "is a directory"),
                     (dir + "/big.toml", "is \(Configuration.maxConfigBytes + 1) bytes long; at most \(Configuration.maxConfigBytes) are read"),
                     (dir + "/missing.toml", "does not exist")]
        for (path, message) in cases {
            do {
                _ = try Configuration.resolve(configPath: path, tenant: nil, environment: [:], workingDirectory: dir)
                Issue.record("\(path) was read as a configuration")
            } catch {
                #expect(error.description.contains(message), "\(path): \(error)")
            }
        }
        do {
            _ = try Configuration.resolve(configPath: dir + "/long-key.toml", tenant: nil, environment: [:], workingDirectory: dir)
            Issue.record("a bare 5,000-character line is no configuration")
        } catch {
            #expect(error.description.count < 600 && error.description.hasSuffix("…"), "the quoted key is cut short: \(error.description.count) characters")
        }
        let escaped = error("\"\\u001b[2J\" = 1\n", tenant: nil)
        #expect(escaped?.description.contains("\\u{1B}[2J: unknown key") == true && escaped?.description.contains("\u{1B}") == false,
                "\(String(describing: escaped))")
    }
    /// An override set empty (`export CXRUN_TENANT=` to clear it) is as good as unset; a set one wins.
    @Test func anOverrideSetEmptyIsUnset() throws {
        let text = "default_tenant = \"prod\"\n[tenants.prod]\nbase_url = \"https://api.example.invalid\"\nclient_id = \"a\"\nclient_secret_env = \"PROD_SECRET\"\n"
        let empty = ["PROD_SECRET": "s3cret-value", "CXRUN_TENANT": "", "CXONE_BASE_URL": "", "CXONE_TOKEN_URL": "", "CXONE_CLIENT_ID": ""]
        let tenant = try resolve(text, tenant: nil, environment: empty)
        #expect(tenant.name == "prod" && tenant.endpoint?.baseURL == "https://api.example.invalid" && tenant.endpoint?.clientID == "a")
        #expect(tenant.endpoint?.tokenURL == "https://api.example.invalid/oauth/token")
        let set = try resolve(text, tenant: nil, environment: ["PROD_SECRET": "s3cret-value", "CXONE_CLIENT_ID": "b"])
        #expect(set.endpoint?.clientID == "b")
    }
}
