import Foundation

/// Why bytes are not JSON, or a value cannot be written as JSON.
public struct JSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// Where in the value being written the problem is (`sla.levels[2]`); empty when unknown.
    public var path = ""
    public init(_ message: String) { self.message = message }
    public var description: String { path.isEmpty ? message : "\(message) at \(path)" }

    /// The same error, one level further out.
    func within(_ component: String) -> JSONError {
        var outer = self
        outer.path = path.isEmpty || path.hasPrefix("[") ? component + path : component + "." + path
        return outer
    }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

extension JSONValue {
    /// Parses JSON text; any top-level value is accepted.
    public static func parse(_ data: Data) throws(JSONError) -> JSONValue {
        try data.withUnsafeBytes { raw in Result { () throws(JSONError) in try parse(bytes: raw) } }.get()
    }

    /// Parses JSON text from bytes in memory (no copy into `Data`).
    public static func parse(bytes: UnsafeRawBufferPointer) throws(JSONError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes.bindMemory(to: UInt8.self))
        } catch {
            throw JSONError("invalid JSON: \(error.description)")
        }
    }

    /// Parses JSON text from a string.
    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        try parse(Data(text.utf8))
    }

    /// JSON bytes with sorted keys (deterministic output for logs, diffs and hashes).
    public func jsonData(pretty: Bool = false) throws(JSONError) -> Data {
        Data(try jsonBytes(pretty: pretty))
    }

    /// JSON text with sorted keys; non-finite numbers are written as null rather than failing.
    public func jsonString(pretty: Bool = false) -> String {
        let bytes = (try? jsonBytes(pretty: pretty)) ?? (try? replacingNonFinite().jsonBytes(pretty: pretty)) ?? Array("null".utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// JSON bytes with sorted keys, as `jsonData` (no detour through Data).
    public func jsonBytes(pretty: Bool = false) throws(JSONError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try JSONParser.write(self, into: &out, pretty: pretty)
        return out
    }

    private func replacingNonFinite() -> JSONValue {
        switch self {
        case .double(let d) where !d.isFinite: return .null
        case .array(let a): return .array(a.map { $0.replacingNonFinite() })
        case .object(let o): return .object(o.mapValues { $0.replacingNonFinite() })
        default: return self
        }
    }

    private static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): return context.debugDescription
        case DecodingError.typeMismatch(_, let context): return context.debugDescription
        case EncodingError.invalidValue(_, let context): return context.debugDescription
        default: return "\(error)"
        }
    }
}
