import JSONCore
import Testing

@testable import Runbook

/// cxrun's TOML 1.0 parser: what the specification's examples read as, and what it refuses.
@Suite("TOML parser")
struct TOMLParserTests {
    private func parse(_ text: String) throws(TOMLParser.Failure) -> JSONValue { try TOMLParser.parse(text) }

    @Test(arguments: [
        // Keys: bare, quoted, dotted (with blanks), empty quoted.
        ("a = 1\n\"b c\" = 2\n'd.e' = 3\nf . g = 4\n\"\" = 5", #"{"":5,"a":1,"b c":2,"d.e":3,"f":{"g":4}}"#),
        // Strings: escapes, literal, multi-line with a trimmed first newline and line-ending backslash.
        (#"s = "tab\there \"q\" \u00e9 \U0001F600""#, #"{"s":"tab\there \"q\" é 😀"}"#),
        ("s = 'C:\\path\\no escapes'", #"{"s":"C:\\path\\no escapes"}"#),
        ("s = \"\"\"\nline one\nline two\"\"\"", #"{"s":"line one\nline two"}"#),
        ("s = \"\"\"\\\n   joined \\\n   here\"\"\"", #"{"s":"joined here"}"#),
        ("s = '''\n''quoted'' '''", #"{"s":"''quoted'' "}"#),
        ("s = \"\"\"two quotes at the end\"\"\"\"\"", #"{"s":"two quotes at the end\"\""}"#),
        // Numbers.
        ("a = +99\nb = -17\nc = 0\nd = 1_000\ne = 0xDEAD_beef\nf = 0o755\ng = 0b1101", #"{"a":99,"b":-17,"c":0,"d":1000,"e":3735928559,"f":493,"g":13}"#),
        ("a = 9223372036854775807\nb = -9223372036854775808", #"{"a":9223372036854775807,"b":-9223372036854775808}"#),
        ("a = 1.5\nb = -0.01\nc = 5e+22\nd = 1e06\ne = -2E-2\nf = 6.626e-34\ng = 224_617.445_991", #"{"a":1.5,"b":-0.01,"c":5e+22,"d":1.0e6,"e":-0.02,"f":6.626e-34,"g":224617.445991}"#),
        ("t = true\nf = false", #"{"f":false,"t":true}"#),
        // Dates and times stay their text.
        ("a = 1979-05-27T07:32:00Z\nb = 1979-05-27 07:32:00.999-07:00\nc = 1979-05-27\nd = 07:32:00\ne = 2024-02-29T00:00:00",
         #"{"a":"1979-05-27T07:32:00Z","b":"1979-05-27 07:32:00.999-07:00","c":"1979-05-27","d":"07:32:00","e":"2024-02-29T00:00:00"}"#),
        // Arrays (mixed, nested, multi-line with comments and a trailing comma) and inline tables.
        ("a = [ 1, 'two', [3.5], {x = 1} ]\nb = [\n  1, # one\n  2,\n]\nc = []", #"{"a":[1,"two",[3.5],{"x":1}],"b":[1,2],"c":[]}"#),
        ("p = { name = \"ann\", pos.x = 1, pos.y = 2 }\ne = {}", #"{"e":{},"p":{"name":"ann","pos":{"x":1,"y":2}}}"#),
        // Tables, super-tables defined after, arrays of tables with sub-tables.
        ("[a.b.c]\nx = 1\n[a]\ny = 2", #"{"a":{"b":{"c":{"x":1}},"y":2}}"#),
        ("[[fruit]]\nname = 'apple'\n[fruit.physical]\ncolor = 'red'\n[[fruit.variety]]\nname = 'red delicious'\n[[fruit]]\nname = 'banana'",
         #"{"fruit":[{"name":"apple","physical":{"color":"red"},"variety":[{"name":"red delicious"}]},{"name":"banana"}]}"#),
        ("[ j . \"ʞ\" . 'l' ]  # a comment\r\nk = 1\r\n", #"{"j":{"ʞ":{"l":{"k":1}}}}"#),
    ])
    func validDocumentsRead(_ text: String, _ expected: String) throws {
        let value = try parse(text)
        let want = try JSONValue.parse(expected)
        #expect(value == want, "\(value.jsonString())")
    }

    @Test func specialFloats() throws {
        let v = try parse("a = inf\nb = -inf\nc = nan\nd = +nan")
        #expect(v["a"]?.doubleValue == .infinity && v["b"]?.doubleValue == -.infinity)
        #expect(v["c"]?.doubleValue?.isNaN == true && v["d"]?.doubleValue?.isNaN == true)
    }

    @Test(arguments: [
        ("a = 1\na = 2", 2),                       // a key defined twice
        ("[a]\n[a]", 2),                           // a table defined twice
        ("a.b = 1\n[a]", 2),                       // a dotted-key table reopened by a header
        ("a = {x = 1}\n[a]\ny = 2", 2),            // an inline table extended
        ("a = [1]\n[[a]]", 2),                     // a static array extended
        ("[[a]]\n[a]", 2),                         // an array of tables as a table
        ("a = 1\n[a.b]", 2),                       // a value used as a table
        ("a = 01", 1), ("a = 1__0", 1), ("a = _1", 1), ("a = 1_", 1), ("a = 0x", 1), ("a = +0x10", 1),
        ("a = 9223372036854775808", 1),            // out of range
        ("a = 1.", 1), ("a = .5", 1), ("a = 1e", 1), ("a = 1.e5", 1),
        ("a = 1979-02-29", 1), ("a = 1979-13-01", 1), ("a = 07:32", 1), ("a = 24:00:00", 1), ("a = 1979-05-27T", 1),
        ("a = \"unterminated\nb = 1", 1), ("a = \"\\x41\"", 1), ("a = \"\\uD800\"", 1), ("a = 'bell \u{07}'", 1),
        ("a = [1, 2", 1), ("a = [1 2]", 1), ("a = {x = 1,}", 1), ("a = {x = 1\n}", 1),
        ("a = 1 b = 2", 1), ("= 1", 1), ("a", 1), ("a =", 1), ("[a", 1), ("[[a]", 1), ("[]", 1), ("x = 1\n[a.]", 2),
        ("a = tru", 1), ("a = 1\r", 1), ("# bell \u{07}", 1),
    ])
    func invalidDocumentsNameTheLine(_ text: String, _ line: Int) {
        do throws(TOMLParser.Failure) {
            let v = try parse(text)
            Issue.record("accepted: \(v.jsonString())")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(!error.message.isEmpty)
        }
    }

    @Test func nestingIsBounded() {
        let deep = "x = " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: TOMLParser.Failure.self) { try parse(deep) }
        let inline = "x = " + String(repeating: "{a = ", count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        #expect(throws: TOMLParser.Failure.self) { try parse(inline) }
        let fine = "x = " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect((try? parse(fine)) != nil)
    }
}
