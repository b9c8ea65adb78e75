import Foundation
@testable import JSONCore
import Testing

@Suite("JSON codec")
struct JSONCodecTests {
    @Test func parsesEveryKind() throws {
        let v = try JSONValue.parse(#" {"a": [1, -2, 3.5, 1e3, true, false, null], "s": "x\"y\\z\n\u00e9\ud83d\ude00", "o": {}} "#)
        #expect(v["a"] == [1, -2, 3.5, 1000.0, true, false, .null])
        #expect(v["s"] == "x\"y\\z\né😀")
        #expect(v["o"] == .object([:]))
        #expect(try JSONValue.parse("9223372036854775807") == .int(Int64.max))
    }

    @Test func aChangesPathReadsAsOnlyItself() {
        let before: JSONValue = ["routing": ["strategy": "weighted"]]
        let after: JSONValue = ["routing": ["strategy": "priority", "a b": 1, "": 2], "routing.strategy": "x", "_x9": 3]
        #expect(before.changes(to: after).map(\.dotted).sorted()
                == [#"["routing.strategy"]"#, "_x9", #"routing[""]"#, #"routing["a b"]"#, "routing.strategy"].sorted())
        #expect(JSONChange.dotted(["9a", "ok", "é"]) == #"["9a"].ok["é"]"#)
    }

    @Test func aKeyGivenTwiceInOneObjectIsRefusedNamingIt() throws {
        // JSON readers disagree on which of the two counts: a reviewer's could show the other.
        #expect(throws: JSONError("invalid JSON: the key \"c\" is given twice in the object that ends at byte 29")) {
            try JSONValue.parse(#"{"a": 1, "b": {"c": 2, "c": 3}}"#)
        }
        #expect(throws: JSONError.self) { try JSONValue.parse(#"[{"k\u0041": 1, "kA": 2}]"#) }
        #expect(throws: JSONError("invalid JSON: the key \"café\" is given twice (in two Unicode normalizations) in the object that ends at byte 32")) {
            try JSONValue.parse(#"{"caf\u00e9": 1, "cafe\u0301": 2}"#)
        }
        // The same key in two objects is no repeat.
        #expect(try JSONValue.parse(#"[{"a": 1}, {"a": 2, "b": {"a": 3}}]"#) == [["a": 1], ["a": 2, "b": ["a": 3]]])
    }

    @Test func refusesMalformedAndHostileInput() {
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "\"unterminated", "tru", "1 2", "{\"a\":1}}", "\"\u{01}\"", "1e999"] {
            #expect(throws: JSONError.self, "\(bad)") { try JSONValue.parse(bad) }
        }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONError.self) { try JSONValue.parse(deep) }
    }

    @Test func writesSortedEscapedAndRoundTrips() throws {
        let v: JSONValue = ["b": [1, 2.5, "q\"\n\u{01}"], "a": .null, "c": ["z": true]]
        #expect(v.jsonString() == #"{"a":null,"b":[1,2.5,"q\"\n\u0001"],"c":{"z":true}}"#)
        #expect(try JSONValue.parse(v.jsonString()) == v)
        #expect(try JSONValue.parse(v.jsonString(pretty: true)) == v)
        #expect(throws: JSONError.self) { try JSONValue.double(.nan).jsonData() }
        #expect(JSONValue.double(.infinity).jsonString() == "null")
    }

    /// Integers are written digit by digit (and whole doubles as integers): every width and sign,
    /// the extremes included, as `String` writes them; keys in order at every level and size.
    @Test func integersAndKeyOrderAreWrittenAsBefore() throws {
        var samples: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, 12_345, -987_654_321, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]
        var power: Int64 = 1
        for _ in 0..<18 {
            power *= 10
            samples += [power, power - 1, -power, -(power - 1)]
        }
        for n in samples {
            #expect(JSONValue.int(n).jsonString() == String(n))
            #expect(try JSONValue.parse(JSONValue.int(n).jsonString()) == .int(n))
        }
        #expect(JSONValue.double(2).jsonString() == "2")
        #expect(JSONValue.double(-0.0).jsonString() == "0")
        #expect(JSONValue.double(-123_456_789_012_345).jsonString() == "-123456789012345")
        let keys = (0..<40).map { "k\($0 * 7 % 40)" }
        let object = JSONValue.object(Dictionary(uniqueKeysWithValues: keys.map { ($0, JSONValue.object(["b": 1, "a": .int(Int64($0.count))])) }))
        let expected = "{" + keys.sorted().map { #""\#($0)":{"a":\#($0.count),"b":1}"# }.joined(separator: ",") + "}"
        #expect(object.jsonString() == expected)
        #expect(JSONValue.object([:]).jsonString() == "{}")
    }

