import LuaHost

/// Webhook names a script calls with a literal (`webhook("wfm", …)`) that its tenant does not
/// configure. Such a call fails where it stands, and in a runbook that is after the changes it
/// reports on: the queues are written, then the run fails. So the run is refused before it
/// starts, naming the line and the fix. A name the script computes is not seen here; its call
/// still fails at its line.
enum WebhookPreflight {
    /// One line per name not configured (at its first call), empty when every literal name is.
    static func problems(source: String, path: String, tenant: ResolvedTenant) -> [String] {
        // Most scripts never name the binding: no second compile for them.
        guard source.contains("webhook") else { return [] }
        let calls = (GlobalAccesses.of(source: source, chunkName: "@\(path)") ?? []).filter { $0.name == "webhook" && !$0.isWrite }
        var seen: Set<String> = []
        return calls.compactMap { call in
            guard let name = call.literalArgument, tenant.webhooks[name] == nil, seen.insert(name).inserted else { return nil }
            return "\(path):\(call.line): webhook '\(name)' is not configured for tenant \(tenant.name) \(configured(near: name, in: tenant)): "
                + "the run would stop there, after the changes before it. Add [webhooks.\(name)] with url and secret_env to cxrun.toml"
        }
    }

    /// What a refusal of webhook `name` adds, at the call and before the run alike: the nearest
    /// configured name and every one, `(did you mean wfm? configured: ops, wfm)`.
    static func configured(near name: String, in tenant: ResolvedTenant) -> String {
        let known = tenant.webhooks.keys.sorted()
        let near = NearestName.nearest(to: name, in: known).map { "did you mean \($0)? " } ?? ""
        return "(\(near)configured: \(known.isEmpty ? "none" : known.joined(separator: ", ")))"
    }
}
