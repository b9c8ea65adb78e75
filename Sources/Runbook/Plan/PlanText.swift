import CXShared
import JSONCore

/// How a change reads to a reviewer (after Terraform's plan): one block per target, one line
/// per changed field, `~` changed, `+` added, `-` removed; colours only when asked (a TTY).
public enum PlanText {
    /// Every action's block, then the closing count.
    public static func render(_ actions: [PlannedChange], color: Bool) -> String {
        guard !actions.isEmpty else { return "  (no changes)\n" }
        var text = actions.map { block($0, color: color) }.joined(separator: "\n") + "\n" + "Plan: \(Plan.countLine(actions)).\n"
        let flagged = actions.filter { !$0.warnings.isEmpty }.count
        if flagged > 0 {
            text += Paint(on: color).removed("Warning:") + " \(flagged) planned \(flagged == 1 ? "queue is" : "queues are") marked (!) by cxrun's rules: "
                + "the tenant may refuse \(flagged == 1 ? "it" : "them"), and cxrun apply refuses the whole plan while a change brings such a problem. "
                + "Check with validate(payload) before deploying.\n"
        }
        let advised = actions.filter { !$0.advice.isEmpty }.count
        if advised > 0 {
            text += "Note: \(advised) planned \(advised == 1 ? "queue carries" : "queues carry") advice (?) from cxrun's rules: "
                + "likely mistakes the tenant takes all the same.\n"
        }
        return text
    }

    /// One target's block.
    public static func block(_ a: PlannedChange, color: Bool) -> String {
        let paint = Paint(on: color)
        var lines: [String] = []
        let name = printable(a.title.isEmpty ? a.target : a.title)
        switch a.kind {
        case .queue:
            let version = a.baseVersion.map { ", v\($0)" } ?? ""
            lines.append(paint.changed("~") + " " + paint.bold(name) + " (queue \(short(a.target))\(version))")
        case .agent:
            lines.append(paint.changed("~") + " " + paint.bold(name) + " (agent \(short(a.target)))")
        case .profile:
            lines.append(paint.changed("~") + " " + paint.bold(name) + " (agent \(short(a.target)), routing profile)")
        case .webhook:
            lines.append(paint.added("+") + " " + paint.bold("webhook \(printable(a.target))"))
            if let shown = a.against?["shown"]?.stringValue { lines.append("    to: \(printable(shown))") }
            lines.append("    payload: \(shown(a.body ?? .null))")
        }
        if let note = a.note { lines.append("    # \(printable(note))") }
        for warning in a.warnings { lines.append("    " + paint.removed("!") + " " + printable(warning)) }
        for advice in a.advice { lines.append("    " + paint.changed("?") + " " + printable(advice)) }
        for c in a.changes {
            // Secret values never reach the screen, sealed (a plan) or not (a dry run).
            let secret = c.path.contains(where: Redactor.isSensitiveKey)
            let shown = { (v: JSONValue) in secret && v != .null ? "(sensitive)" : Self.shown(v) }
            let path = printable(c.dotted)
            switch (c.old, c.new) {
            case (nil, let new?): lines.append("    " + paint.added("+") + " \(path): \(shown(new))")
            case (let old?, nil): lines.append("    " + paint.removed("-") + " \(path): \(shown(old))")
            case (let old?, let new?):
                // Text that reads the same on screen but is other bytes (é against e + U+0301):
                // said, or the reviewer sees a change of nothing.
                let (was, now) = (shown(old), shown(new))
                let same = was == now ? " (the same text in another Unicode normalization: its bytes change)" : ""
                lines.append("    " + paint.changed("~") + " \(path): \(was) -> \(now)\(same)")
                if !secret { lines += itemLines(old, new, shown: shown) ?? [] }  // an item's id could say too much
            default: break
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A value as a reviewer reads it: sealed secrets as `(sensitive)`; JSON escapes control
    /// characters, and what it leaves (DEL, C1 controls, bidirectional overrides) is escaped too.
    static func shown(_ value: JSONValue) -> String {
        printable(Redactor(secrets: []).redact(value).jsonString()
            .replacingOccurrences(of: #""\[sealed:v1:[A-Za-z0-9+/=]*\]""#, with: "(sensitive)", options: .regularExpression))
    }

    /// Text of the tenant's or the plan file's (a name, a field's key, an id) as it can be shown
    /// on a terminal: whatever a terminal would act on is written out as an escape.
    static func printable(_ text: String) -> String { TerminalText.escaped(text) }

    /// Long ids are cut for reading; the plan file keeps them whole.
    static func short(_ id: String) -> String { printable(id.count > 12 ? String(id.prefix(8)) + "…" : id) }

    private struct Paint {
        var on: Bool
        func code(_ c: String, _ s: String) -> String { on ? "\u{1B}[\(c)m\(s)\u{1B}[0m" : s }
        func changed(_ s: String) -> String { code("33", s) }
        func added(_ s: String) -> String { code("32", s) }
        func removed(_ s: String) -> String { code("31", s) }
        func bold(_ s: String) -> String { code("1", s) }
    }
}

extension PlannedChange {
    /// The action's block as plain text.
    public var text: String { PlanText.block(self, color: false) }
}
