// Per-run runtime: the capped allocator, the count hook (instructions, deadline, interrupt).
#include "CLuaBridge.h"
#include "runtime_internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double cxb_monotonic_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

CXBRuntime *cxb_runtime_new(size_t mem_cap, size_t mem_reserve) {
    CXBRuntime *rt = calloc(1, sizeof(CXBRuntime));
    if (rt == NULL) return NULL;
    rt->mem_cap = mem_cap;
    rt->mem_reserve = mem_reserve;
    rt->in_host = 1;  // the host is on the stack until it enters Lua through cxb_resume/cxb_pcall
    atomic_init(&rt->interrupt, 0);
    atomic_init(&rt->brk, 0);
    atomic_init(&rt->contained, 0);
    return rt;
}

void cxb_runtime_free(CXBRuntime *rt) { free(rt); }

CXBRuntime *cxb_runtime(lua_State *L) { return *(CXBRuntime **)lua_getextraspace(L); }

// A memory error never reaches a message handler, and the task body's protected call unwinds the
// stack before the scheduler sees it: remember the script line of a refusal when it happens. A
// refusal in host code alone (a REPL's loop reporting the error) keeps the script's line before it.
// Only reads the call stack (lua_getstack/lua_getinfo "Sl" allocate nothing).
static void cxb_note_refusal_place(CXBRuntime *rt) {
    lua_State *L = rt->running;
    if (L == NULL) return;
    lua_Debug ar;
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0 && strcmp(ar.source, CXB_HOST_CHUNK) != 0) {
            snprintf(rt->refused_where, sizeof rt->refused_where, "%s:%d", ar.short_src, ar.currentline);
            return;
        }
    }
}

const char *cxb_refused_where(const CXBRuntime *rt) { return rt->refused_where; }

// The allocator refuses growth past the cap only while Lua code runs: a refusal becomes a Lua
// memory error, a longjmp, which must never cross a Swift frame. While the host is on the stack
// it lends from the reserve and flags the state; the trampoline raises once Swift has returned.
static void *cxb_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    CXBRuntime *rt = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        rt->mem_used -= old;
        return NULL;
    }
    if (rt->mem_cap != 0 && nsize > old) {
        size_t grow = nsize - old;
        if (rt->mem_used > rt->mem_cap || grow > rt->mem_cap - rt->mem_used) {
            if (!rt->in_host) {
                // Lua retries a refused allocation once, after an emergency collection. Refusing
                // that same request again means the script really holds the memory: the limit
                // is hit, stickily, so a pcall loop cannot keep the run alive.
                if (rt->refused_ptr == ptr && rt->refused_size == nsize && rt->refused_pending) {
                    cxb_trip(rt, CXB_LIMIT_MEMORY);
                }
                cxb_note_refusal_place(rt);
                rt->refused_pending = 1;
                rt->refused_ptr = ptr;
                rt->refused_size = nsize;
                rt->mem_refused++;
                return NULL;
            }
            rt->over_budget = 1;
            rt->mem_refused++;
            if (rt->mem_used + grow > rt->mem_cap + rt->mem_reserve) atomic_store(&rt->reserve_exhausted, 1);
        }
    }
    void *block = realloc(ptr, nsize);
    if (block == NULL) {
        // Lua assumes a shrinking realloc never fails: keep the old block, which is big enough.
        if (ptr != NULL && nsize <= old) {
            rt->mem_used = rt->mem_used - old + nsize;
            return ptr;
        }
        return NULL;  // the system itself is out of memory
    }
    // Only a growth granted clears the refusal: the emergency collection between a refusal and
    // Lua's retry shrinks blocks, and that must not make the retry look like a first refusal.
    if (nsize > old) rt->refused_pending = 0;
    rt->mem_used = rt->mem_used - old + nsize;
    if (rt->mem_used > rt->mem_peak) rt->mem_peak = rt->mem_used;
    return block;
}

static int cxb_panic(lua_State *L) {
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(non-string error)";
    fprintf(stderr, "unprotected Lua error (a host bug): %s\n", msg);
    fflush(stderr);
    abort();
}

lua_State *cxb_newstate(CXBRuntime *rt) {
    lua_State *L = lua_newstate(cxb_alloc, rt);
    if (L == NULL) return NULL;
    *(CXBRuntime **)lua_getextraspace(L) = rt;  // copied into every thread created later
    lua_atpanic(L, cxb_panic);
    return L;
}

