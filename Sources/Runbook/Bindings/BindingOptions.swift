import JSONCore
import LuaHost

/// The options (or filter) table a binding takes, checked before the binding does anything: a key
/// it does not know, or a value of the wrong kind, fails at the script's line naming what it
/// knows. Read leniently, `queues({chanel = "voice"})` was no filter at all, and a script meant
/// for the voice queues went on to act on every queue.
struct BindingOptions {
    /// What a key's value must be.
    enum Kind: String {
        case string = "a string"
        case boolean = "a boolean"
        case strings = "a list of strings"

        func admits(_ value: JSONValue) -> Bool {
            switch self {
            case .string: return value.stringValue != nil
            case .boolean: return value.boolValue != nil
            case .strings:
                if case .object(let fields) = value { return fields.isEmpty }  // an empty table
                return value.arrayValue?.allSatisfy { $0.stringValue != nil } ?? false
            }
        }
    }

    /// The binding, as the script calls it (`queues`).
    let binding: String
    /// What the table is (`filter`, `opts`).
    let name: String
    let known: [String: Kind]
    /// The values a string key accepts, when they are known (compared ignoring case: the API's
    /// filters do); any other is refused with the closest. A misspelt `status` matched nothing, and
    /// a script went on with no agent at all.
    var values: [String: [String]] = [:]

    /// Argument `index` of `call`: nil and `{}` are no options (`.object([:])`).
    func read(_ call: LuaCall, _ index: Int32) throws(ScriptError) -> JSONValue {
        let value = try call.value(index, name: name)
        let fields: [String: JSONValue]
        switch value {
        case .null: return .object([:])
        case .object(let f): fields = f
        case .array(let items) where items.isEmpty: return .object([:])
        default:
            let got = value.arrayValue != nil ? "a list" : call.typeName(index)
            throw .message("bad argument #\(index) to '\(binding)' (table of \(name) keys expected, got \(got)); \(listing)")
        }
        for key in fields.keys.sorted() {
            guard let kind = known[key] else {
                let near = NearestName.nearest(to: key, in: known.keys).map { " (did you mean \($0)?)" } ?? ""
                throw .message("\(binding): unknown \(name == "opts" ? "option" : name + " key") '\(key)'\(near); \(listing)")
            }
            guard let v = fields[key], kind.admits(v) else {
                throw .message("\(binding): \(name).\(key) must be \(kind.rawValue), got \(fields[key]?.typeName ?? "nil")")
            }
            if let allowed = values[key], !allowed.isEmpty, let given = v.stringValue,
                !allowed.contains(where: { $0.caseInsensitiveCompare(given) == .orderedSame })
            {
                let near = NearestName.nearest(to: given, in: allowed).map { " (did you mean \($0)?)" } ?? ""
                throw .message("\(binding): \(name).\(key) '\(given)' is not one of \(allowed.joined(separator: ", "))\(near)")
            }
        }
        return .object(fields)
    }

    /// "known: channel, ids, name", or that it takes none.
    private var listing: String {
        known.isEmpty ? "\(binding) takes no \(name == "opts" ? "options" : name)" : "known: " + known.keys.sorted().joined(separator: ", ")
    }
}
