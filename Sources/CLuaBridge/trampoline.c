// The trampoline every Swift binding is called through, and the protected ways into Lua.
// Swift returns a sentinel; raising and yielding happen here, after the Swift frame is gone.
#include "CLuaBridge.h"
#include "runtime_internal.h"

#include <stdlib.h>
#include <string.h>

static char cxb_marker_storage;

void *cxb_yield_marker(void) { return &cxb_marker_storage; }

static void cxb_prefix_where(lua_State *L) {
    if (lua_type(L, -1) != LUA_TSTRING) return;
    luaL_where(L, 1);
    lua_rotate(L, -2, 1);
    lua_concat(L, 2);
}

// Resumed after a binding yielded for host work: stack = binding args, then `ok, ...` from the
// scheduler. ok = false carries (error value, prefix-position flag).
static int cxb_continue(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    int base = (int)ctx;
    CXBRuntime *rt = cxb_runtime(L);
    if (rt->limit != CXB_LIMIT_NONE) return cxb_raise_limit(L, rt, 1);
    if (lua_toboolean(L, base + 1)) return lua_gettop(L) - base - 1;
    lua_settop(L, base + 3);
    int where = lua_toboolean(L, base + 3);
    lua_settop(L, base + 2);
    if (where) cxb_prefix_where(L);
    return lua_error(L);
}

static int cxb_trampoline(lua_State *L) {
    CXBRuntime *rt = cxb_runtime(L);
    // A limit already hit (memory refused inside a pcall the script caught): no binding starts
    // after it, so nothing is sent, printed or written once the run is over.
    if (rt->limit != CXB_LIMIT_NONE) return cxb_raise_limit(L, rt, 1);
    int binding = (int)lua_tointegerx(L, lua_upvalueindex(1), NULL);
    int saved = rt->in_host;
    rt->in_host = 1;
    int r = rt->dispatch(L, rt->host, binding);
    rt->in_host = saved;
    if (rt->over_budget) {
        rt->over_budget = 0;
        cxb_trip(rt, CXB_LIMIT_MEMORY);
        return cxb_raise_limit(L, rt, 1);
    }
    if (r >= 0) return r;
    switch (r) {
    case CXB_RAISE:
        return lua_error(L);
    case CXB_RAISE_WHERE:
        cxb_prefix_where(L);
        return lua_error(L);
    case CXB_YIELD:
        return lua_yieldk(L, 2, (lua_KContext)(lua_gettop(L) - 2), cxb_continue);
    default:
        return luaL_error(L, "host binding %d returned an invalid result (%d)", binding, r);
    }
}

void cxb_push_binding(lua_State *L, int binding) {
    lua_pushinteger(L, binding);
    lua_pushcclosure(L, cxb_trampoline, 1);
}

int cxb_resume(lua_State *co, lua_State *from, int nargs, int *nresults) {
    CXBRuntime *rt = cxb_runtime(co);
    int saved = rt->in_host;
    lua_State *running = rt->running;
    rt->in_host = 0;
    rt->running = co;
    int status = lua_resume(co, from, nargs, nresults);
    rt->in_host = saved;
    rt->running = running;
    return status;
}

static int cxb_message_handler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int cxb_pcall_traceback(lua_State *L, int nargs, int nresults) {
    CXBRuntime *rt = cxb_runtime(L);
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, cxb_message_handler);
    lua_rotate(L, base, 1);
    int saved = rt->in_host;
    rt->in_host = 0;
    int status = lua_pcall(L, nargs, nresults, base);
    rt->in_host = saved;
    lua_rotate(L, base, -1);
    lua_settop(L, lua_gettop(L) - 1);
    return status;
}

int cxb_load_text(lua_State *L, const char *buf, size_t len, const char *chunkname) {
    return luaL_loadbufferx(L, buf, len, chunkname, "t");
}

typedef struct {
    unsigned char *data;
    size_t size, capacity;
} cxb_dump_buffer;