void cxb_close(lua_State *L) {
    CXBRuntime *rt = cxb_runtime(L);
    rt->in_host = 1;
    lua_gc(L, LUA_GCCOLLECT);
    lua_close(L);
}

void cxb_set_dispatch(CXBRuntime *rt, cxb_dispatch_fn fn, void *host) {
    rt->dispatch = fn;
    rt->host = host;
}

void cxb_set_limits(CXBRuntime *rt, int64_t instructions, double timeout_seconds) {
    rt->instr_budget = instructions > 0 ? instructions : 0;
    rt->timeout = timeout_seconds > 0 ? timeout_seconds : 0;
    rt->deadline = timeout_seconds > 0 ? cxb_monotonic_now() + timeout_seconds : 0;
}

void cxb_trip(CXBRuntime *rt, CXBLimit limit) {
    if (rt->limit == CXB_LIMIT_NONE) rt->limit = limit;
    // Raise at the running task's next instruction, not its next hook step: a script that caught
    // the error that tripped it (a memory refusal in a pcall) gets the limit right after.
    if (rt->running != NULL) cxb_install_hook(rt->running);
}

void cxb_interrupt(CXBRuntime *rt) { atomic_store(&rt->interrupt, 1); }

void cxb_break(CXBRuntime *rt) {
    // A contained call ending just now leaves the break pending; the next one clears it at entry.
    if (atomic_load(&rt->contained) > 0) atomic_store(&rt->brk, 1);
    else atomic_store(&rt->interrupt, 1);
}

void cxb_break_contained(CXBRuntime *rt) { atomic_store(&rt->brk, 1); }

int cxb_break_pending(CXBRuntime *rt) { return atomic_load(&rt->brk) && atomic_load(&rt->contained) > 0; }

CXBLimit cxb_limit(const CXBRuntime *rt) { return rt->limit; }
int64_t cxb_instructions_used(const CXBRuntime *rt) { return rt->instr_used; }
size_t cxb_memory_used(const CXBRuntime *rt) { return rt->mem_used; }
size_t cxb_memory_peak(const CXBRuntime *rt) { return rt->mem_peak; }
size_t cxb_memory_cap(const CXBRuntime *rt) { return rt->mem_cap; }
int cxb_host_can_allocate(const CXBRuntime *rt, size_t bytes) {
    return rt->mem_cap == 0 || rt->mem_used + bytes <= rt->mem_cap + rt->mem_reserve;
}
int cxb_memory_refused(const CXBRuntime *rt) { return rt->mem_refused; }
int cxb_reserve_exhausted(CXBRuntime *rt) { return atomic_load(&rt->reserve_exhausted); }

int cxb_take_over_budget(CXBRuntime *rt) {
    int v = rt->over_budget;
    rt->over_budget = 0;
    return v;
}

// ---------------------------------------------------------------------------------------------
// The count hook. One budget for all threads of the run; once a limit is hit the hook fires on
// every instruction of every thread it reaches, so `pcall` cannot swallow the error.

static void cxb_hook(lua_State *L, lua_Debug *ar);

void cxb_install_hook(lua_State *L) {
    CXBRuntime *rt = cxb_runtime(L);
    lua_sethook(L, cxb_hook, LUA_MASKCOUNT, rt->limit != CXB_LIMIT_NONE ? 1 : CXB_HOOK_STEP);
}

int cxb_raise_limit(lua_State *L, CXBRuntime *rt, int level) {
    lua_sethook(L, cxb_hook, LUA_MASKCOUNT, 1);
    luaL_where(L, level);
    switch (rt->limit) {
    case CXB_LIMIT_INSTRUCTIONS:
        lua_pushfstring(L, "instruction limit exceeded (%I instructions)", (lua_Integer)rt->instr_budget);
        break;
    case CXB_LIMIT_DEADLINE:
        lua_pushfstring(L, "deadline exceeded (timeout %f s)", rt->timeout);
        break;
    case CXB_LIMIT_INTERRUPTED:
    case CXB_LIMIT_BREAK:
        lua_pushliteral(L, "interrupted");
        break;
    case CXB_LIMIT_MEMORY:
        lua_pushfstring(L, "memory limit exceeded (%I MiB)", (lua_Integer)(rt->mem_cap >> 20));
        break;
    default:
        lua_pushliteral(L, "limit exceeded");
        break;
    }
    lua_concat(L, 2);
    return lua_error(L);
}

