import JSONCore
import CLua
import CLuaBridge
import NIOCore

/// Drives a run's coroutines (the OpenResty cosocket model): a binding that waits for host work
/// yields; the work runs elsewhere; the coroutine is resumed with its outcome. Driven by the run's
/// event loop: each pass runs every ready coroutine, then returns to the loop until the mailbox,
/// a timer or the periodic limit check asks for the next. Confined to the loop's thread; only
/// the mailbox is touched from other threads.
final class Scheduler {
    /// How a task is resumed next.
    enum Resume {
        case start(Int32)
        case values([LuaValue])
        case failure(ScriptError)
        case taskOutcome(Int)
    }

    /// A task's failure as the run reports it.
    struct Failure: Error {
        var message: String
        var traceback: String
        var errorRef: Int32
        /// A task's that nothing waited for, reported once the main chunk had ended.
        var unwaited = false
    }

    enum TaskState {
        case runnable, waiting
        case done(resultsRef: Int32, count: Int32)
        case failed(Failure)
    }

    struct TaskRecord {
        var thread: OpaquePointer
        var anchor: Int32
        var state: TaskState
        var waiters: [Int] = []
        var observed = false
    }

    private unowned let vm: LuaVM
    private var tasks: [Int: TaskRecord] = [:]
    private var nextTaskID = 1
    private var ready: [(Int, Resume)] = []
    private var readyHead = 0
    private var timers: [(at: Double, task: Int)] = []
    /// Each waiting task's host work, with the number of that wait: a wait abandoned by a limit
    /// that did not end the run (a contained call's) may still post its outcome later, and that
    /// outcome must not resume the task's next wait.
    private var inFlight: [Int: (wait: Int, task: Task<Void, Never>)] = [:]
    private var nextWait = 0
    private let mailbox: Mailbox
    /// Where binding work's async code runs: this thread (see HostExecutor).
    private let executor: HostExecutor
    private let deadline: Double
    private let loop: EventLoop
    /// Who the mailbox wakes; emptied when the run ends (it would otherwise keep the scheduler alive).
    private let wakeTarget: NIOLoopBoundBox<Scheduler?>
    /// The next pass already scheduled for a timer or the limit check, and when it fires.
    private var wakeUp: (at: Double, task: Scheduled<Void>)?
    private var onEnd: ((Result<[LuaValue], Failure>) -> Void)?
    /// The task being resumed right now (0 between resumes).
    private(set) var current = 0
    static let mainTask = 1
    /// How long an idle run goes without looking at interrupts and the deadline.
    static let checkInterval = 0.25

    /// Made on `loop`'s thread, which runs the whole run.
    init(vm: LuaVM, timeout: Double, loop: EventLoop) {
        self.vm = vm
        self.loop = loop
        let target = NIOLoopBoundBox<Scheduler?>(nil, eventLoop: loop)
        wakeTarget = target
        let mailbox = Mailbox(wake: { loop.execute { target.value?.pass() } })
        self.mailbox = mailbox
        self.executor = HostExecutor(mailbox: mailbox)
        self.deadline = timeout > 0 ? cxb_monotonic_now() + timeout : 0
    }

    // MARK: tasks

    /// Starts a task running the function below `argCount` arguments on top of `state`'s stack.
    func spawn(from state: OpaquePointer, argCount: Int32) -> Int {
        // The coroutine starts in the task body, which calls the function under a protected call.
        let function = lua_gettop(state) - argCount
        cxb_push_task_body(state)
        lua_rotate(state, function, 1)
        let co = lua_newthread(state)!
        let anchor = cxb_ref(state)
        lua_xmove(state, co, argCount + 2)
        let id = nextTaskID
        nextTaskID += 1
        tasks[id] = TaskRecord(thread: co, anchor: anchor, state: .runnable)
        enqueue(id, .start(argCount + 1))
        return id
    }

    /// True when `id` names a task of this run.
    func exists(_ id: Int) -> Bool { tasks[id] != nil }

