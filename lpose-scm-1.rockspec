rockspec_format = "3.0"
package = "lpose"
version = "scm-1"
source = { url = "git+https://example.invalid/lpose.git" }
description = {
   summary = "Animal pose estimation with temporal context: a C core over libtorch, scripted in LuaJIT",
   detailed = [[
lpose trains and runs Lightning Pose's Temporal Context Network (heatmap_mhcrnn)
and single-frame heatmap models. Its engine is C over libtorch (through an
extern "C" shim) with FFmpeg for video; experiments are Lua scripts.
]],
   license = "MIT",
}
-- "lua == 5.1" means LuaJIT: the Lua side uses the FFI.
dependencies = { "lua == 5.1" }
external_dependencies = {
   TORCH = { header = "torch/csrc/api/include/torch/torch.h" },
   LIBAV = { header = "libavformat/avformat.h" },
   CAIRO = { header = "cairo/cairo.h" },
   PANGO = { header = "pango-1.0/pango/pangocairo.h" },
}
build = {
   type = "make",
   build_variables = {
      CFLAGS = "$(CFLAGS)",
      LUA_INCDIR = "$(LUA_INCDIR)",
   },
   install_variables = {
      INST_PREFIX = "$(PREFIX)",
      INST_BINDIR = "$(BINDIR)",
      INST_LIBDIR = "$(LIBDIR)",
      INST_LUADIR = "$(LUADIR)",
   },
   copy_directories = { "docs" },
}
test_dependencies = { "busted" }
test = { type = "command", command = "make test" }
