import Testing

@testable import LuaHost

@Suite("Scheduler")
struct SchedulerTests {
    @Test func eachKeepsInputOrderWhateverFinishesFirst() async {
        let output = await expectSuccess(#"""
            local delays = {0.05, 0.0, 0.03, 0.01, 0.0}
            local r = cx.each(delays, function(d, i) cx.sleep(d) return i * 10 end, {concurrency = 5})
            print(table.concat(r, ","))
            """#)
        #expect(output == "10,20,30,40,50\n")
    }

    @Test(arguments: [1, 3, 8])
    func eachRunsAtMostConcurrencyAtOnce(_ concurrency: Int) async {
        let output = await expectSuccess(#"""
            local active, peak = 0, 0
            local items = {} for i = 1, 12 do items[i] = i end
            cx.each(items, function(x)
              active = active + 1
              peak = math.max(peak, active)
              cx.sleep(0.005)
              active = active - 1
            end, {concurrency = \#(concurrency)})
            print(peak)
            """#)
        #expect(output == "\(concurrency)\n")
    }

    @Test func eachStopsStartingItemsAfterAFailure() async {
        let output = await expectSuccess(#"""
            local started = 0
            local items = {} for i = 1, 50 do items[i] = i end
            local ok, err = pcall(cx.each, items, function(x)
              started = started + 1
              cx.sleep(0)
              if x == 3 then error({code = "conflict", item = x}) end
            end, {concurrency = 2})
            print(ok, err.code, err.item, started < 10)
            """#)
        #expect(output == "false\tconflict\t3\ttrue\n")
    }

    /// A map has no items 1..n: cx.each over one ran nothing and the run succeeded. An empty
    /// list is still fine.
    @Test func eachRefusesAMapAndTakesAnEmptyList() async {
        let output = await expectSuccess(#"""
            local ran = 0
            local ok, err = pcall(cx.each, {q1 = 1, q2 = 2}, function() ran = ran + 1 end)
            print(ok, ran, (err:gsub("'q%d'", "'qN'")))
            print(#cx.each({}, function() ran = ran + 1 end), ran)
            """#)
        #expect(output == "false\t0\tbad argument #1 to 'each' (a list expected, got a table with key 'qN' and no items 1..n)\n0\t0\n", "\(output)")
    }

    /// A list with a hole (`{q1, nil, q3}`: a lookup that found nothing) ran its items with a nil
    /// among them, or ended at the hole, and the run succeeded: refused at the script's line.
    @Test func eachRefusesAListWithAHole() async {
        let (outcome, output) = await runLua("""
            local ran = 0
            print(pcall(cx.each, {1, 2, nil, nil, nil, 6}, function() ran = ran + 1 end))
            print(ran)
            cx.each({1, nil, 3}, function() ran = ran + 1 end)
            """)
        #expect(output == "false\tbad argument #1 to 'each' (a list with a hole: item 3 is nil, item 6 is not)\n0\n", "\(output)")
        #expect(outcome.status == .failed && outcome.message?.hasPrefix("test.lua:4: bad argument #1 to 'each' (a list with a hole: item 2 is nil") == true,
                "\(outcome.message ?? "")")
    }

    /// A misuse of the host's own Lua functions names the script's line, not one of the prelude's
    /// (`[cx]:223: bad argument #1 to 'wait'`), and a log format that does not fit its values says
    /// it is log's (it said `bad argument #1 to 'format'` at `[cx]:286`); `ipairs(nil)`, which
    /// Lua reports with no line at all ("attempt to index a nil value"), names the loop's.
    @Test func misusesOfHostLuaFunctionsNameTheScriptsLine() async {
        let output = await expectSuccess(#"""
            local function try(f) local ok, e = pcall(f); print(ok and "no error" or e) end
            try(function() local r = cx.wait(5); return r end)
            try(function() local r = cx.wait(cx.spawn(function() end), {}); return r end)
            try(function() local r = log.info("%d queues", "x"); return r end)
            try(function() local items; for _ in ipairs(items) do end end)
            """#)
        #expect(output == """
            test.lua:2: bad argument #1 to 'wait' (task from cx.spawn expected, got number)
            test.lua:3: bad argument #2 to 'wait' (task from cx.spawn expected, got table)
            test.lua:4: bad argument #2 to 'log.info' (number expected, got string)
            test.lua:5: bad argument #1 to 'ipairs' (table expected, got nil)

            """, "\(output)")
    }

    @Test func taskErrorsSurfaceAtWaitWithTheTaskTraceback() async {
        let output = await expectSuccess(#"""
            local function inner() error("bad thing") end
            local t = cx.spawn(function() cx.sleep(0) inner() end)
            local ok, err = pcall(cx.wait, t)
            print(ok)
            print(err:match("^test.lua:1: bad thing") ~= nil, err:match("raised in task 2") ~= nil,
                  err:match("in upvalue 'inner'") ~= nil)
            local t2 = cx.spawn(function() error({code = "not_found"}) end)
            local ok2, e2 = pcall(cx.wait, t2)
            print(ok2, type(e2), e2.code)
            """#)
        #expect(output == "false\ntrue\ttrue\ttrue\nfalse\ttable\tnot_found\n")
    }

    /// A binding's failure carries no line of its own; re-raised by `cx.wait` or `cx.each` it is
    /// still reported at the binding's line (where the operator must look), with both tracebacks.
    @Test(arguments: [
        ("local t = cx.spawn(function()\n  cx.sleep(0)\n  fail_async('conflict')\nend)\ncx.wait(t)\n", 3, 5),
        ("cx.each({1, 2}, function(i)\n  cx.sleep(0)\n  if i == 2 then fail_async('conflict') end\nend, {concurrency = 2})\n", 3, 1),
        ("cx.each({1}, function()\n  fail_async('conflict')\nend, {concurrency = 1})\n", 2, 1),
        ("local t = cx.spawn(function() return cx.each({1}, function() fail_async('x') end) end)\n\ncx.wait(t)\n", 1, 3),
    ])
    func bindingFailuresReraisedElsewhereNameTheBindingsLine(_ source: String, _ raised: Int, _ surfaced: Int) async {
        let (outcome, _) = await runLua(source)
        #expect(outcome.status == .failed)
        #expect(outcome.message?.hasPrefix("test.lua:\(raised): ") == true, "\(outcome.message ?? "")")
        let traceback = outcome.traceback ?? ""
        #expect(traceback.contains("test.lua:\(raised): in function"), "\(traceback)")
        #expect(traceback.contains("test.lua:\(surfaced): in main chunk"), "\(traceback)")
    }

    /// A failure whose text quotes a clock time (`since 18:26:24Z`) is still given its line: the
    /// time read as `chunk:LINE:` once left a lock's refusal with no line at all.
    @Test func aFailureQuotingAClockTimeStillNamesItsLine() async {
        let (outcome, _) = await runLua("\nfail_async('locked', 'held by run R since 2026-11-27T18:26:24Z')\n")
        #expect(outcome.message?.hasPrefix("test.lua:2: locked: held by run R since 2026-11-27T18:26:24Z") == true, "\(outcome.message ?? "")")
        let (stringError, _) = await runLua("\nerror('stopped: at 18:26:24', 0)\n")
        #expect(stringError.message == "test.lua:2: stopped: at 18:26:24", "\(stringError.message ?? "")")
        #expect(ErrorPosition.hasPosition("test.lua:12: boom"))
        #expect(ErrorPosition.hasPosition("[string \"x = 1\"]:3: boom"))
        #expect(!ErrorPosition.hasPosition("locked: since 2026-11-27T18:26:24Z"))
        #expect(!ErrorPosition.hasPosition(":3: no chunk"))
    }

    /// A script's own table error, with no __tostring, shows its contents, not its address.
    @Test func aTableErrorShowsItsContents() async {
        let (outcome, _) = await runLua("error({code = 'x', n = 1})\n")
        #expect(outcome.message == #"test.lua:1: error object {"code":"x","n":1}"#, "\(outcome.message ?? "")")
        let (cyclic, _) = await runLua("local t = {}\nt.self = t\nerror(t)\n")
        #expect(cyclic.message?.hasPrefix("test.lua:3: table: 0x") == true, "what cannot be shown keeps Lua's form: \(cyclic.message ?? "")")
    }

    /// Caught and raised again by the script itself, it is reported where the script raised it.
    @Test func aBindingFailureCaughtAndRaisedAgainIsReportedAtTheRaise() async {
        let (outcome, _) = await runLua("local ok, e = pcall(fail_async, 'conflict')\n\nerror(e)\n")
        #expect(outcome.message?.hasPrefix("test.lua:3: ") == true, "\(outcome.message ?? "")")
    }

    @Test func waitReturnsResultsAndSeveralTasks() async {
        let output = await expectSuccess(#"""
            local a = cx.spawn(function(x, y) cx.sleep(0.01) return x + y, "second" end, 1, 2)
            local b = cx.spawn(function() return "b" end)
            print(cx.wait(a))
            print(cx.wait(a, b))
            print(tostring(a):match("^task %d+$") ~= nil)
            """#)
        #expect(output == "3\tsecond\n3\tb\ntrue\n")
    }

    @Test func yieldAcrossPcallWorks() async {
        let output = await expectSuccess(#"""
            local ok, v = pcall(function() return echo_async("through pcall") end)
            print(ok, v)
            local ok2, err = pcall(function() cx.sleep(0) error("after yield") end)
            print(ok2, err)
            local ok3, e3 = pcall(fail_async, "rate_limited")
            print(ok3, e3.code, e3.status, tostring(e3))
            print(pcall(fail_sync))
            """#)
        #expect(
            output
                == "true\tthrough pcall\nfalse\ttest.lua:3: after yield\nfalse\trate_limited\t503\trate_limited: simulated (HTTP 503)\nfalse\tsync failure\n"
        )
    }

    @Test func sleepOrdersWakeUps() async {
        let output = await expectSuccess(#"""
            local order = {}
            local slow = cx.spawn(function() cx.sleep(0.2) order[#order + 1] = "slow" end)
            local fast = cx.spawn(function() cx.sleep(0.01) order[#order + 1] = "fast" end)
            cx.wait(slow, fast)
            print(table.concat(order, ","))
            """#)
        #expect(output == "fast,slow\n")
    }

    @Test func scriptCoroutinesKeepWorkingWithHostIO() async {
        let output = await expectSuccess(#"""
            local gen = coroutine.wrap(function()
              for i = 1, 3 do
                local v = echo_async(i * 2)
                cx.sleep(0)
                coroutine.yield(v)
              end
              return "done"
            end)
            print(gen(), gen(), gen(), gen())
            local co = coroutine.create(function(a)
              local inner = coroutine.wrap(function() coroutine.yield(echo_async("deep")) end)
              local b = coroutine.yield(a + 1, inner())
              return b * 2
            end)
            print(coroutine.resume(co, 1))
            print(coroutine.resume(co, 21))
            print(coroutine.status(co), coroutine.isyieldable())
            """#)
        #expect(output == "2\t4\t6\tdone\ntrue\t2\tdeep\ntrue\t42\ndead\tfalse\n")
    }

    @Test func strayYieldFailsClearly() async {
        let (outcome, _) = await runLua("local x = 1\ncoroutine.yield(x)")
        #expect(outcome.status == .failed)
        #expect(outcome.message == "test.lua:2: attempt to yield from outside a coroutine")
    }

    @Test func hostIOInsideANonYieldableCallbackFailsClearly() async {
        let (outcome, _) = await runLua("table.sort({3, 2, 1}, function(a, b) cx.sleep(0) return a < b end)")
        #expect(outcome.status == .failed)
        #expect(outcome.message?.contains("host I/O cannot run here") == true, "\(outcome.message ?? "")")
    }

    @Test func deadlockIsReportedNotHung() async {
        let (outcome, _) = await runLua(#"""
            local t1, t2
            t1 = cx.spawn(function() cx.sleep(0) return cx.wait(t2) end)
            t2 = cx.spawn(function() cx.sleep(0) return cx.wait(t1) end)
            cx.wait(t1)
            """#)
        #expect(outcome.status == .failed)
        #expect(outcome.message?.contains("deadlock") == true, "\(outcome.message ?? "")")
    }

    @Test func waitingForItselfIsAnError() async {
        let (outcome, _) = await runLua("local me\nme = cx.spawn(function() cx.sleep(0) cx.wait(me) end)\ncx.wait(me)")
        #expect(outcome.message?.contains("cannot wait for itself") == true, "\(outcome.message ?? "")")
    }

    @Test func anUnwaitedTaskFailureFailsTheRun() async {
        let (outcome, _) = await runLua("cx.spawn(function() cx.sleep(0.01) error('lost?') end)\nprint('main done')")
        #expect(outcome.status == .failed && outcome.unwaitedTask)
        #expect(outcome.message == "test.lua:1: lost? (in a task that nothing waited for: cx.wait it to handle its error)")
        let (waited, _) = await runLua("local t = cx.spawn(function() error('kept') end)\ncx.wait(t)")
        #expect(waited.message?.hasPrefix("test.lua:1: kept") == true && waited.message?.contains("nothing waited for") == false && !waited.unwaitedTask,
                "a waited task's error is the run's own: \(waited.message ?? "")")
    }

    @Test func theRunWaitsForSpawnedTasks() async {
        let output = await expectSuccess("cx.spawn(function() cx.sleep(0.02) print('background finished') end)\nprint('main done')")
        #expect(output == "main done\nbackground finished\n")
    }

    @Test func mainResultsAreReported() async {
        let (outcome, _) = await runLua("return 1, 'two', {3}")
        #expect(outcome.results == [1, "two", [3]])
    }

    @Test func manyBindingCallsLeaveTheStackAndMemoryAsTheyWere() async {
        // 100,000 trampoline round trips: each returns its values, none leaks stack slots or memory.
        let output = await expectSuccess(#"""
            local before = collectgarbage("count")
            local sum = 0
            for i = 1, 100000 do noop() sum = sum + echo(i) end
            local after = collectgarbage("count")
            print(sum, select("#", noop()), after - before < 1024)
            """#)
        #expect(output == "5000050000\t0\ttrue\n", "\(output)")
    }

    @Test func closeHandlersOfAFailingChunkCanWaitForHostWork() async {
        // A top-level error unwinds a <close> variable whose handler yields for host work (as a
        // rollback does): the handler runs to its end, and the run still fails at the error's line.
        let (outcome, output) = await runLua(#"""
            local guard <close> = setmetatable({}, { __close = function(_, err)
              cx.sleep(0.01)
              print("closed after", err)
            end })
            print("started")
            error("boom")
            """#)
        #expect(outcome.status == .failed)
        #expect(outcome.message == "test.lua:6: boom", "\(outcome.message ?? "")")
        #expect(output == "started\nclosed after\ttest.lua:6: boom\n", "\(output)")
        #expect(outcome.traceback?.contains("test.lua:6") == true, "\(outcome.traceback ?? "")")
    }

    @Test func closeHandlersOfAFailingTaskCanWaitForHostWork() async {
        let output = await expectSuccess(#"""
            local t = cx.spawn(function()
              local guard <close> = setmetatable({}, { __close = function() cx.sleep(0.01) print("task closed") end })
              error({code = "conflict"})
            end)
            local ok, err = pcall(cx.wait, t)
            print(ok, err.code)
            """#)
        #expect(output == "task closed\nfalse\tconflict\n", "\(output)")
    }

    @Test func bindingWorkRunsOnTheRunsOwnThread() async {
        // The run's thread is an event loop and the work's executor: a call and its answer need
        // no thread switch, also when several tasks wait at once.
        let output = await expectSuccess(#"""
            local seen = cx.each({1, 2, 3, 4}, function() return {on_run_thread_async()} end, {concurrency = 4})
            for _, pair in ipairs(seen) do print(pair[1], pair[2]) end
            """#)
        #expect(output == String(repeating: "true\ttrue\n", count: 4), "\(output)")
    }
}