    /// True when the task has finished, successfully or not.
    func isFinished(_ id: Int) -> Bool {
        switch tasks[id]?.state {
        case .done, .failed: return true
        default: return false
        }
    }

    /// Pushes a finished task's outcome for `cx.wait`: its results (returns count), or its error
    /// value (returns nil; the caller raises it).
    func pushOutcome(of id: Int, on state: OpaquePointer) -> Int32? {
        guard var record = tasks[id] else { return 0 }
        record.observed = true
        tasks[id] = record
        switch record.state {
        case .done(let ref, let count):
            guard lua_checkstack(state, count + 2) != 0 else { return 0 }
            cxb_getref(state, ref)
            let table = lua_gettop(state)
            if count > 0 {
                for i in 1...count { lua_rawgeti(state, table, lua_Integer(i)) }
            }
            cxb_remove(state, table)
            return count
        case .failed(let failure):
            cxb_getref(state, failure.errorRef)
            if lua_type(state, -1) == LUA_TSTRING {
                // A string error carries the task's own traceback to where it surfaces.
                cxb_pop(state, 1)
                vm.pushString("\(failure.message)\n(raised in task \(id))\n\(failure.traceback)", on: state)
            }
            return nil
        default:
            return 0
        }
    }

    private func enqueue(_ id: Int, _ resume: Resume) {
        ready.append((id, resume))
    }

    private func dequeue() -> (Int, Resume)? {
        guard readyHead < ready.count else { return nil }
        let item = ready[readyHead]
        ready[readyHead].1 = .start(0)  // the queue keeps no result alive past its step
        readyHead += 1
        if readyHead > 64 && readyHead * 2 > ready.count {
            ready.removeFirst(readyHead)
            readyHead = 0
        }
        return item
    }

    // MARK: the loop

    /// Starts the function on top of the main state's stack as the main task; `onEnd` gets the
    /// main task's results, or the failure that ended the run, once the run is over.
    func start(onEnd: @escaping (Result<[LuaValue], Failure>) -> Void) {
        self.onEnd = onEnd
        wakeTarget.value = self
        let main = spawn(from: vm.L, argCount: lua_gettop(vm.L) - 1)
        precondition(main == Self.mainTask)
        pass()
    }

    /// One pass: runs every ready coroutine, then either ends the run or arranges the next pass
    /// (the mailbox asks for one itself; timers and the limit check get a scheduled one).
    private func pass() {
        guard onEnd != nil else { return }  // a wake that arrived after the end
        while true {
            takeMail()
            let now = cxb_monotonic_now()
            fireTimers(now: now)
            if vm.limitHit == nil {
                if deadline > 0 && now > deadline {
                    vm.trip(CXB_LIMIT_DEADLINE)
                } else if cxb_interrupt_requested(vm.runtime) != 0 {
                    vm.trip(CXB_LIMIT_INTERRUPTED)
                } else if cxb_break_pending(vm.runtime) != 0 {
                    // Fails every wait of the run (the contained call's among them); the call's end lifts the limit.
                    vm.trip(CXB_LIMIT_BREAK)
                }
                if vm.limitHit != nil { abandonWaits() }
            }
            if let (id, resume) = dequeue() {
                step(id, resume)
                if case .failed(let failure) = tasks[Self.mainTask]?.state {
                    shutdown()
                    return end(.failure(failure))
                }
                continue
            }
            if tasks.values.allSatisfy({ if case .waiting = $0.state { return false } else { return true } }) {
                return end(finalResult())
            }
            if inFlight.isEmpty && timers.isEmpty {
                breakDeadlock()
                continue
            }
            // Bounded, so interrupts and the deadline are seen promptly.
            var wait = Self.checkInterval
            if let next = timers.map(\.at).min() { wait = min(wait, next - now) }
            if deadline > 0 { wait = min(wait, deadline - now) }
            scheduleWake(at: now + max(0, wait))
            return
        }
    }

