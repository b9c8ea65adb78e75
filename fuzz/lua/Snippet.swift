// Decodes fuzz input into a runbook snippet: a fixed prelude that gathers every function a script
// can reach, then one statement per line built from the input's bytes.
import Foundation

enum Snippet {
    /// The input, read a byte at a time (zeros past the end).
    struct Input {
        var bytes: [UInt8]
        var at = 0
        var atEnd: Bool { at >= bytes.count }
        mutating func byte() -> UInt8 {
            defer { at += 1 }
            return at < bytes.count ? bytes[at] : 0
        }
    }

    /// F: every function reachable from the bindings and `cx` (sorted, so an index names the
    /// same one every time); Q: the tenant's queues; V: results kept for later statements.
    static let prelude = """
        local F, seen = {}, {}
        local function gather(prefix, t, depth)
          local names = {}
          for k in pairs(t) do if type(k) == "string" then names[#names + 1] = k end end
          table.sort(names)
          for _, k in ipairs(names) do
            local v = t[k]
            if type(v) == "function" then F[#F + 1] = v
            elseif type(v) == "table" and depth < 3 and not seen[v] then seen[v] = true gather(prefix .. k .. ".", v, depth + 1) end
          end
        end
        for _, name in ipairs({"fetch", "deploy", "patch", "rollback", "build", "validate", "agent_status", "reassign", "webhook",
                               "queues", "skills", "agents", "agent", "analytics"}) do
          if type(_ENV[name]) == "function" then F[#F + 1] = _ENV[name] end
        end
        gather("cx.", cx, 1)
        local okq, Q = pcall(queues)
        if not okq or type(Q) ~= "table" then Q = {} end
        local function qid(k) local q = Q[k % math.max(#Q, 1) + 1] return q and q.id or "no-such-queue" end
        local AG
        local function aid(k)
          if not AG then local oka, a = pcall(agents, {queue = qid(0)}) AG = oka and type(a) == "table" and a or {} end
          local x = AG[k % math.max(#AG, 1) + 1]
          return x and x.id or "no-such-agent"
        end
        local V = {}
        local function f(k) return F[k % #F + 1] end
        local function cyclic() local t = {a = 1} t.self = t return t end
        local function hostile()
          return setmetatable({1, 2}, {__index = function() error("index") end, __len = function() error("len") end,
                                       __pairs = function() error("pairs") end, __tostring = function() error("tostring") end})
        end

        """

    /// The whole snippet: the prelude, then up to 16 statements, one per line.
    static func make(_ input: inout Input) -> String {
        var lines: [String] = []
        while !input.atEnd && lines.count < 16 { lines.append(statement(&input)) }
        return prelude + lines.joined(separator: "\n") + "\n"
    }

    static func statement(_ input: inout Input) -> String {
        let fn = Int(input.byte())
        switch input.byte() % 6 {
        case 0: return "pcall(f(\(fn))\(arguments(&input)))"
        case 1: return "f(\(fn))(\(arguments(&input).dropFirst(2)))"
        case 2:
            return "cx.each({\(value(&input, depth: 1)), \(value(&input, depth: 1)), qid(\(input.byte()))}, function(x) pcall(f(\(fn)), x\(arguments(&input))) end, {concurrency = \(input.byte() % 5)})"
        case 3: return "do local ok, r = pcall(f(\(fn))\(arguments(&input))) V[#V + 1] = r end"
        case 4:
            return "do local t = V[\(input.byte() % 8 + 1)] if type(t) == \"table\" then t[\(key(&input))] = \(value(&input, depth: 1)) end end"
        default: return "pcall(f(\(fn)), V[\(input.byte() % 8 + 1)]\(arguments(&input)))"
        }
    }

    /// ", a, b, c": zero to four arguments.
    static func arguments(_ input: inout Input) -> String {
        let n = Int(input.byte() % 5)
        return (0..<n).map { _ in ", " + value(&input, depth: 0) }.joined()
    }

    static func key(_ input: inout Input) -> String {
        let keys = ["\"maxWaitTime\"", "\"version\"", "\"id\"", "\"skills\"", "\"routing\"", "\"overflow\"", "\"name\"", "1", "2", "\"\\xff\"", "0.5"]
        return keys[Int(input.byte()) % keys.count]
    }

    /// One value expression; tables nest at most three deep.
    static func value(_ input: inout Input, depth: Int) -> String {
        let b = input.byte()
        switch b % 28 {
        case 0: return "nil"
        case 1: return "true"
        case 2: return "false"
        case 3: return String(Int8(bitPattern: input.byte()))
        case 4: return "math.maxinteger"
        case 5: return "math.mininteger"
        case 6: return "0/0"
        case 7: return "1/0"
        case 8: return "-1/0"
        case 9: return "-0.0"
        case 10: return "1e308"
        case 11: return "\(Double(input.byte()) / 7)"
        case 12:
            let n = Int(input.byte() % 12)
            return "\"" + (0..<n).map { _ in String(format: "\\x%02x", input.byte()) }.joined() + "\""
        case 13: return "string.rep(\"x\", \(1 << Int(input.byte() % 21)))"
        case 14, 15: return "qid(\(input.byte()))"
        case 16: return "aid(\(input.byte()))"
        case 17: return "\"\""
        case 18: return "cx.null"
        case 19: return "{}"
        case 20, 21:
            guard depth < 3 else { return "{}" }
            let a = value(&input, depth: depth + 1), b = value(&input, depth: depth + 1), k = key(&input), c = value(&input, depth: depth + 1)
            return "{\(a), \(b), [\(k)] = \(c)}"
        case 22: return "cyclic()"
        case 23: return "hostile()"
        case 24: return "function() error(\"boom\") end"
        case 25: return "coroutine.create(function() end)"
        case 26: return "V[\(input.byte() % 8 + 1)]"
        default:
            let names = ["\"routing\"", "\"sla\"", "\"skills\"", "\"capacity\"", "{rules = {\"overflow\"}}", "\"ready\"", "\"available\""]
            return names[Int(input.byte()) % names.count]
        }
    }
}