    /// Numbers read by the fast path (up to 18 digits, summed) are what reading their text gives:
    /// every width, sign, fraction, exponent and malformed run, inside arrays too.
    @Test func numbersReadAsTheirText() throws {
        func fromText(_ text: String) -> JSONValue? {
            let integral = !text.contains(where: { ".eE+".contains($0) }) && !text.dropFirst().contains("-")
            if integral, let n = Int64(text) { return .int(n) }
            guard let d = Double(text), d.isFinite else { return nil }
            return .double(d)
        }
        var texts = ["0", "-0", "7", "-7", "007", "10", "1.5", "-2.25", "1e3", "1E-2", "2.5e+10", "1-2", "-", "+1", "1.", "1e", "--1",
                     "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809", "123456789012345678901234"]
        var digits = ""
        for d in 1...20 {
            digits += String(d % 10)
            texts += [digits, "-" + digits, digits + ".5", digits + "e2"]
        }
        for text in texts {
            #expect((try? JSONValue.parse(text)) == fromText(text), "\(text)")
            #expect((try? JSONValue.parse("[\(text), 1]")) == fromText(text).map { [$0, 1] }, "[\(text), 1]")
        }
    }

    /// Strings with nothing to escape are copied whole; any that need it are escaped byte by byte.
    @Test func stringsAreEscapedExactlyWhenTheyMustBe() throws {
        let value: JSONValue = ["plain": "ünïcødé ✓ and ASCII", "quote": "a\"b", "slash": "a\\b", "ctl": "a\u{01}b\nc\td\re",
                                "keys \"quoted\"": "x", "": ""]
        let text = value.jsonString()
        #expect(text == #"{"":"","ctl":"a\u0001b\nc\td\re","keys \"quoted\"":"x","plain":"ünïcødé ✓ and ASCII","quote":"a\"b","slash":"a\\b"}"#)
        #expect(try JSONValue.parse(Data(text.utf8)) == value)
    }

    /// A rebuild that changes nothing copies nothing and says so; one that does changes only its items.
    @Test func aRebuildThatChangesNothingReturnsNil() {
        let fields: [String: JSONValue] = ["a": 1, "b": "x", "c": [1, 2]]
        #expect(JSONValue.rebuilt(fields) { _, _ in nil } == nil)
        #expect(JSONValue.rebuilt(fields) { key, _ in key == "b" ? "y" : nil } == ["a": 1, "b": "y", "c": [1, 2]])
        #expect(JSONValue.rebuilt([1, 2, 3]) { $0 == 2 ? 20 : nil } == [1, 20, 3])
        #expect(JSONValue.rebuilt([1, 2, 3]) { _ in nil } == nil)
    }