    private func scheduleWake(at time: Double) {
        if let wakeUp, wakeUp.at <= time { return }
        wakeUp?.task.cancel()
        let target = wakeTarget
        let task = loop.scheduleTask(in: .nanoseconds(Int64(max(0, time - cxb_monotonic_now()) * 1e9))) {
            guard let scheduler = target.value else { return }
            scheduler.wakeUp = nil
            scheduler.pass()
        }
        wakeUp = (time, task)
    }

    private func end(_ result: Result<[LuaValue], Failure>) {
        // Emptying the wake target may drop the last reference to this scheduler.
        let keep = self
        defer { withExtendedLifetime(keep) {} }
        wakeUp?.task.cancel()
        wakeUp = nil
        wakeTarget.value = nil
        let onEnd = self.onEnd
        self.onEnd = nil
        onEnd?(result)
    }

    /// Main is done: a task that failed and was never waited for fails the run.
    private func finalResult() -> Result<[LuaValue], Failure> {
        defer { shutdown() }
        if let (_, failure) = tasks.sorted(by: { $0.key < $1.key }).lazy.compactMap({ id, record -> (Int, Failure)? in
            if case .failed(let f) = record.state, !record.observed { return (id, f) }
            return nil
        }).first {
            var unwaited = failure
            unwaited.unwaited = true
            return .failure(unwaited)
        }
        return .success(mainResults())
    }

    /// Runs the jobs the executor was handed and queues the finished work's resumes. A function
    /// of its own so that nothing here outlives it: a result's only owner is then the ready
    /// queue, and pushing it into Lua can free it as it goes (see LuaVM.pushDraining).
    private func takeMail() {
        let (jobs, completions) = mailbox.drain()
        for job in jobs { executor.run(job) }
        for completion in completions {
            guard inFlight[completion.task]?.wait == completion.wait else { continue }  // an abandoned wait's
            inFlight[completion.task] = nil
            switch completion.result {
            case .success(let values): enqueue(completion.task, .values(values))
            case .failure(let error): enqueue(completion.task, .failure(error))
            }
        }
    }

    private func fireTimers(now: Double) {
        guard !timers.isEmpty else { return }
        var remaining: [(at: Double, task: Int)] = []
        for timer in timers.sorted(by: { $0.at < $1.at }) {
            if timer.at <= now { enqueue(timer.task, .values([])) } else { remaining.append(timer) }
        }
        timers = remaining
    }

    /// A limit was hit: every waiting task is resumed with the limit error (sticky from here).
    private func abandonWaits() {
        for (_, work) in inFlight { work.task.cancel() }
        let waiting = Set(inFlight.keys).union(timers.map(\.task))
        inFlight.removeAll()
        timers.removeAll()
        for id in waiting.sorted() { enqueue(id, .failure(.message("run stopped by a limit"))) }
    }

    /// Every remaining task waits for another: resume the main task (or the oldest) with an error.
    private func breakDeadlock() {
        let waiting = tasks.filter { if case .waiting = $0.value.state { return true } else { return false } }.keys
        guard let victim = waiting.contains(Self.mainTask) ? Self.mainTask : waiting.min() else { return }
        for id in tasks.keys { tasks[id]?.waiters.removeAll { $0 == victim } }
        enqueue(victim, .failure(.message("cx.wait: deadlock, every task of the run is waiting for another task")))
    }

