/// Script and module sources as text. Lua reads bytes, but a source that is not UTF-8 was saved
/// in another encoding (Latin-1 `é` is the byte 0xE9): decoding it with repair would turn that
/// byte into U+FFFD and deploy the replacement character as if written. It is refused instead.
public enum SourceText {
    /// Where the first byte that is not UTF-8 is.
    public struct NotUTF8: Error, Equatable, CustomStringConvertible {
        public var byte: UInt8
        public var line: Int
        public var column: Int

        public var description: String {
            "is not UTF-8 text: byte 0x\(String(byte, radix: 16, uppercase: true)) at line \(line), column \(column) (save it as UTF-8)"
        }
    }

    /// `source` as Lua compiles a file (lauxlib's skipcomment): a UTF-8 byte-order mark dropped
    /// (editors on Windows write one; it was "unexpected symbol near '<\239>'"), then a first line
    /// starting with `#` (`#!/usr/bin/env cxrun run`) blanked, as the `lua` interpreter skips it;
    /// its newline stays, so every line keeps its number.
    public static func compilable(_ source: String) -> String {
        let source = withoutByteOrderMark(source)
        guard source.utf8.first == UInt8(ascii: "#") else { return source }
        guard let newline = source.utf8.firstIndex(of: UInt8(ascii: "\n")) else { return "" }
        return String(decoding: source.utf8[newline...], as: UTF8.self)
    }

    /// `text` without a leading UTF-8 byte-order mark, which is no part of a file's content.
    public static func withoutByteOrderMark(_ text: String) -> String {
        text.unicodeScalars.first == "\u{FEFF}" ? String(text.unicodeScalars.dropFirst()) : text
    }

    /// The bytes as a string, or where they stop being UTF-8.
    public static func decode(_ bytes: some Collection<UInt8>) -> Result<String, NotUTF8> {
        if let text = String(validating: bytes, as: UTF8.self) { return .success(text) }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0, line = 1, column = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar):
                offset += scalar.count
                if scalar.count == 1 && scalar.first == UInt8(ascii: "\n") { (line, column) = (line + 1, 1) } else { column += 1 }
            case .error:
                return .failure(NotUTF8(byte: bytes.dropFirst(offset).first ?? 0, line: line, column: column))
            case .emptyInput:
                return .failure(NotUTF8(byte: 0, line: line, column: column))  // not reached: validation failed above
            }
        }
    }
}
