// libFuzzer target for JSONCore's parser and writer (`make fuzz`): whatever bytes come in, the
// parser returns a value or a typed error (never a crash, a hang or a stack overflow), and a
// value it returns survives writing and parsing again unchanged (as JSON: the writer writes a
// double with an integral value as an integer, `1.0` as `1`, which reads back as the same number).
import FuzzSupport
import Foundation
import JSONCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    guard let value = try? JSONValue.parse(data) else { return 0 }
    for pretty in [false, true] {
        let text = value.jsonString(pretty: pretty)
        guard let again = try? JSONValue.parse(text) else { fatalError("the writer's output does not parse: \(text)") }
        guard sameJSON(again, value) else { fatalError("a round trip changed the value: \(text)") }
    }
    return 0
}

/// Equal as JSON: numbers by value, whichever of int and double each side holds.
func sameJSON(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.int(let x), .double(let y)), (.double(let y), .int(let x)): return Double(x) == y
    case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { sameJSON($0, $1) }
    case (.object(let x), .object(let y)):
        return x.count == y.count && x.allSatisfy { key, value in y[key].map { sameJSON(value, $0) } ?? false }
    default: return a == b
    }
}

#if !FUZZING
@main enum ReplayJSON {
    static func main() { FuzzReplay.main(name: "fuzz-json", fuzzJSON) }
}
#endif
