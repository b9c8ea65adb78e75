import Testing

@testable import LuaHost

/// `ScriptArguments`, the host's copy of the prelude's `KEY=VALUE` rule, against the prelude itself.
@Suite("Script arguments")
struct ScriptArgumentsTests {
    static let samples = ["a=1", "_x=", "Wait_2=30", "2x=1", "=c", "b==x", "é=1", "a-b=1", "plain", "", "a b=1", "K=v=w"]

    @Test func theHostReadsKeysAsThePreludeDoes() async {
        for argument in Self.samples {
            let (outcome, output) = await runLua("for k, v in pairs(cx.args) do if type(k) == 'string' then print(k) end end", args: [argument])
            #expect(outcome.status == .succeeded, "\(outcome.message ?? "")")
            let key = ScriptArguments.key(of: argument).map { "\($0)\n" } ?? ""
            #expect(output == key, "\(argument): the prelude saw \(output.debugDescription), the host \(key.debugDescription)")
        }
    }

    @Test func aKeyGivenTwiceIsFound() {
        #expect(ScriptArguments.repeatedKey(in: ["a=1", "x", "b=2", "a=3"]).map { "\($0.key) \($0.first) \($0.second)" } == "a a=1 a=3")
        #expect(ScriptArguments.repeatedKey(in: ["a=1", "x", "x", "b=a=1"]) == nil, "positional arguments may repeat")
    }
}
