/* lineedit.c: `lpose.lineedit`, a small binding of libedit's readline-
 * compatible API for the REPL (design.md §8). libedit is BSD-licensed;
 * GNU readline would make the executable GPL.
 *
 *   readline(prompt)    -> line | nil (end of input) | nil, "interrupted"
 *   add_history(line)   read_history(path)   write_history(path)
 *   stifle_history(n)   isatty(fd) -> boolean
 *
 * The history functions work without a terminal; readline() is meant for
 * a TTY (the REPL reads pipes with io.read instead). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include <lauxlib.h>
#include <lua.h>

#include "lineedit.h"

static volatile sig_atomic_t got_sigint;

static void on_sigint(int signo)
{
    (void)signo;
    got_sigint = 1;
}

/* While a line is being typed, Ctrl-C only sets a flag: without SA_RESTART
 * the terminal read fails with EINTR, readline() returns NULL, and the flag
 * tells that NULL apart from end of input. The caller's handler (the Lua
 * "interrupted!" hook of lpose.c) is put back before returning, so the
 * hook never fires inside libedit, where a longjmp would leave the terminal
 * in raw mode. */
static int le_readline(lua_State *L)
{
    const char *prompt = luaL_optstring(L, 1, "");
    struct sigaction sa, old;
    char *line;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    got_sigint = 0;
    sigaction(SIGINT, &sa, &old);
    line = readline(prompt);
    sigaction(SIGINT, &old, NULL);

    if (line == NULL || got_sigint) {
        free(line);
        lua_pushnil(L);
        if (!got_sigint)
            return 1;
        lua_pushliteral(L, "interrupted");
        return 2;
    }
    lua_pushstring(L, line);
    free(line);
    return 1;
}

static int le_add_history(lua_State *L)
{
    add_history(luaL_checkstring(L, 1));
    return 0;
}

/* Both return true, or nil and a message (libedit returns an errno-like
 * code or -1; errno is the better description when it is set). */
static int push_result(lua_State *L, int rc, const char *what, const char *path)
{
    if (rc == 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushfstring(L, "%s %s: %s", what, path, rc > 0 ? strerror(rc) : "failed");
    return 2;
}

static int le_read_history(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    return push_result(L, read_history(path), "cannot read history", path);
}

static int le_write_history(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    return push_result(L, write_history(path), "cannot write history", path);
}

static int le_stifle_history(lua_State *L)
{
    stifle_history((int)luaL_checkinteger(L, 1));
    return 0;
}

static int le_isatty(lua_State *L)
{
    lua_pushboolean(L, isatty((int)luaL_optinteger(L, 1, 0)));
    return 1;
}

static const luaL_Reg funcs[] = {
    {"readline", le_readline},
    {"add_history", le_add_history},
    {"read_history", le_read_history},
    {"write_history", le_write_history},
    {"stifle_history", le_stifle_history},
    {"isatty", le_isatty},
    {NULL, NULL},
};

int luaopen_lpose_lineedit(lua_State *L)
{
    rl_readline_name = "lpose"; /* "lpose:" lines in ~/.editrc apply */
    /* libedit's own handlers would re-send SIGINT to the whole process
     * group (kill(0, ...)); le_readline handles it instead. */
    rl_catch_signals = 0;
    using_history();
    lua_newtable(L);
    luaL_register(L, NULL, funcs);
    return 1;
}
