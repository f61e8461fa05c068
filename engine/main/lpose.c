/* lpose.c: the lpose executable (docs/design/architecture.md, docs/design/embedding.md), modeled on LuaJIT's
 * luajit.c. It builds the Lua state, points package.path at lpose's Lua
 * tree and hands control to require('lpose.cli').main(arg); the CLI and
 * the REPL are Lua. Only engine/main/ includes lua.h.
 *
 * Exit status: what main(arg) returns (a number; true or nil -> 0, false
 * -> 1), or 2 when an error escapes the CLI itself (a crash: the traceback
 * is printed), or 130 when what escapes is the "interrupted!" of a Ctrl-C
 * or SIGTERM. The CLI decides which errors are expected (exit 1). */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lineedit.h"
#include "lpose.h"

#ifndef LPOSE_VERSION
#define LPOSE_VERSION "unknown"
#endif
#ifndef LPOSE_SOURCE_LUA
#define LPOSE_SOURCE_LUA ""
#endif

static lua_State *globalL;
static const char *progname = "lpose";

/* ---------------------------------------------------------------- Ctrl-C, SIGTERM
 * As in luajit.c: the signal handler only sets a hook, and the hook raises
 * "interrupted!" at the next Lua instruction, so the error unwinds through
 * Lua like any other and a REPL survives it. Long C calls run no hook: the
 * handler also sets the engine's interrupt flag (lp_interrupt_request), which
 * they poll; they stop, remove their temporary files and return
 * LP_STATUS_INTERRUPTED ("...: interrupted!"), which Lua raises.
 *
 * A second signal during the same protected call ends the process at once
 * (a process stuck in a long C call, or in a loop that LuaJIT compiled:
 * compiled traces do not run hooks). The temporary files the engine is
 * writing are unlinked first (lp_tmp_remove_all; final names are never half
 * written), then the signal is raised again with its default action.
 *
 * SIGTERM (kill, Slurm) is handled like SIGINT, except in the REPL
 * (host.trap_sigterm(false)), where it ends the session as usual.
 *
 * Code that must finish what it started (a training step: the weights and
 * the step counter change together) asks for deferred interrupts
 * (host.defer_interrupts(true)): the first signal then only sets the engine
 * flag, which that code polls between its units of work. */
static volatile sig_atomic_t n_signals; /* signals seen in the current protected call */
static volatile sig_atomic_t defer_hook; /* 1: the first signal sets the flag only */
static int trap_sigterm = 1;
static struct sigaction sigterm_default; /* SIGTERM's disposition at start-up */

static void lstop(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    /* Not luaL_error: a C hook adds no extra frame. */
    luaL_where(L, 0);
    lua_pushfstring(L, "%sinterrupted!", lua_tostring(L, -1));
    lua_error(L);
}