    private func step(_ id: Int, _ resume: consuming Resume) {
        guard let record = tasks[id] else { return }
        let co = record.thread
        var nargs: Int32 = 0
        switch consume resume {
        case .start(let n):
            nargs = n
        case .values(var values):
            lua_settop(co, lua_gettop(co))
            if lua_checkstack(co, Int32(clamping: values.count) + 3) == 0 {
                pushFailure(.message("too many results (\(values.count))"), on: co)
                nargs = 3
                break
            }
            lua_pushboolean(co, 1)
            nargs = 1
            do {
                for k in values.indices { try vm.pushDraining(&values[k], on: co) }
                nargs += Int32(values.count)
            } catch {
                lua_settop(co, lua_gettop(co) - nargs)
                pushFailure(.message(error.description), on: co)
                nargs = 3
            }
        case .failure(let error):
            pushFailure(error, on: co)
            nargs = 3
        case .taskOutcome(let other):
            lua_checkstack(co, 3)
            let top = lua_gettop(co)
            lua_pushboolean(co, 1)
            if let count = pushOutcome(of: other, on: co) {
                nargs = count + 1
            } else {
                // [true, err] -> [false, err, false]: the pushed false also replaces the true;
                // the task's error is raised as is (no position prefix).
                lua_pushboolean(co, 0)
                lua_copy(co, -1, top + 1)
                nargs = 3
            }
        }
        if cxb_take_over_budget(vm.runtime) != 0 { vm.trip(CXB_LIMIT_MEMORY) }
        if vm.limitHit != nil { cxb_install_hook(co) }
        tasks[id]?.state = .runnable
        current = id
        vm.pendingSuspension = nil
        var nres: Int32 = 0
        let status = cxb_resume(co, vm.L, nargs, &nres)
        current = 0
        switch status {
        case LUA_YIELD:
            suspend(id, co, nres)
        case LUA_OK:
            complete(id, co, nres)
        default:
            fail(id, co)
        }
    }

    private func pushFailure(_ error: ScriptError, on co: OpaquePointer) {
        lua_checkstack(co, 3)
        lua_pushboolean(co, 0)
        vm.push(error: error, on: co)
        lua_pushboolean(co, error.form == .message ? 1 : 0)
    }

    private func suspend(_ id: Int, _ co: OpaquePointer, _ nres: Int32) {
        guard nres == 2, lua_touserdata(co, -2) == cxb_yield_marker(), let suspension = vm.pendingSuspension else {
            // Only the host yields to the scheduler; anything else is a script bug, reported.
            lua_settop(co, lua_gettop(co) - nres)
            vm.pendingSuspension = nil
            lua_pushstring(co, "unexpected yield to the host: the main chunk and tasks cannot yield (use coroutine.wrap for generators)")
            fail(id, co)
            return
        }
        lua_settop(co, lua_gettop(co) - 2)
        vm.pendingSuspension = nil
        tasks[id]?.state = .waiting
        switch suspension {
        case .async(let work):
            let mailbox = self.mailbox
            // Its jobs run on this thread (HostExecutor). High priority for what it hands to
            // other executors (actors, the global pool after the run): created with no task
            // context, it would otherwise queue behind everything else the process runs.
            nextWait += 1
            let wait = nextWait
            inFlight[id] = (wait, Task(executorPreference: executor, priority: .high) {
                let result = await work()
                mailbox.post(Completion(task: id, wait: wait, result: result))
            })
        case .sleep(let seconds):
            timers.append((at: cxb_monotonic_now() + max(0, seconds), task: id))
        case .task(let other):
            if isFinished(other) {
                enqueue(id, .taskOutcome(other))
            } else {
                tasks[other]?.waiters.append(id)
            }
        }
    }

    private func complete(_ id: Int, _ co: OpaquePointer, _ count: Int32) {
        lua_checkstack(co, 3)
        let top = lua_gettop(co)
        lua_createtable(co, count, 0)
        if count > 0 {
            for i in 1...count {
                lua_pushvalue(co, top - count + i)
                lua_rawseti(co, top + 1, lua_Integer(i))
            }
        }
        let ref = cxb_ref(co)
        lua_settop(co, top - count)
        finish(id, .done(resultsRef: ref, count: count))
    }

