import Foundation

/// Finds the Lua standard library: `$CXRUN_STDLIB`, the install layout, or the checkout.
enum StdlibLocator {
    static func locate() -> String? {
        if let path = getenv("CXRUN_STDLIB").map({ String(cString: $0) }), !path.isEmpty { return path }
        // The kernel's link to the running executable (symlinks resolved), not Bundle.main: making
        // the main bundle lists the executable's whole folder (20 ms for a binary in /tmp).
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        // Paths as strings, not URLs: URL's path arithmetic was 2% of an empty run's start.
        let bin = parent(exe)
        // Installed: PREFIX/bin/cxrun with PREFIX/share/cxrun/stdlib.
        let installed = parent(bin) + "/share/cxrun/stdlib"
        if isDirectory(installed) { return installed }
        // Checkout: .build/<triple>/<config>/cxrun, with stdlib/ beside Package.swift.
        var dir = bin
        for _ in 0..<6 {
            if isDirectory(dir + "/stdlib"), FileManager.default.fileExists(atPath: dir + "/Package.swift") { return dir + "/stdlib" }
            dir = parent(dir)
        }
        return nil
    }

    /// The folder holding `path` (an absolute path); "" for a path directly under the root.
    static func parent(_ path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return String(path[..<slash])
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path.isEmpty ? "/" : path, isDirectory: &isDir) && isDir.boolValue
    }
}