static int cxb_dump_writer(lua_State *L, const void *p, size_t sz, void *ud) {
    (void)L;
    cxb_dump_buffer *b = ud;
    if (b->size + sz > b->capacity) {
        size_t capacity = b->capacity ? b->capacity : 4096;
        while (capacity < b->size + sz) capacity *= 2;
        unsigned char *grown = realloc(b->data, capacity);
        if (grown == NULL) return 1;
        b->data = grown;
        b->capacity = capacity;
    }
    memcpy(b->data + b->size, p, sz);
    b->size += sz;
    return 0;
}

int cxb_dump(lua_State *L, unsigned char **out, size_t *size) {
    cxb_dump_buffer b = { NULL, 0, 0 };
    int status = lua_dump(L, cxb_dump_writer, &b, 0);
    if (status != 0) {
        free(b.data);
        return status;
    }
    *out = b.data;
    *size = b.size;
    return 0;
}

void cxb_dump_free(unsigned char *data) { free(data); }

int cxb_reset_thread(lua_State *co) {
    CXBRuntime *rt = cxb_runtime(co);
    int saved = rt->in_host;
    rt->in_host = 0;
    int status = lua_resetthread(co);
    rt->in_host = saved;
    return status;
}

static int cxb_tostring_cfunction(lua_State *L) {
    luaL_tolstring(L, 1, NULL);
    return 1;
}

int cxb_safe_tostring(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) == LUA_TSTRING) {
        lua_pushvalue(L, idx);
        return 1;
    }
    CXBRuntime *rt = cxb_runtime(L);
    lua_pushcfunction(L, cxb_tostring_cfunction);
    lua_pushvalue(L, idx);
    int saved = rt->in_host;
    rt->in_host = 0;
    int status = lua_pcall(L, 1, 1, 0);
    rt->in_host = saved;
    if (status == LUA_OK && lua_type(L, -1) == LUA_TSTRING) return 1;
    lua_settop(L, lua_gettop(L) - 1);
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, idx));
    return 0;
}

void cxb_traceback(lua_State *L, lua_State *co, const char *msg, int level) {
    luaL_traceback(L, co, msg, level);
}

void cxb_where(lua_State *L, lua_State *co, const char *skip_source) {
    lua_Debug ar;
    for (int level = 0; lua_getstack(co, level, &ar); level++) {
        if (lua_getinfo(co, "Sl", &ar) && ar.currentline > 0 &&
            (skip_source == NULL || strcmp(ar.source, skip_source) != 0)) {
            lua_pushfstring(L, "%s:%d", ar.short_src, ar.currentline);
            return;
        }
    }
    lua_pushliteral(L, "");
}

static int cxb_openlibs_cfunction(lua_State *L) {
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},       {LUA_COLIBNAME, luaopen_coroutine},
        {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8},
        {LUA_OSLIBNAME, luaopen_os},     {NULL, NULL},
    };
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_settop(L, 0);
    }
    return 0;
}

int cxb_open_safe_libs(lua_State *L) {
    lua_pushcfunction(L, cxb_openlibs_cfunction);
    return cxb_pcall_traceback(L, 0, 0);
}

static int cxb_null_tostring(lua_State *L) {
    lua_pushliteral(L, "null");
    return 1;
}

void cxb_push_null_sentinel(lua_State *L) {
    lua_newuserdatauv(L, 0, 0);
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, cxb_null_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "null");
    lua_setfield(L, -2, "__name");
    lua_pushliteral(L, "null");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}

// ---------------------------------------------------------------------------------------------
// A task's body runs under a protected call inside its own coroutine. When the script raises,
// its to-be-closed variables close there, during the unwind, where bindings can still yield
// (lua_resetthread would close them with yields forbidden, so a `<close>` handler calling a
// binding would never finish). The message handler runs before the unwind and records where the
// error was raised and the traceback, for the scheduler to report once the error is re-raised.

static const char cxb_failures_key = 'f';
static const char cxb_origins_key = 'o';

