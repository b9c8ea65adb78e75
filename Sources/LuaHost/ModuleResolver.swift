import Foundation

/// Finds `require`d modules: the stdlib folder first, then the runbook's own folder.
/// Names are dotted (`cx.validate`); paths, `..` and anything outside the roots are refused.
public struct ModuleResolver: Sendable {
    /// A root folder and how its files are named in error messages and tracebacks.
    public struct Root: Sendable {
        public var path: String
        public var display: String
        public var isStdlib: Bool
        public init(path: String, display: String, isStdlib: Bool) {
            self.path = path
            self.display = display
            self.isStdlib = isStdlib
        }
    }

    /// A module's source, ready to load.
    public struct Module: Sendable, Equatable {
        public var source: String
        public var chunkName: String
        public var isStdlib: Bool
    }

    public var roots: [Root]
    /// Largest source file that loads, module or script.
    public static let defaultMaxBytes = 8 << 20
    /// Largest module file that loads.
    public var maxBytes = defaultMaxBytes

    public init(stdlib: String?, scriptDirectory: String?, scriptDirectoryDisplay: String? = nil) {
        var roots: [Root] = []
        if let stdlib { roots.append(Root(path: stdlib, display: "stdlib", isStdlib: true)) }
        if let scriptDirectory {
            roots.append(Root(path: scriptDirectory, display: scriptDirectoryDisplay ?? scriptDirectory, isStdlib: false))
        }
        self.roots = roots
    }

    /// Resolves `name` or explains, in one line, why it cannot be loaded.
    public func resolve(_ name: String) -> Result<Module, ModuleError> {
        guard Self.isValidName(name) else { return .failure(.invalidName(name)) }
        let relative = name.split(separator: ".").joined(separator: "/") + ".lua"
        var searched: [String] = []
        for root in roots {
            let candidate = (root.path as NSString).appendingPathComponent(relative)
            searched.append(root.display == "." ? relative : "\(root.display)/\(relative)")
            guard FileManager.default.fileExists(atPath: candidate) else { continue }
            // The real path must stay below the real root: a symlink cannot lead out.
            let realRoot = URL(fileURLWithPath: root.path).resolvingSymlinksInPath().path
            let realFile = URL(fileURLWithPath: candidate).resolvingSymlinksInPath().path
            guard realFile.hasPrefix(realRoot.hasSuffix("/") ? realRoot : realRoot + "/") else {
                return .failure(.outsideRoot(name))
            }
            // The size before the read: a huge file is refused without being read into memory.
            let attributes = try? FileManager.default.attributesOfItem(atPath: realFile)
            guard attributes?[.type] as? FileAttributeType == .typeRegular, let size = attributes?[.size] as? Int else {
                return .failure(.unreadable(name, candidate))
            }
            guard size <= maxBytes else { return .failure(.tooLarge(name, size)) }
            guard let data = FileManager.default.contents(atPath: realFile) else {
                return .failure(.unreadable(name, candidate))
            }
            guard data.count <= maxBytes else { return .failure(.tooLarge(name, data.count)) }
            let display = root.display == "." ? relative : "\(root.display)/\(relative)"
            switch SourceText.decode(data) {
            case .success(let source): return .success(Module(source: SourceText.compilable(source), chunkName: "@\(display)", isStdlib: root.isStdlib))
            case .failure(let notUTF8): return .failure(.notUTF8(name, notUTF8))
            }
        }
        return .failure(.notFound(name, searched))
    }

    static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 200 else { return false }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.allSatisfy { part in
            !part.isEmpty && part.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
            }
        }
    }
}

/// Why a module cannot be loaded.
public enum ModuleError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidName(String)
    case notFound(String, [String])
    case outsideRoot(String)
    case unreadable(String, String)
    case tooLarge(String, Int)
    case notUTF8(String, SourceText.NotUTF8)

    public var description: String {
        switch self {
        case .invalidName(let n):
            return "require: invalid module name '\(n)' (use dotted names like 'cx.validate' or 'lib.helpers'; paths and '..' are not allowed)"
        case .notFound(let n, let searched):
            return "module '\(n)' not found; looked for: \(searched.joined(separator: ", ")) (io, os, debug and C modules are not available in the sandbox)"
        case .outsideRoot(let n):
            return "require: module '\(n)' resolves outside the stdlib and runbook folders"
        case .unreadable(let n, let p):
            return "require: module '\(n)' could not be read (\(p))"
        case .tooLarge(let n, let size):
            return "require: module '\(n)' is too large (\(size) bytes)"
        case .notUTF8(let n, let why):
            return "require: module '\(n)' \(why)"
        }
    }
}
