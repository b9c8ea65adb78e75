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
        let known = Set(tenant.webhooks.keys)
        var seen: Set<String> = []
        return calls.compactMap { call in
            guard let name = call.literalArgument, !known.contains(name), seen.insert(name).inserted else { return nil }
            let near = RunbookChecker.closest(to: name, in: known).map { "did you mean \($0)? " } ?? ""
            return "\(path):\(call.line): webhook '\(name)' is not configured for tenant \(tenant.name) "
                + "(\(near)configured: \(known.isEmpty ? "none" : known.sorted().joined(separator: ", "))): the run would stop there, "
                + "after the changes before it. Add [webhooks.\(name)] with url and secret_env to cxrun.toml"
        }
    }
}