static void cxb_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    CXBRuntime *rt = cxb_runtime(L);
    if (rt->limit == CXB_LIMIT_NONE) {
        int step = lua_gethookcount(L);
        rt->instr_used += step;
        // Still firing at every instruction: a contained limit was hit and lifted since.
        if (step != CXB_HOOK_STEP) lua_sethook(L, cxb_hook, LUA_MASKCOUNT, CXB_HOOK_STEP);
        if (rt->instr_budget != 0 && rt->instr_used > rt->instr_budget) {
            rt->limit = CXB_LIMIT_INSTRUCTIONS;
        } else if (rt->deadline != 0 && cxb_monotonic_now() > rt->deadline) {
            rt->limit = CXB_LIMIT_DEADLINE;
        } else if (cxb_interrupt_requested(rt)) {
            rt->limit = CXB_LIMIT_INTERRUPTED;
        } else if (cxb_break_pending(rt)) {
            rt->limit = CXB_LIMIT_BREAK;
        } else {
            return;
        }
    }
    cxb_raise_limit(L, rt, 0);  // inside a hook, level 0 is the running Lua function
}

int cxb_interrupt_requested(CXBRuntime *rt) { return atomic_load(&rt->interrupt); }

// ---------------------------------------------------------------------------------------------
// Contained calls: a limit that may stop one call of the host's Lua without ending the run (an
// interactive session's chunk). The error unwinds `f` like any limit — sticky, so the script's
// own pcall cannot swallow it — and is lifted here, in C, before any Lua instruction runs past
// the boundary.

// Memory refused inside a contained call (the limit tripped, or Lua's own "not enough memory")
// ends only the call when what the call held is garbage now: collected, the run is back under the
// cap with room to go on (a sixteenth of it): 1. What the run still holds after the collection
// (globals, other tasks) trips the limit: -1, the run ends. 0: not a refusal. Either way the error
// value names the limit and the line the memory was refused at.
static int cxb_memory_recovered(lua_State *L, CXBRuntime *rt, int status) {
    // lauxlib's buffers raise a refusal as a plain error with Lua's text (as the scheduler reads it).
    int refused = status == LUA_ERRMEM || (rt->mem_refused > 0 && lua_type(L, -1) == LUA_TSTRING
                                            && strcmp(lua_tostring(L, -1), "not enough memory") == 0);
    if (rt->mem_cap == 0 || (rt->limit != CXB_LIMIT_MEMORY && !refused)) return 0;
    lua_gc(L, LUA_GCCOLLECT);
    int recovered = rt->mem_used <= rt->mem_cap - rt->mem_cap / 16;
    if (recovered) {
        rt->refused_pending = 0;
        rt->over_budget = 0;
    } else {
        cxb_trip(rt, CXB_LIMIT_MEMORY);
    }
    if (refused || !lua_isstring(L, -1) || rt->refused_where[0]) {
        lua_pop(L, 1);
        lua_pushfstring(L, "%s%smemory limit exceeded (%I MiB)", rt->refused_where, rt->refused_where[0] ? ": " : "",
                        (lua_Integer)(rt->mem_cap >> 20));
    }
    return recovered ? 1 : -1;
}

static int cxb_contained_done(lua_State *L, int status, lua_KContext ctx) {
    CXBRuntime *rt = cxb_runtime(L);
    rt->instr_used = (int64_t)ctx;  // the call's instructions counted against its own budget only
    atomic_fetch_sub(&rt->contained, 1);
    if (status == LUA_OK || status == LUA_YIELD) {
        lua_pushboolean(L, 1);
        lua_insert(L, 1);
        return lua_gettop(L);
    }
    int memory = rt->limit == CXB_LIMIT_INSTRUCTIONS || rt->limit == CXB_LIMIT_BREAK ? 0 : cxb_memory_recovered(L, rt, status);
    if (memory < 0) return lua_error(L);  // the run holds the memory: its end, at the refused line
    if (rt->limit == CXB_LIMIT_INSTRUCTIONS || rt->limit == CXB_LIMIT_BREAK || memory > 0) {
        rt->limit = CXB_LIMIT_NONE;
        atomic_store(&rt->brk, 0);
        lua_sethook(L, cxb_hook, LUA_MASKCOUNT, CXB_HOOK_STEP);
    }
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
}

int cxb_contained_call(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    CXBRuntime *rt = cxb_runtime(L);
    lua_KContext used = (lua_KContext)rt->instr_used;  // the caller's count, restored at the end
    rt->instr_used = 0;
    atomic_store(&rt->brk, 0);
    atomic_fetch_add(&rt->contained, 1);
    int status = lua_pcallk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, used, cxb_contained_done);
    return cxb_contained_done(L, status, used);
}