/// Pushes the registry's weak-keyed table under `key`, creating it on first use.
static void cxb_push_weak_table(lua_State *L, const char *key) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");  // weak keys: a collected key takes its record along
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, key);
    }
}

/// Pushes `{where, traceback}` of the running code of L, as a message handler sees it.
static void cxb_push_place(lua_State *L) {
    lua_createtable(L, 2, 0);
    cxb_where(L, L, CXB_HOST_CHUNK);
    lua_rawseti(L, -2, 1);
    luaL_traceback(L, L, NULL, 1);
    lua_rawseti(L, -2, 2);
}

// A table error (a binding's failure) carries no position of its own, and is often re-raised far
// from where it was raised: `cx.wait` raises a task's error in the waiter, `cx.each` a worker's
// in its caller. Its first message handler notes where it was raised, so the run reports the
// binding's line, not the line of the wait. A string error names its line in its text already.

/// For a table error value at the top of L: records where it is raised now, unless an earlier
/// handler did. Then pushes the record (the first one).
static void cxb_push_origin(lua_State *L) {
    int err = lua_gettop(L);
    cxb_push_weak_table(L, &cxb_origins_key);
    lua_pushvalue(L, err);
    if (lua_rawget(L, -2) == LUA_TTABLE) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, err);
    cxb_push_place(L);
    lua_pushvalue(L, -1);
    lua_insert(L, -4);  // the record, below the origins table, the key and the record
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

int cxb_origin_msgh(lua_State *L) {
    if (lua_istable(L, 1) && lua_checkstack(L, 8)) cxb_push_origin(L);
    lua_settop(L, 1);
    return 1;
}

static int cxb_task_msgh(lua_State *L) {
    if (!lua_checkstack(L, 8)) return 1;
    lua_settop(L, 1);
    cxb_push_weak_table(L, &cxb_failures_key);
    lua_pushthread(L);
    if (lua_istable(L, 1)) {
        lua_pushvalue(L, 1);
        cxb_push_origin(L);
        lua_remove(L, -2);
        lua_rawgeti(L, -1, 2);  // the traceback where it was raised
        lua_pushliteral(L, "\n");
        luaL_traceback(L, L, NULL, 1);  // and where it surfaced, when elsewhere
        if (lua_rawequal(L, -1, -3)) lua_pop(L, 2);
        else lua_concat(L, 3);
        lua_createtable(L, 2, 0);
        lua_rawgeti(L, -3, 1);
        lua_rawseti(L, -2, 1);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 2);
        lua_remove(L, -2);
    } else {
        cxb_push_place(L);
    }
    lua_rawset(L, -3);
    lua_settop(L, 1);
    return 1;  // the error value itself: a table error keeps its identity
}

static int cxb_task_body_k(lua_State *L, int status, lua_KContext ctx) {
    (void)ctx;
    if (status != LUA_OK && status != LUA_YIELD) return lua_error(L);  // already closed; re-raise
    return lua_gettop(L) - 1;  // every result above the message handler
}

static int cxb_task_body(lua_State *L) {
    int nargs = lua_gettop(L) - 1;
    lua_pushcfunction(L, cxb_task_msgh);
    lua_insert(L, 1);
    int status = lua_pcallk(L, nargs, LUA_MULTRET, 1, 0, cxb_task_body_k);
    return cxb_task_body_k(L, status, 0);
}

void cxb_push_task_body(lua_State *L) { lua_pushcfunction(L, cxb_task_body); }

int cxb_task_failure(lua_State *L, lua_State *co) {
    if (!lua_checkstack(L, 4) || !lua_checkstack(co, 1)) return 0;
    cxb_push_weak_table(L, &cxb_failures_key);
    lua_pushthread(co);
    lua_xmove(co, L, 1);
    lua_rawget(L, -2);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 2);
        return 0;
    }
    lua_rawgeti(L, -1, 1);  // where
    lua_rawgeti(L, -2, 2);  // traceback
    lua_remove(L, -3);
    lua_remove(L, -3);
    return 1;
}
