/// One read or write of a global name in a script, and the line it is on.
public struct GlobalAccess: Sendable, Equatable {
    public var name: String
    public var line: Int
    public var isWrite: Bool
    /// A read that calls the global with a string literal first (`webhook("wfm", …)`): that string.
    public var literalArgument: String?
    /// A read indexed at once by a constant name (`cx.each`): that name.
    public var field: String?

    public init(name: String, line: Int, isWrite: Bool, literalArgument: String? = nil, field: String? = nil) {
        self.name = name
        self.line = line
        self.isWrite = isWrite
        self.literalArgument = literalArgument
        self.field = field
    }
}

/// The global names a script reads and writes, found without running it: the compiled chunk is
/// dumped (`lua_dump`, debug information kept) and its instructions read. Lua's C API has no
/// walk over a function's code, and luac is no dependency of an installed cxrun, so the Lua 5.4
/// binary chunk format (lundump.c) is read here: the header, each function's code, constants,
/// upvalues, nested functions and line information. A global is an `_ENV` upvalue indexed by a
/// constant string: GETTABUP (read) and SETTABUP (write).
public enum GlobalAccesses {
    /// The accesses in `source`, in code order per function; nil when it does not compile (the
    /// syntax check reports that) or its chunk is not in the 5.4 format read here.
    public static func of(source: String, chunkName: String) -> [GlobalAccess]? {
        (try? ScriptChecker.compile(source: source, chunkName: chunkName).get()) ?? nil
    }

    /// The accesses of the function `vm` compiled (on top of its stack).
    static func read(_ vm: LuaVM) -> [GlobalAccess]? {
        guard let chunk = vm.dumpTop() else { return nil }
        var reader = ChunkReader(chunk)
        return try? reader.accesses()
    }
}

/// A reader of one Lua 5.4 binary chunk (the layout of ldump.c).
struct ChunkReader {
    struct Malformed: Error {}

    private let bytes: [UInt8]
    private var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    // Instruction fields (lopcodes.h, iABC): op 7 bits, A 8, k 1, B 8, C 8.
    private static let opGetTabUp: UInt32 = 11, opGetField: UInt32 = 14, opSetTabUp: UInt32 = 15
    // iABx: op 7 bits, A 8, Bx 17.
    private static let opLoadK: UInt32 = 3, opCall: UInt32 = 68, opTailCall: UInt32 = 69

    mutating func accesses() throws -> [GlobalAccess] {
        try header()
        _ = try byte()  // the main function's upvalue count
        var out: [GlobalAccess] = []
        try function(into: &out)
        return out
    }

    private mutating func header() throws {
        // "\x1bLua", version 5.4, format 0, LUAC_DATA, then the sizes of an instruction, an
        // integer and a number, and the two check values: a chunk this reader was not made for
        // is refused, not misread.
        let expected: [UInt8] = [0x1B, 0x4C, 0x75, 0x61, 0x54, 0x00, 0x19, 0x93, 0x0D, 0x0A, 0x1A, 0x0A, 4, 8, 8]
        guard bytes.count >= expected.count + 16, Array(bytes[0..<expected.count]) == expected else { throw Malformed() }
        at = expected.count + 16
    }

