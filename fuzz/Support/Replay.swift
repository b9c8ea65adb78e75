// The fuzz targets' own entry point when they are not built with libFuzzer (a plain `swift
// build`): each file named on the command line, or each file in a folder named there, goes
// through the target once. `make test` replays the committed corpora this way, so whatever a
// fuzzer once found stays a regression test.
import Foundation

/// Replays inputs through a libFuzzer-style target (one input at a time, in process).
public enum FuzzReplay {
    /// Runs `target` on every file in `arguments` (files, or folders of files); prints a count.
    /// A failing property ends the process in the target itself (fatalError), as under libFuzzer.
    public static func main(name: String, arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                            _ target: (UnsafeRawPointer, Int) -> CInt) {
        var files: [String] = []
        for argument in arguments {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder) else {
                FileHandle.standardError.write(Data("\(name): \(argument): no such file or folder\n".utf8))
                exit(2)
            }
            if isFolder.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []
                files += names.sorted().map { (argument as NSString).appendingPathComponent($0) }
            } else {
                files.append(argument)
            }
        }
        guard !files.isEmpty else {
            FileHandle.standardError.write(Data("usage: \(name) FILE|FOLDER... (replays fuzz inputs; build with --sanitize fuzzer to fuzz)\n".utf8))
            exit(2)
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                FileHandle.standardError.write(Data("\(name): \(file): cannot be read\n".utf8))
                exit(2)
            }
            // An empty buffer still needs a valid pointer, as libFuzzer gives one.
            _ = data.withUnsafeBytes { buffer in
                target(buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, buffer.count)
            }
        }
        print("\(name): \(files.count) inputs replayed, no property failed")
    }
}
