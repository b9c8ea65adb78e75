/// What to add when `cxrun run` or `cxrun plan` refuses arguments meant for the script:
/// `cxrun run book.lua channel=chat` (no `--`) reads as ArgumentParser's "unexpected argument",
/// which does not say where script arguments go.
enum ScriptArgumentHint {
    /// The command line as it should have been, when `arguments` (the process's, without its
    /// name) run or plan a script, give no `--`, and pass words after the script.
    static func hint(for arguments: [String]) -> String? {
        guard let command = arguments.first, ["run", "plan"].contains(command), !arguments.contains("--") else { return nil }
        var options: [String] = [], scriptArgs: [String] = [], script: String?
        var rest = arguments.dropFirst()[...]
        while let word = rest.popFirst() {
            if word.hasPrefix("-") {
                options.append(word)
                // An option's value follows it unless given as --name=value; flags take none.
                if !word.contains("="), !flags.contains(word), let value = rest.popFirst() { options.append(value) }
            } else if script == nil {
                script = word
            } else {
                scriptArgs.append(word)
            }
        }
        guard let script, !scriptArgs.isEmpty else { return nil }
        let fixed = (["cxrun", command] + options + [script, "--"] + scriptArgs).joined(separator: " ")
        return "arguments for the script go after `--`: \(fixed)"
    }

    /// The options of run and plan that take no value (ArgumentParser does not list them for us).
    private static let flags: Set<String> = ["--dry-run", "--json", "-h", "--help", "--version"]
}
