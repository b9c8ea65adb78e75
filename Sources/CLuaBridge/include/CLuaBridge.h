// CLuaBridge: the only C between Swift and Lua. Everything here that can raise a Lua error
// (longjmp) does so from a C frame, never from a Swift one (DESIGN.md section 2).
#ifndef CLUABRIDGE_H
#define CLUABRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

// ---------------------------------------------------------------------------------------------
// Runtime: per-run limits and state, reachable from every thread of the run (extra space).

/// Which limit stopped a run (0 = none).
typedef enum {
    CXB_LIMIT_NONE = 0,
    CXB_LIMIT_MEMORY = 1,
    CXB_LIMIT_INSTRUCTIONS = 2,
    CXB_LIMIT_DEADLINE = 3,
    CXB_LIMIT_INTERRUPTED = 4,
    CXB_LIMIT_BREAK = 5,  // a break of the running contained call (cxb_break), not of the run
} CXBLimit;

/// Sentinels a Swift binding returns to the trampoline instead of raising or yielding itself.
enum {
    CXB_RAISE = -1,        // error value on top of the stack: raise it as is
    CXB_RAISE_WHERE = -2,  // string on top: prefix "chunk:line: " then raise
    CXB_YIELD = -3,        // two values on top (marker, request): yield them, continue in C
};

/// Called by the trampoline for every binding call: returns a result count or a sentinel.
typedef int (*cxb_dispatch_fn)(lua_State *L, void *host, int binding);

typedef struct CXBRuntime CXBRuntime;

/// Creates a runtime with a memory cap (bytes, 0 = none) and a reserve the host may borrow from.
CXBRuntime *cxb_runtime_new(size_t mem_cap, size_t mem_reserve);
void cxb_runtime_free(CXBRuntime *rt);
/// Creates the Lua state that allocates through the runtime's capped allocator.
lua_State *cxb_newstate(CXBRuntime *rt);
/// Runs a full collection and closes the state (finalizers and hooks stay under the limits).
void cxb_close(lua_State *L);
CXBRuntime *cxb_runtime(lua_State *L);

void cxb_set_dispatch(CXBRuntime *rt, cxb_dispatch_fn fn, void *host);
/// Instruction budget (0 = unlimited) and wall-clock timeout in seconds from now (0 = none).
void cxb_set_limits(CXBRuntime *rt, int64_t instructions, double timeout_seconds);
/// Installs the count hook on a thread (threads created later inherit it).
void cxb_install_hook(lua_State *L);
/// Marks a limit as hit from the host side (deadline seen by the scheduler, SIGINT): sticky.
void cxb_trip(CXBRuntime *rt, CXBLimit limit);
/// Thread-safe (atomic): asks the hook to stop the run at its next check.
void cxb_interrupt(CXBRuntime *rt);

/// True once `cxb_interrupt` was called.
int cxb_interrupt_requested(CXBRuntime *rt);
/// Thread-safe: stops the contained call running now (see `cxb_contained_call`) at its next
/// check, or the whole run when none is running.
void cxb_break(CXBRuntime *rt);
/// Stops the contained call running now, never the run: set while none runs, the break is dropped
/// when the next one starts (a test's time limit, which must not end the file). Any thread.
void cxb_break_contained(CXBRuntime *rt);
/// True when a break waits for a contained call that is running.
int cxb_break_pending(CXBRuntime *rt);
CXBLimit cxb_limit(const CXBRuntime *rt);
int64_t cxb_instructions_used(const CXBRuntime *rt);
size_t cxb_memory_used(const CXBRuntime *rt);
size_t cxb_memory_peak(const CXBRuntime *rt);
size_t cxb_memory_cap(const CXBRuntime *rt);
int cxb_memory_refused(const CXBRuntime *rt);
/// True when the host may still allocate `bytes` without overdrawing cap + reserve.
int cxb_host_can_allocate(const CXBRuntime *rt, size_t bytes);
/// True when host-side allocations went past the cap: the next resume must raise instead.
int cxb_take_over_budget(CXBRuntime *rt);
/// True when host-side allocations went past cap + reserve: only the watchdog can stop that.
int cxb_reserve_exhausted(CXBRuntime *rt);
/// Seconds on the monotonic clock the deadline is measured against.
double cxb_monotonic_now(void);

// ---------------------------------------------------------------------------------------------
// Entering Lua from the host: always protected, allocations may fail only inside.

