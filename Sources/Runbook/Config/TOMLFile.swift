import Foundation
import JSONCore
import TOMLKit

/// Reads cxrun.toml as full TOML 1.0 (TOMLKit, over toml++) into a JSON value, so the rest of the
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
        if let line = TOMLHeaderGuard.badHeaderLine(in: text) {
            throw Failure(line: line, message: "a table header must name a table: [name] or [[name]]")
        }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch let error as TOMLParseError {
            throw Failure(line: error.source.begin.line, message: error.description)
        } catch {
            throw Failure(line: nil, message: "\(error)")
        }
        return json(table)
    }

    private static func json(_ table: TOMLTable) -> JSONValue {
        var fields: [String: JSONValue] = [:]
        for key in table.keys {
            if let value = table[key] { fields[key] = json(value) }
        }
        return .object(fields)
    }

    // toml++ bounds nesting (256 levels), so this recursion is bounded too.
    private static func json(_ value: TOMLValueConvertible) -> JSONValue {
        switch value.type {
        case .table: return value.table.map(json) ?? .object([:])
        case .array: return .array(value.array.map { $0.map(json) } ?? [])
        case .string: return .string(value.string ?? "")
        case .int: return .int(Int64(value.int ?? 0))
        case .double: return .double(value.double ?? 0)
        case .bool: return .bool(value.bool ?? false)
        case .date, .time, .dateTime: return .string(value.tomlValue.debugDescription)
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
