import Foundation
import JSONCore
import LuaHost

/// Reads cxrun.toml as TOML 1.0 (TOMLParser) into a JSON value, so the rest of the
/// configuration code reads one value type. Dates and times become their TOML text.
enum TOMLFile {
    struct Failure: Error, Equatable {
        /// 1-based line of the problem, when the parser knows it.
        var line: Int?
        var message: String
    }

    static func parse(_ data: Data) throws(Failure) -> JSONValue {
        guard let text = String(validating: data, as: UTF8.self) else {
            throw Failure(line: line(ofFirstInvalidUTF8In: data), message: "is not valid UTF-8")
        }
        // A UTF-8 byte-order mark (Notepad writes one) is not the document's: skipped, as TOML
        // parsers generally do. It was "expected a key, found byte 0xEF" at line 1.
        do {
            return try TOMLParser.parse(SourceText.withoutByteOrderMark(text))
        } catch {
            throw Failure(line: error.line, message: error.message)
        }
    }

    private static func line(ofFirstInvalidUTF8In data: Data) -> Int? {
        var line = 1
        var start = data.startIndex
        for (i, byte) in zip(data.indices, data) where byte == UInt8(ascii: "\n") {
            if String(validating: data[start..<i], as: UTF8.self) == nil { return line }
            line += 1
            start = data.index(after: i)
        }
        return line
    }
}
