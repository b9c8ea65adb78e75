import CLua
import CLuaBridge

/// Compiles scripts without running them (a syntax check), and reads what the compiled chunk
/// says of the globals it uses.
public enum ScriptChecker {
    /// Why a script did not compile: `chunk:LINE: message`.
    public struct CompileError: Error, Sendable {
        public var message: String
    }

    /// Compiles `source` as text-only Lua 5.4, once: the global names it reads and sets (nil when
    /// its chunk cannot be read, see GlobalAccesses), or its syntax error.
    public static func compile(source: String, chunkName: String) -> Result<[GlobalAccess]?, CompileError> {
        let vm: LuaVM
        do { vm = try LuaVM(limits: LuaLimits(memoryBytes: 64 << 20, instructions: 0, timeout: 0)) } catch {
            return .failure(CompileError(message: error.description))
        }
        guard vm.loadText(source, chunkName: chunkName) == LUA_OK else { return .failure(CompileError(message: vm.popMessage())) }
        return .success(GlobalAccesses.read(vm))
    }
}
