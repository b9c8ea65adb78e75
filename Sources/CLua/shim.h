// The system's Lua 5.4 (Debian: liblua5.4-dev); include paths come from pkg-config `lua5.4`.
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