/// Pushes a C closure that calls binding number `binding` through the trampoline.
void cxb_push_binding(lua_State *L, int binding);
/// The private light userdata a binding yields so schedulers can tell host I/O from user yields.
void *cxb_yield_marker(void);
/// lua_resume with the allocator in script mode.
int cxb_resume(lua_State *co, lua_State *from, int nargs, int *nresults);
/// lua_pcall with a traceback message handler, allocator in script mode.
int cxb_pcall_traceback(lua_State *L, int nargs, int nresults);
/// Loads text-only source (binary chunks never load).
int cxb_load_text(lua_State *L, const char *buf, size_t len, const char *chunkname);
/// The function on top of the stack as a binary chunk with its debug information (what
/// `cxrun check` reads global names and their lines from). 0 on success, the caller frees *out.
int cxb_dump(lua_State *L, unsigned char **out, size_t *size);
/// Frees what cxb_dump returned.
void cxb_dump_free(unsigned char *data);
/// Closes a dead or suspended thread's pending to-be-closed variables, protected.
int cxb_reset_thread(lua_State *co);
/// Converts any value to a string inside a protected call (metamethods may run): never raises.
/// Pushes the string; returns 0 when the conversion itself failed (a fallback is pushed).
int cxb_safe_tostring(lua_State *L, int idx);
/// Pushes the traceback of `co` (may be dead) with `msg` as its first line.
void cxb_traceback(lua_State *L, lua_State *co, const char *msg, int level);
/// Pushes "chunk:line" of the innermost Lua frame of `co` with a line whose source is not
/// `skip_source` (may be NULL), or "" when none.
void cxb_where(lua_State *L, lua_State *co, const char *skip_source);
/// Pushes the function every task's coroutine starts with: it calls the task's function (below
/// its arguments) under a protected call, so to-be-closed variables close inside the coroutine.
void cxb_push_task_body(lua_State *L);
/// For a task that failed: pushes where the error was raised and the traceback (returns 1), or
/// nothing (returns 0) when the body's handler did not see the error.
int cxb_task_failure(lua_State *L, lua_State *co);
/// A message handler for the host's own protected calls (`cx.each`): notes where a table error is
/// raised, so that re-raised elsewhere it is still reported at that line; returns the error value.
int cxb_origin_msgh(lua_State *L);
/// Where (`script.lua:LINE`) the allocator last refused memory to the script ("" when unknown).
const char *cxb_refused_where(const CXBRuntime *rt);
/// Pushes a fresh `cx.null`: an empty userdata printing as "null", metatable locked.
void cxb_push_null_sentinel(lua_State *L);
/// `contained_call(f, ...)`, for the host's own Lua only (scripts never see it): calls `f` as
/// `pcall` does, with a whole instruction budget of its own (the caller's count is as before
/// after it); when the instruction limit or a `cxb_break` stops `f`, that error is returned like
/// any other and the run goes on (the limit is sticky only up to here). So does the memory limit
/// when collecting `f`'s garbage brings the run back under its cap. The deadline and an
/// interrupt still end the run. `f` may yield.
int cxb_contained_call(lua_State *L);
/// Opens, protected, the libraries the sandbox draws from (no io, package or debug).
int cxb_open_safe_libs(lua_State *L);

// ---------------------------------------------------------------------------------------------
// Macros of lua.h that Swift cannot import, as functions.

static inline void cxb_pop(lua_State *L, int n) { lua_settop(L, -(n)-1); }
static inline void cxb_newtable(lua_State *L) { lua_createtable(L, 0, 0); }
static inline int cxb_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline int cxb_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline void cxb_insert(lua_State *L, int idx) { lua_rotate(L, idx, 1); }
static inline void cxb_remove(lua_State *L, int idx) { lua_rotate(L, idx, -1); lua_settop(L, -2); }
static inline const char *cxb_tolstring_raw(lua_State *L, int idx, size_t *len) {
    // Only for values already known to be strings: no conversion, no metamethods.
    return lua_tolstring(L, idx, len);
}
static inline int cxb_isinteger(lua_State *L, int idx) { return lua_isinteger(L, idx); }
static inline lua_Integer cxb_tointeger(lua_State *L, int idx) { return lua_tointegerx(L, idx, NULL); }
static inline lua_Number cxb_tonumber(lua_State *L, int idx) { return lua_tonumberx(L, idx, NULL); }
static inline void *cxb_newuserdata(lua_State *L, size_t size) { return lua_newuserdatauv(L, size, 0); }
static inline int cxb_ref(lua_State *L) { return luaL_ref(L, LUA_REGISTRYINDEX); }
static inline void cxb_unref(lua_State *L, int ref) { luaL_unref(L, LUA_REGISTRYINDEX, ref); }
static inline int cxb_getref(lua_State *L, int ref) { return lua_rawgeti(L, LUA_REGISTRYINDEX, ref); }
static inline void cxb_push_globals(lua_State *L) { lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS); }

#endif