    @Test func aNumberJSONCannotHoldIsNamedByItsPath() {
        let value: JSONValue = ["sla": ["levels": [1, 2, ["t": .double(-.infinity)]]], "ok": 1]
        #expect(throws: JSONError("cannot encode -inf as JSON").within("t").within("[3]").within("levels").within("sla")) { try value.jsonData() }
        do { _ = try value.jsonData() } catch { #expect(error.description == "cannot encode -inf as JSON at sla.levels[3].t") }
        do { _ = try JSONValue.array([.double(.nan)]).jsonData() } catch { #expect(error.description == "cannot encode nan as JSON at [1]") }
    }

    /// Found by `make fuzz`: a high surrogate escape followed by an escape that is not a low
    /// surrogate crashed the parser (an overflow); halves of a pair alone are refused.
    @Test func unpairedSurrogateEscapesAreRefusedNotACrash() throws {
        for text in [#""\ud83d\u00de""#, #""\ud83d""#, #""\ud83dx""#, #""\ude00""#, #""\ud83d\ud83d""#] {
            #expect(throws: JSONError.self, "\(text)") { try JSONValue.parse(text) }
        }
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == "\u{1F600}")
    }
    /// Invalid UTF-8 in a string is refused, not repaired: a document read with U+FFFD in place
    /// of its bytes would be written back changed in a field nobody edited.
    @Test func invalidUTF8IsRefusedNotRepaired() throws {
        let bad: [[UInt8]] = [[0xFF], [0xC0, 0x80], [0xE2, 0x82], [0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]]
        for bytes in bad {
            for (before, after) in [("", ""), ("a\\n", ""), ("", "\\t")] {  // the plain path, and the one with escapes
                let text = Array("{\"k\":\"x\(before)".utf8) + bytes + Array("\(after)y\"}".utf8)
                do {
                    _ = try JSONValue.parse(Data(text))
                    Issue.record("accepted \(bytes) \(before)\(after)")
                } catch {
                    #expect(error.message == "invalid JSON: invalid UTF-8 in the string at byte 6", "\(error)")
                }
            }
            #expect(throws: JSONError.self) { try JSONValue.parse(Data(Array("{\"".utf8) + bytes + Array("\":1}".utf8))) }
        }
        let good = Array("[\"é\", \"\u{1F600}\\n\", \"日本\"]".utf8)
        #expect(try JSONValue.parse(Data(good)) == ["é", "\u{1F600}\n", "日本"])
    }

    /// How a write's answer is compared with what was sent: numbers by value, a missing field as null.
    @Test func theSameValueComparesNumbersByValue() {
        #expect(JSONValue.int(30).isSame(as: .double(30)))
        #expect(JSONValue.array([.double(1), ["a": .int(2)]]).isSame(as: [.int(1), ["a": .double(2), "b": .null]]))
        #expect(JSONValue.null.isSame(as: nil))
        #expect(!JSONValue.int(30).isSame(as: .double(30.5)))
        #expect(!JSONValue.int(1).isSame(as: .string("1")))
        #expect(!JSONValue.array([1, 2]).isSame(as: [2, 1]))
        #expect(!JSONValue.object(["a": 1]).isSame(as: nil))
        // Exact: the double nearest 2^53 + 1 is 2^53, another number than the integer.
        #expect(!JSONValue.int(9_007_199_254_740_993).isSame(as: .double(9_007_199_254_740_992)))
    }

    /// A Lua float for the server's integer is no change: a deploy of it would bump the version,
    /// and a plan would show `300 -> 300` for a reviewer to puzzle over.
    @Test func aNumberGivenAsAFloatOfTheSameValueIsNoChange() {
        let fetched: JSONValue = ["maxWaitTime": 300, "wait": 0, "list": [1, 2], "big": .int(9_007_199_254_740_993)]
        let built: JSONValue = ["maxWaitTime": .double(300), "wait": .double(-0.0), "list": [.double(1), 2], "big": .int(9_007_199_254_740_993)]
        #expect(fetched.changes(to: built).isEmpty)
        let changed: JSONValue = ["maxWaitTime": .double(300.5), "wait": 0, "list": [1, 2], "big": .double(9_007_199_254_740_992)]
        #expect(fetched.changes(to: changed).map(\.dotted) == ["big", "maxWaitTime"])
        // A field set to null is still another thing than a field left out.
        #expect(JSONValue.object(["a": 1]).changes(to: ["a": 1, "b": .null]).map(\.dotted) == ["b"])
        #expect(!JSONValue.object(["a": 1]).equalsByValue(["a": 1, "b": .null]))
    }

    /// Strings compare by their bytes, as the tenant and Lua hold them: a name changed from "é"
    /// to "e" + U+0301 is a change (Swift's own `==` takes the two for one string).
    @Test func stringsAreEqualOnlyWhenTheirBytesAre() {
        let composed = JSONValue.string("Caf\u{E9}"), decomposed = JSONValue.string("Cafe\u{301}")
        #expect(composed != decomposed)
        #expect(!composed.isSame(as: decomposed) && !composed.equalsByValue(decomposed))
        #expect(JSONValue.object(["name": composed]).changes(to: ["name": decomposed]).map(\.dotted) == ["name"])
        #expect(JSONValue.array([composed]) == [.string("Caf\u{E9}")])
    }
}

