import Foundation

/// The Lua files below a folder, for the commands that take folders (`check`, `test`).
enum LuaFiles {
    /// Files under `folder` whose names end with `suffix`, in name order, hidden entries skipped;
    /// subfolders' too when `recursive`.
    static func below(_ folder: String, suffix: String, recursive: Bool = true) -> [String] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: folder) else { return [] }
        var files: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = folder == "." ? name : (folder as NSString).appendingPathComponent(name)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else { continue }
            if isDir.boolValue {
                if recursive { files += below(path, suffix: suffix) }
            } else if name.hasSuffix(suffix) {
                files.append(path)
            }
        }
        return files
    }
}