static void laction(int signo)
{
    if (n_signals > 0) {
        lp_tmp_remove_all();
        signal(signo, SIG_DFL);
        raise(signo); /* blocked until this handler returns, then fatal */
        return;
    }
    n_signals = 1;
    lp_interrupt_request();
    if (!defer_hook)
        lua_sethook(globalL, lstop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

static void signal_action(struct sigaction *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sa_handler = laction;
    sigemptyset(&sa->sa_mask);
    sigaddset(&sa->sa_mask, SIGINT);
    sigaddset(&sa->sa_mask, SIGTERM);
    sa->sa_flags = SA_RESTART;
}

/* Message handler: the message plus a traceback. A non-string error
 * without __tostring is returned as is, so the CLI can tell it apart. */
static int traceback(lua_State *L)
{
    if (!lua_isstring(L, 1)) {
        if (lua_isnoneornil(L, 1) || !luaL_callmeta(L, 1, "__tostring") || !lua_isstring(L, -1))
            return 1;
        lua_remove(L, 1);
    }
    luaL_traceback(L, L, lua_tostring(L, 1), 1);
    return 1;
}

/* lua_pcall with Ctrl-C (and SIGTERM) armed for the duration of the call.
 * The previous handlers come back afterwards (nested calls keep the outer
 * one armed), except that an ignored signal (nohup, background jobs) stays
 * ignored. After a signal the engine's flag is cleared, so the caller (a
 * REPL going on) starts afresh. */
static int protected_call(lua_State *L, int narg, int nres, int errfunc)
{
    struct sigaction sa, old_int, old_term;
    sig_atomic_t outer = n_signals;
    int status, trap_term = trap_sigterm;

    signal_action(&sa);
    sigaction(SIGINT, NULL, &old_int);
    sigaction(SIGTERM, NULL, &old_term);
    n_signals = 0;
    if (old_int.sa_handler != SIG_IGN)
        sigaction(SIGINT, &sa, NULL);
    if (trap_term && old_term.sa_handler != SIG_IGN)
        sigaction(SIGTERM, &sa, NULL);
    status = lua_pcall(L, narg, nres, errfunc);
    sigaction(SIGINT, &old_int, NULL);
    if (trap_term)
        sigaction(SIGTERM, &old_term, NULL);
    /* A Ctrl-C after the last Lua instruction of the call must not fire
     * later in the caller's code. */
    if (lua_gethook(L) == lstop)
        lua_sethook(L, NULL, 0, 0);
    if (n_signals > 0)
        lp_interrupt_clear();
    n_signals = outer;
    /* luajit.c: a failed computation may leave big garbage (tensors). */
    if (status != LUA_OK)
        lua_gc(L, LUA_GCCOLLECT, 0);
    return status;
}

/* ---------------------------------------------------------------- lpose.cli.host
 * What only the executable can provide to the Lua CLI. Plain `luajit` has
 * no such module and the CLI falls back to xpcall. */

/* host.pcall(f, handler, ...) -> true, results... | false, handler(err):
 * xpcall with Ctrl-C armed, so each REPL evaluation can be interrupted. */
static int host_pcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 1, LUA_TFUNCTION);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 1); /* swap: handler, f, args... */
    lua_pushvalue(L, 2);
    lua_replace(L, 1);
    lua_replace(L, 2);
    int status = protected_call(L, n - 2, LUA_MULTRET, 1);
    lua_pushboolean(L, status == LUA_OK);
    lua_replace(L, 1);
    return lua_gettop(L);
}

/* host.trap_sigterm(on) -> previous: handle SIGTERM like Ctrl-C (the
 * default), or leave it to end the process (the REPL). */
static int host_trap_sigterm(lua_State *L)
{
    int previous = trap_sigterm;
    struct sigaction sa;

    trap_sigterm = lua_toboolean(L, 1);
    if (!trap_sigterm) {
        sigaction(SIGTERM, &sigterm_default, NULL);
    } else if (sigterm_default.sa_handler != SIG_IGN) {
        signal_action(&sa);
        sigaction(SIGTERM, &sa, NULL);
    }
    lua_pushboolean(L, previous);
    return 1;
}

/* host.defer_interrupts(on) -> previous: on, Ctrl-C and SIGTERM only set
 * the engine's flag (lp_interrupt_pending), which the caller polls at points
 * where stopping is safe; a second signal still ends the process. */
static int host_defer_interrupts(lua_State *L)
{
    int previous = defer_hook;
    defer_hook = lua_toboolean(L, 1);
    lua_pushboolean(L, previous);
    return 1;
}

static int open_host(lua_State *L)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);

    lua_newtable(L);
    lua_pushcfunction(L, host_pcall);
    lua_setfield(L, -2, "pcall");
    lua_pushcfunction(L, host_trap_sigterm);
    lua_setfield(L, -2, "trap_sigterm");
    lua_pushcfunction(L, host_defer_interrupts);
    lua_setfield(L, -2, "defer_interrupts");
    lua_pushliteral(L, LPOSE_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushstring(L, lp_version());
    lua_setfield(L, -2, "engine_version");
    lua_pushstring(L, len > 0 ? (exe[len] = '\0', exe) : progname);
    lua_setfield(L, -2, "executable");
    return 1;
}

/* ---------------------------------------------------------------- start-up */

