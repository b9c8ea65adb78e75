import Foundation

/// Finds the Lua standard library: `$CXRUN_STDLIB`, the install layout, or the checkout.
enum StdlibLocator {
    static func locate() -> String? {
        if let path = getenv("CXRUN_STDLIB").map({ String(cString: $0) }), !path.isEmpty { return path }
        // The kernel's link to the running executable (symlinks resolved), not Bundle.main: making
        // the main bundle lists the executable's whole folder (20 ms for a binary in /tmp).
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        let bin = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // Installed: PREFIX/bin/cxrun with PREFIX/share/cxrun/stdlib.
        let installed = bin.deletingLastPathComponent().appendingPathComponent("share/cxrun/stdlib")
        if isDirectory(installed) { return installed.path }
        // Checkout: .build/<triple>/<config>/cxrun, with stdlib/ beside Package.swift.
        var dir = bin
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("stdlib")
            if isDirectory(candidate), FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                return candidate.path
            }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
    }
}
