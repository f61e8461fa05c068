/* lineedit.c: `lpose.lineedit`, a small binding of libedit's readline-
 * compatible API for the REPL (docs/design/embedding.md). libedit is BSD-licensed;
 * GNU readline would make the executable GPL.
 *
 *   readline(prompt [, complete]) -> line | nil (end of input) | nil, "interrupted"
 *   add_history(line)   read_history(path)   write_history(path)
 *   stifle_history(n)   isatty(fd) -> boolean
 *
 * The history functions work without a terminal; readline() is meant for
 * a TTY (the REPL reads pipes with io.read instead).
 *
 * Tab completion: while readline(prompt, complete) waits for a line, TAB
 * calls complete(word, before) in Lua, on this thread (libedit calls back
 * from inside readline()): `word` is the text before the cursor back to a
 * break character (so "lpose.ten", "x:vi", "a*x:vi"; '.', ':' and operators
 * do not break; spaces, quotes, brackets, '=', ',' and ';' do), and
 * `before` the line before that word. It returns a list of replacements for
 * the word ({"lpose.tensor"}), or nil to let libedit complete file names.
 * The call is protected: an error in it completes nothing. */
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

/* ---------------------------------------------------------------- completion */

/* Set only while le_readline runs with a completer. */
static lua_State *complete_L;
static int complete_ref = LUA_NOREF;

/* The candidates of the last call, handed to libedit one by one. */
static char **complete_list;
static size_t complete_n, complete_next;

struct complete_args {
    const char *word;
    const char *line;
    size_t before_len;
    int use_files; /* out: the completer returned nil */
};

static void free_candidates(void)
{
    for (size_t i = 0; i < complete_n; i++)
        free(complete_list[i]);
    free(complete_list);
    complete_list = NULL;
    complete_n = complete_next = 0;
}

/* Runs under lua_cpcall, so no Lua error can unwind through libedit. */
static int call_completer(lua_State *L)
{
    struct complete_args *a = lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, complete_ref);
    lua_pushstring(L, a->word);
    lua_pushlstring(L, a->line, a->before_len);
    lua_call(L, 2, 1);
    if (lua_isnil(L, -1)) {
        a->use_files = 1;
        return 0;
    }
    if (!lua_istable(L, -1))
        return 0;
    size_t n = lua_objlen(L, -1);
    complete_list = calloc(n + 1, sizeof *complete_list);
    if (complete_list == NULL)
        return 0;
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, (int)i);
        const char *s = lua_tostring(L, -1);
        char *copy = s != NULL ? strdup(s) : NULL;
        if (copy != NULL)
            complete_list[complete_n++] = copy;
        lua_pop(L, 1);
    }
    return 0;
}

/* libedit's generator protocol: state 0 starts over; each string returned
 * is malloc'ed and becomes libedit's. */
static char *next_candidate(const char *text, int state)
{
    (void)text;
    if (state == 0)
        complete_next = 0;
    if (complete_next >= complete_n)
        return NULL;
    char *s = complete_list[complete_next];
    complete_list[complete_next++] = NULL;
    return s;
}

static char **attempted_completion(const char *text, int start, int end)
{
    struct complete_args a = {text, rl_line_buffer, start > 0 ? (size_t)start : 0, 0};
    char **matches = NULL;
    (void)end;
    rl_completion_append_character = '\0'; /* "x:view(" must not become "x:view( " */
    if (complete_L == NULL || complete_ref == LUA_NOREF || rl_line_buffer == NULL)
        return NULL;
    free_candidates();
    int top = lua_gettop(complete_L);
    int status = lua_cpcall(complete_L, call_completer, &a);
    lua_settop(complete_L, top);
    if (status == 0 && a.use_files) {
        free_candidates();
        return NULL; /* libedit goes on with file names */
    }
    rl_attempted_completion_over = 1;
    if (status == 0 && complete_n > 0)
        matches = rl_completion_matches(text, next_candidate);
    free_candidates();
    return matches;
}

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

    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TFUNCTION);
        lua_pushvalue(L, 2);
        complete_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        complete_L = L;
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    got_sigint = 0;
    sigaction(SIGINT, &sa, &old);
    line = readline(prompt);
    sigaction(SIGINT, &old, NULL);
    if (complete_L != NULL) {
        luaL_unref(L, LUA_REGISTRYINDEX, complete_ref);
        complete_ref = LUA_NOREF;
        complete_L = NULL;
    }

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
    /* A word for completion runs back to one of these. Not '.' or ':', so
     * "lpose.ten" and "x:vi" are one word, nor '/', '-', '~' (file names
     * in strings); the completer finds the names at the end of "a+lpose.ten"
     * itself. Quotes break, so a file name in a string is a word. */
    rl_basic_word_break_characters = " \t\n\"'`=(){}[],;";
    rl_attempted_completion_function = attempted_completion;
    using_history();
    lua_newtable(L);
    luaL_register(L, NULL, funcs);
    return 1;
}