static int is_dir(const char *path)
{
    struct stat st;
    return path[0] != '\0' && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Lua modules come first from $LPOSE_LUA_PATH, else from the source tree
 * of a dev build (edits take effect at once), else, once installed, from
 * <prefix>/share/lua/5.1 next to <prefix>/bin/lpose: that copy matches
 * this executable, so it goes before the system-wide path. */
static void set_package_path(lua_State *L)
{
    const char *env = getenv("LPOSE_LUA_PATH");
    char exe[PATH_MAX];
    ssize_t len;

    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    const char *cur = lua_tostring(L, -1);
    if (env != NULL && env[0] != '\0') {
        lua_pushfstring(L, "%s;%s", env, cur);
    } else if (is_dir(LPOSE_SOURCE_LUA)) {
        lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s", LPOSE_SOURCE_LUA, LPOSE_SOURCE_LUA, cur);
    } else if ((len = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL)
            *slash = '\0';
        lua_pushfstring(L, "%s/../share/lua/5.1/?.lua;%s/../share/lua/5.1/?/init.lua;%s", exe, exe, cur);
    } else {
        lua_pushstring(L, cur);
    }
    lua_setfield(L, -3, "path");
    lua_pop(L, 2);
}

static void preload(lua_State *L, const char *name, lua_CFunction open)
{
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, open);
    lua_setfield(L, -2, name);
    lua_pop(L, 2);
}

/* arg[0] is the program as invoked, arg[1..] its arguments (luajit.c); the
 * `run` command rebuilds it for the script. */
static void create_arg(lua_State *L, int argc, char **argv)
{
    lua_createtable(L, argc, 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    lua_setglobal(L, "arg");
}

static int run_cli(lua_State *L)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "lpose.cli");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "main");
    lua_getglobal(L, "arg");
    lua_call(L, 1, 1);
    return 1;
}

struct smain {
    int argc;
    char **argv;
    int status;
};

static int pmain(lua_State *L)
{
    struct smain *s = lua_touserdata(L, 1);
    globalL = L;

    lua_gc(L, LUA_GCSTOP, 0); /* luajit.c: no collections while the libs load */
    luaL_openlibs(L);
    lua_gc(L, LUA_GCRESTART, -1);
    set_package_path(L);
    preload(L, "lpose.lineedit", luaopen_lpose_lineedit);
    preload(L, "lpose.cli.host", open_host);
    create_arg(L, s->argc, s->argv);

    lua_pushcfunction(L, traceback);
    lua_pushcfunction(L, run_cli);
    if (protected_call(L, 0, 1, -2) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        if (msg == NULL)
            msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, -1));
        const char *nl = strchr(msg, '\n');
        size_t first = nl != NULL ? (size_t)(nl - msg) : strlen(msg);
        if (first >= 12 && strncmp(msg + first - 12, "interrupted!", 12) == 0) {
            /* a Ctrl-C or SIGTERM that no command handled: not a crash */
            fprintf(stderr, "%s: interrupted\n", progname);
            s->status = 130;
        } else {
            fprintf(stderr, "%s: internal error: %s\n", progname, msg);
            s->status = 2;
        }
    } else if (lua_isnumber(L, -1)) {
        s->status = (int)lua_tointeger(L, -1);
    } else {
        s->status = lua_isnil(L, -1) || lua_toboolean(L, -1) ? 0 : 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct smain s = {argc, argv, 0};
    lua_State *L;

    if (argv[0] != NULL && argv[0][0] != '\0')
        progname = argv[0];
    sigaction(SIGTERM, NULL, &sigterm_default);
    /* Threads and malloc tuning first, before anything big is allocated. */
    if (lp_runtime_init(0) != LP_STATUS_OK)
        fprintf(stderr, "%s: warning: %s\n", progname, lp_last_error());
    L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "%s: cannot create state: not enough memory\n", progname);
        return 2;
    }
    if (lua_cpcall(L, pmain, &s) != LUA_OK) { /* e.g. out of memory in openlibs */
        fprintf(stderr, "%s: %s\n", progname, lua_isstring(L, -1) ? lua_tostring(L, -1) : "error");
        s.status = 2;
    }
    fflush(stdout);
    lua_close(L);
    return s.status;
}
