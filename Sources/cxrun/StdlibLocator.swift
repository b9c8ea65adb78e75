import Foundation

/// Finds the Lua standard library: `$CXRUN_STDLIB`, the install layout, or the checkout.
enum StdlibLocator {
    static func locate() -> String? {
        if let path = getenv("CXRUN_STDLIB").map({ String(cString: $0) }), !path.isEmpty { return path }
        // The kernel's link to the running executable (symlinks resolved), not Bundle.main: making
        // the main bundle lists the executable's whole folder (20 ms for a binary in /tmp).
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        // Paths as strings (NSString's path methods, as elsewhere), not URLs: URL's path arithmetic
        // was 2% of an empty run's start.
        let bin = (exe as NSString).deletingLastPathComponent
        // Installed: PREFIX/bin/cxrun with PREFIX/share/cxrun/stdlib.
        let installed = ((bin as NSString).deletingLastPathComponent as NSString).appendingPathComponent("share/cxrun/stdlib")
        if isDirectory(installed) { return installed }
        // Checkout: .build/<triple>/<config>/cxrun, with stdlib/ beside Package.swift.
        var dir = bin
        for _ in 0..<6 {
            let candidate = (dir as NSString).appendingPathComponent("stdlib")
            if isDirectory(candidate), FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("Package.swift")) {
                return candidate
            }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return nil
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}
