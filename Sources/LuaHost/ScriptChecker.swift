import CLua
import CLuaBridge

/// Compiles scripts without running them (a syntax check).
public enum ScriptChecker {
    /// Returns nil when `source` compiles as text-only Lua 5.4, else the error as `chunk:LINE: message`.
    public static func check(source: String, chunkName: String) -> String? {
        let vm: LuaVM
        do { vm = try LuaVM(limits: LuaLimits(memoryBytes: 64 << 20, instructions: 0, timeout: 0)) } catch {
            return error.description
        }
        guard vm.loadText(source, chunkName: chunkName) == LUA_OK else { return vm.popMessage() }
        return nil
    }
}
