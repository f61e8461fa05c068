/* fuzz_config.c: the YAML config loader (lua/lpose/config.lua: YAML events,
 * merge over configs/config_default.yaml, ${...} interpolation, Hydra-style
 * overrides, validation), run from an embedded LuaJIT state as `lpose`
 * runs it. An input is YAML text, optionally followed by a line "#@" and
 * then one override per line ("training.max_epochs=3"). A Lua error is the
 * loader refusing the input (fine); a hang, a crash in libyaml/LuaJIT or a
 * sanitizer report is a finding. LPOSE_SOURCE_LUA is set by tests/fuzz/fuzz.mk.
 *
 * The loader is Lua, which clang's coverage cannot see, so a line hook feeds
 * libFuzzer Lua "edges" (previous line -> line, per chunk) through its extra
 * counters; the JIT is off so that the hook sees every line. Each input ends
 * with a full GC: LuaJIT's heap is not malloc memory, so LeakSanitizer cannot
 * see the references it holds (lua-yaml's parser buffers) until they are freed. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "fuzz_util.h"

static lua_State *L;
static int load_ref = LUA_NOREF;

/* libFuzzer reads this section as extra coverage counters (ignored without libFuzzer). */
static uint8_t lua_edges[1 << 16] __attribute__((section("__libfuzzer_extra_counters"), used));
static uintptr_t prev_line;

static void line_hook(lua_State *l, lua_Debug *ar) {
    if (!lua_getinfo(l, "S", ar)) return;
    uintptr_t here = ((uintptr_t)ar->source * 31u) ^ (uintptr_t)ar->currentline;
    uintptr_t edge = (here ^ (prev_line >> 1)) * 2654435761u;
    prev_line = here;
    uint8_t *c = &lua_edges[(edge >> 7) & (sizeof lua_edges - 1)];
    if (*c < 255) ++*c;
}

static const char *loader =
    "package.path = '" LPOSE_SOURCE_LUA "/?.lua;" LPOSE_SOURCE_LUA "/?/init.lua;' .. package.path\n"
    "local config = require('lpose.config')\n"
    "return function(path, overrides)\n"
    "    local ok, cfg = pcall(config.load, { file = path, overrides = overrides })\n"
    "    if ok then config.get(cfg, 'data.num_keypoints') end\n"
    "end\n";

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    L = luaL_newstate();
    luaL_openlibs(L);
    if (luaL_dostring(L, "require('jit').off()") != 0) abort();
    if (luaL_dostring(L, loader) != 0) {
        fprintf(stderr, "fuzz_config: %s\n", lua_tostring(L, -1));
        abort();
    }
    load_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_sethook(L, line_hook, LUA_MASKLINE, 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char mark[] = "\n#@\n";
    const uint8_t *split = NULL;
    for (size_t i = 0; i + 4 <= size && !split; ++i)
        if (memcmp(data + i, mark, 4) == 0) split = data + i;
    size_t yaml_len = split ? (size_t)(split - data) + 1 : size;
    const char *path = fuzz_temp_file(data, yaml_len, ".yaml");
    if (!path) return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, load_ref);
    lua_pushstring(L, path);
    lua_newtable(L);
    if (split) {
        const char *p = (const char *)split + 4, *end = (const char *)data + size;
        int n = 0;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (len) {
                lua_pushlstring(L, p, len);
                lua_rawseti(L, -2, ++n);
            }
            p += len + 1;
        }
    }
    prev_line = 0;
    if (lua_pcall(L, 2, 0, 0) != 0) lua_pop(L, 1); /* errors outside config.load: the harness's own */
    lua_gc(L, LUA_GCCOLLECT, 0);
    return 0;
}
