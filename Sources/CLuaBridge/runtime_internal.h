// The runtime's fields: private to CLuaBridge (Swift sees an opaque pointer and accessors).
#ifndef CLUABRIDGE_RUNTIME_INTERNAL_H
#define CLUABRIDGE_RUNTIME_INTERNAL_H

#include <stdatomic.h>
#include "CLuaBridge.h"

/// The chunk name of the host's own Lua (the sandbox prelude and extensions): error positions
/// and tracebacks skip its frames (LuaHost's `preludeChunkName` is the same name).
#define CXB_HOST_CHUNK "=[cx]"

/// Instructions between two hook checks: small enough for a prompt stop, large enough to be free.
#define CXB_HOOK_STEP 1000

struct CXBRuntime {
    size_t mem_used, mem_peak, mem_cap, mem_reserve;
    int in_host;            // a host frame is on the C stack: allocations must not fail
    int over_budget;        // the host borrowed past the cap; raise at the next boundary
    atomic_int reserve_exhausted;  // the host borrowed past cap + reserve (read by the watchdog)
    int mem_refused;        // allocations refused or borrowed past the cap
    int refused_pending;    // the last growth request was refused (Lua may retry it once)
    void *refused_ptr;
    size_t refused_size;
    int64_t instr_budget, instr_used;
    double timeout, deadline;
    atomic_int interrupt;
    atomic_int brk;         // cxb_break: stop the running contained call
    atomic_int contained;   // contained calls running (read by cxb_break on other threads)
    CXBLimit limit;
    lua_State *running;     // the task thread the scheduler resumed last (cxb_resume)
    char refused_where[256];  // "script.lua:LINE" of the last refused allocation
    cxb_dispatch_fn dispatch;
    void *host;
};

/// Raises the error of the limit already recorded in `rt`, making the hook sticky on `L`;
/// `level` picks the stack level whose line prefixes the message (0 in hooks, 1 in C functions).
int cxb_raise_limit(lua_State *L, CXBRuntime *rt, int level);

#endif