    private func fail(_ id: Int, _ co: OpaquePointer) {
        let L = vm.L
        let base = lua_gettop(L)
        lua_checkstack(L, 6)
        lua_xmove(co, L, 1)  // the error value
        cxb_safe_tostring(L, -1)
        var message = vm.string(at: -1, on: L)
        if message == "not enough memory", cxb_memory_refused(vm.runtime) > 0 {
            message = "memory limit exceeded (\(cxb_memory_cap(vm.runtime) >> 20) MiB)"
        } else if message.hasPrefix("table: 0x"), let shown = try? vm.value(at: -2, on: L) {
            // A script's own table error, with no __tostring: its contents, not its address.
            let text = shown.jsonString()
            message = "error object " + (text.count > 300 ? String(text.prefix(300)) + "…" : text)
        }
        // Where the error was raised and the traceback, as the task body's handler saw them before
        // the unwind; else (an error it did not see) read off the dead coroutine.
        var place: String, traceback: String
        if cxb_task_failure(L, co) != 0 {
            place = vm.string(at: -2, on: L)
            traceback = vm.string(at: -1, on: L)
            cxb_pop(L, 2)
        } else {
            cxb_where(L, co, preludeChunkName)
            place = vm.string(at: -1, on: L)
            cxb_traceback(L, co, nil, 0)
            traceback = vm.string(at: -1, on: L)
            cxb_pop(L, 2)
        }
        // Out of memory where no script frame shows (raised in a host frame, or in a contained
        // call's own thread): the line the allocator refused.
        if place.isEmpty, (ErrorPosition.withoutPosition(message) ?? message).hasPrefix("memory limit exceeded") {
            place = String(cString: cxb_refused_where(vm.runtime))
            if !place.isEmpty { traceback = "stack traceback:\n\t\(place): memory refused here" }
        }
        if lua_type(L, -2) == LUA_TTABLE {
            // A binding's failure: its text never holds a position, whatever it quotes.
            message = place.isEmpty ? message : "\(place): \(message)"
        } else if let unplaced = ErrorPosition.withoutPosition(message) {
            // Raised without a line (error(msg, 0), a metamethod called from C): name the script's.
            message = place.isEmpty ? unplaced : "\(place): \(unplaced)"
        }
        lua_settop(L, base + 1)  // the error value
        let errorRef = cxb_ref(L)
        lua_settop(L, base)
        _ = cxb_reset_thread(co)  // runs the dead task's pending __close handlers, under the limits
        finish(id, .failed(Failure(message: message, traceback: traceback, errorRef: errorRef)))
    }

    private func finish(_ id: Int, _ state: TaskState) {
        guard var record = tasks[id] else { return }
        record.state = state
        let waiters = record.waiters
        record.waiters = []
        if id != Self.mainTask {
            cxb_unref(vm.L, record.anchor)  // the thread may be collected now
        }
        tasks[id] = record
        for waiter in waiters { enqueue(waiter, .taskOutcome(id)) }
    }

    private func mainResults() -> [LuaValue] {
        guard case .done(let ref, let count)? = tasks[Self.mainTask]?.state, count > 0 else { return [] }
        let L = vm.L
        cxb_getref(L, ref)
        defer { cxb_pop(L, 1) }
        return (1...count).map { i in
            lua_rawgeti(L, -1, lua_Integer(i))
            defer { cxb_pop(L, 1) }
            return (try? vm.value(at: -1, on: L)) ?? .string("(\(String(cString: lua_typename(L, lua_type(L, -1)))))")
        }
    }

    /// Ends the run: cancels host work and closes the threads still suspended.
    private func shutdown() {
        for (_, work) in inFlight { work.task.cancel() }
        // Work still in flight finishes on the global executor (its results go nowhere).
        for job in mailbox.close() { HostExecutor.runElsewhere(job) }
        inFlight.removeAll()
        timers.removeAll()
        for (id, record) in tasks.sorted(by: { $0.key < $1.key }) {
            if case .waiting = record.state { _ = cxb_reset_thread(record.thread) }
            if case .runnable = record.state, id != current { _ = cxb_reset_thread(record.thread) }
        }
    }
}