    private mutating func function(into out: inout [GlobalAccess]) throws {
        _ = try string()  // source
        let lineDefined = try size()
        _ = try size()  // last line defined
        at += 3  // parameters, vararg, stack size
        let code = try (0..<count()).map { _ in try instruction() }
        var strings: [Int: String] = [:]
        for index in 0..<(try count()) {
            switch try byte() {
            case 3, 19: at += 8  // integer, float
            case 4, 20: strings[index] = try string()  // short and long strings
            case 0, 1, 17: break  // nil, false, true
            default: throw Malformed()
            }
        }
        let upvalues = try count()
        at += upvalues * 3  // in stack, index, kind
        var nested: [GlobalAccess] = []
        for _ in 0..<(try count()) { try function(into: &nested) }
        let lineInfo = try (0..<count()).map { _ in Int(Int8(bitPattern: try byte())) }
        let absolute = try (0..<count()).map { _ in (pc: try size(), line: try size()) }
        for _ in 0..<(try count()) {  // local variables
            _ = try string()
            _ = try size()
            _ = try size()
        }
        let upvalueNames = try (0..<count()).map { _ in try string() }
        let env = upvalueNames.firstIndex { $0 == "_ENV" }
        // Each instruction's line (ldebug.c's luaG_getfuncline), in one pass: an absolute line
        // where the chunk keeps one, else the previous line plus its relative step.
        var line = lineDefined, nextAbsolute = 0
        for (pc, i) in code.enumerated() {
            if nextAbsolute < absolute.count, absolute[nextAbsolute].pc == pc {
                line = absolute[nextAbsolute].line
                nextAbsolute += 1
            } else if pc < lineInfo.count {
                line += lineInfo[pc]
            }
            let op = i & 0x7F, a = Int((i >> 7) & 0xFF), b = Int((i >> 16) & 0xFF), c = Int((i >> 24) & 0xFF)
            if op == Self.opGetTabUp, b == env, let name = strings[c] {
                out.append(GlobalAccess(name: name, line: line, isWrite: false, literalArgument: Self.literalArgument(code, at: pc, strings),
                                        field: Self.field(code, at: pc, strings)))
            } else if op == Self.opSetTabUp, a == env, let name = strings[b] {
                out.append(GlobalAccess(name: name, line: line, isWrite: true))
            }
        }
        out += nested
    }

    /// The string constant a global read at `pc` is called with first: the read into register A,
    /// the constant loaded into A+1 next, and the first call at or below A calling A itself
    /// (`print(webhook, "x")` loads the same way, but the call is print's, at a lower register).
    /// Anything in between naming A+1 (`webhook("a" .. b)` concatenates there) may change the
    /// argument: then it is not taken for a literal.
    private static func literalArgument(_ code: [UInt32], at pc: Int, _ strings: [Int: String]) -> String? {
        guard pc + 1 < code.count else { return nil }
        let register = (code[pc] >> 7) & 0xFF, load = code[pc + 1]
        guard load & 0x7F == opLoadK, (load >> 7) & 0xFF == register + 1, let literal = strings[Int(load >> 15)] else { return nil }
        for i in code[(pc + 2)...] {
            let a = (i >> 7) & 0xFF
            if [opCall, opTailCall].contains(i & 0x7F), a <= register { return a == register ? literal : nil }
            if a == register + 1 { return nil }
        }
        return nil
    }

    /// The constant name the global read at `pc` is indexed with by the next instruction
    /// (GETFIELD from the register it was read into), if it is.
    private static func field(_ code: [UInt32], at pc: Int, _ strings: [Int: String]) -> String? {
        guard pc + 1 < code.count else { return nil }
        let next = code[pc + 1]
        guard next & 0x7F == opGetField, (next >> 16) & 0xFF == (code[pc] >> 7) & 0xFF else { return nil }
        return strings[Int((next >> 24) & 0xFF)]
    }

    private mutating func byte() throws -> UInt8 {
        guard at < bytes.count else { throw Malformed() }
        defer { at += 1 }
        return bytes[at]
    }

    private mutating func instruction() throws -> UInt32 {
        guard at + 4 <= bytes.count else { throw Malformed() }
        defer { at += 4 }
        return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }

    /// ldump.c's dumpSize: 7 bits a byte, most significant first, the last byte marked 0x80.
    private mutating func size() throws -> Int {
        var value = 0
        while true {
            let b = try byte()
            guard value < Int.max >> 7 else { throw Malformed() }
            value = value << 7 | Int(b & 0x7F)
            if b & 0x80 != 0 { return value }
        }
    }

    /// How many items follow: each takes a byte at least, so more than the bytes left is malformed
    /// (and no array is sized by a number the chunk did not earn).
    private mutating func count() throws -> Int {
        let n = try size()
        guard n <= bytes.count - at else { throw Malformed() }
        return n
    }

    /// A string: its length plus one (0 for none), then its bytes.
    private mutating func string() throws -> String? {
        let n = try size()
        guard n > 0 else { return nil }
        guard at + n - 1 <= bytes.count else { throw Malformed() }
        defer { at += n - 1 }
        return String(decoding: bytes[at..<at + n - 1], as: UTF8.self)
    }
}
