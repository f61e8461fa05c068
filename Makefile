# lpose: plain GNU Makefile (docs/design/house-style.md §5). Every path is a variable.
#
#   make deps        install the Debian packages lpose needs (idempotent, fast when done)
#   make             build/lpose and build/liblpose.so
#   make test        lint, check-cdef, check-c-layers, C tests, Lua specs; ends with "N passed, N failed"
#   make test-asan   C tests under AddressSanitizer (valgrind cannot run libtorch here)
#   make fuzz        every reader of outside bytes under libFuzzer (tests/fuzz/fuzz.mk)
#   make demo        the main job (see README.md)
#   LIBTORCH=/path/to/libtorch make    link a CUDA-enabled libtorch instead of Debian's

VERSION    := 0.1.0
BUILD      ?= build
PREFIX     ?= /usr/local
DESTDIR    ?=

CC         ?= gcc
CXX        ?= g++
OPT        ?= -O2 -g
CFLAGS     ?=
CXXFLAGS   ?=
LDFLAGS    ?=
SANITIZE   ?=

LIBTORCH   ?=
ifeq ($(LIBTORCH),)
TORCH_INC  ?= -isystem /usr/include/torch/csrc/api/include
TORCH_LIBS ?= -ltorch_cpu -lc10
else
# A libtorch distribution (or a pip torch's torch/ folder). --no-as-needed keeps
# libtorch_cuda linked: it registers the CUDA kernels from static constructors.
TORCH_INC  ?= -isystem $(LIBTORCH)/include -isystem $(LIBTORCH)/include/torch/csrc/api/include
TORCH_LIBS ?= -L$(LIBTORCH)/lib -Wl,-rpath,$(LIBTORCH)/lib -Wl,--no-as-needed \
              $(patsubst $(LIBTORCH)/lib/lib%.so,-l%,$(wildcard $(LIBTORCH)/lib/libtorch_cuda.so $(LIBTORCH)/lib/libc10_cuda.so)) \
              -ltorch_cpu -lc10 -Wl,--as-needed
endif

# LuaRocks passes LUA_INCDIR (lpose-scm-1.rockspec): its LuaJIT headers win.
ifneq ($(LUA_INCDIR),)
LUAJIT_CFLAGS ?= -I$(LUA_INCDIR)
endif
LUAJIT_CFLAGS ?= $(shell pkg-config --cflags luajit 2>/dev/null)
LUAJIT_LIBS   ?= $(shell pkg-config --libs luajit 2>/dev/null)
EDIT_CFLAGS   ?= $(shell pkg-config --cflags libedit 2>/dev/null)
EDIT_LIBS     ?= $(shell pkg-config --libs libedit 2>/dev/null)
AV_CFLAGS     ?= $(shell pkg-config --cflags libavformat libavcodec libswscale libavutil 2>/dev/null)
AV_LIBS       ?= $(shell pkg-config --libs libavformat libavcodec libswscale libavutil 2>/dev/null)
# cairo + pango draw the plots and the labeled frames (docs/design/decisions.md)
PLOT_CFLAGS   ?= $(shell pkg-config --cflags pangocairo cairo 2>/dev/null)
PLOT_LIBS     ?= $(shell pkg-config --libs pangocairo cairo 2>/dev/null)

# c10d process groups (engine/shim/dist.cpp): Gloo always; NCCL=1 with a CUDA
# libtorch that has NCCL (nccl.h on the include path).
DIST_FLAGS := -DUSE_C10D_GLOO $(if $(NCCL),-DUSE_C10D_NCCL)

WARN        := -Wall -Wextra -Wno-unused-parameter
ALL_CFLAGS  := -std=c11 -D_GNU_SOURCE -fPIC $(OPT) $(WARN) $(SANITIZE) -Iengine/include -Iengine/src $(AV_CFLAGS) $(PLOT_CFLAGS) $(CFLAGS)
ALL_CXXFLAGS:= -std=c++17 -fPIC $(OPT) $(WARN) $(SANITIZE) -fvisibility=hidden -Iengine/include $(TORCH_INC) $(DIST_FLAGS) $(CXXFLAGS)

HEADERS  := $(wildcard engine/include/*.h engine/include/lpose/*.h)
SHIM_SRC := $(sort $(wildcard engine/shim/*.cpp))
CORE_SRC := $(sort $(wildcard engine/src/*/*.c))
MAIN_SRC := $(sort $(wildcard engine/main/*.c))
TEST_SRC := $(filter-out tests/c/test_header_c99.c,$(sort $(wildcard tests/c/test_*.c)))

SHIM_OBJ := $(SHIM_SRC:%.cpp=$(BUILD)/obj/%.o)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(MAIN_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/c/%.c=$(BUILD)/tests/%)

LIB := $(BUILD)/liblpose.so
EXE := $(BUILD)/lpose

.PHONY: all deps test test-c test-lua test-gpu test-asan lint check-cdef check-c-layers cdef demo install clean bench
.DEFAULT_GOAL := all

all: deps $(LIB) $(EXE)

# ---------------------------------------------------------------- deps
DEB_PACKAGES := build-essential pkg-config libtorch-dev libopenblas0-openmp \
  luajit libluajit-5.1-dev lua-cjson lua-yaml lua-argparse lua-busted lua-check \
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg \
  libyaml-dev libedit-dev libgloo-dev zlib1g-dev \
  libcairo2-dev libpango1.0-dev fonts-dejavu-core
# headless browser for the `lpose report` page's test (tests/lua/report_html_spec.lua)
DEB_PACKAGES += chromium

deps:
	@./tools/deps.sh $(DEB_PACKAGES)

# ---------------------------------------------------------------- build
$(BUILD)/obj/%.o: %.cpp $(HEADERS) $(wildcard engine/shim/*.hpp)
	@mkdir -p $(dir $@)
	$(CXX) $(ALL_CXXFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c $(HEADERS) $(wildcard engine/src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/obj/engine/main/%.o: engine/main/%.c $(HEADERS) $(wildcard engine/main/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LUAJIT_CFLAGS) $(EDIT_CFLAGS) -DLPOSE_VERSION='"$(VERSION)"' \
	  -DLPOSE_SOURCE_LUA='"$(CURDIR)/lua"' -c $< -o $@

# The C kernels' threads are libgomp's, the pool libtorch runs on
# (engine/src/core/fork_join.c says why).
$(BUILD)/obj/engine/src/core/fork_join.o: ALL_CFLAGS += -fopenmp

$(LIB): $(SHIM_OBJ) $(CORE_OBJ)
	$(CXX) -shared $(SANITIZE) -o $@ $^ $(LDFLAGS) $(TORCH_LIBS) $(AV_LIBS) $(PLOT_LIBS) -lgloo -lz -fopenmp -lpthread -lm

# -Wl,-E exports the executable's symbols for ffi.C. liblpose.so is found next to
# it (build/), in ../lib (make install) or in ../lib/lua/5.1 (a LuaRocks tree,
# which deploys the library with the C modules).
$(EXE): $(MAIN_OBJ) $(LIB)
	$(CC) $(SANITIZE) -o $@ $(MAIN_OBJ) -L$(BUILD) -llpose \
	  -Wl,-rpath,'$$ORIGIN:$$ORIGIN/../lib:$$ORIGIN/../lib/lua/5.1' -Wl,-E \
	  $(LDFLAGS) $(LUAJIT_LIBS) $(EDIT_LIBS) -lm -ldl

# ---------------------------------------------------------------- tests
# TEST_LIBS_<name>: what one test links besides liblpose (a test that makes FFmpeg frames itself).
TEST_LIBS_test_scaler := $(AV_LIBS)
$(BUILD)/tests/%: tests/c/%.c tests/c/lp_test.h tests/c/lp_fixtures.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/c -o $@ $< -L$(BUILD) -llpose $(TEST_LIBS_$*) -Wl,-rpath,'$$ORIGIN/..' -lm -lpthread

$(BUILD)/tests/header_c99.ok: $(HEADERS) tests/c/test_header_c99.c
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -pedantic -Werror -Wall -Wextra -Iengine/include -c tests/c/test_header_c99.c -o $(BUILD)/tests/header_c99.o
	@touch $@

test: all lint check-cdef check-c-layers check-lua-layers $(TEST_BIN) $(BUILD)/tests/header_c99.ok
	@./tests/run_all.sh $(BUILD)

test-c: all $(TEST_BIN)
	@./tests/run_all.sh $(BUILD) c

test-lua: all
	@./tests/run_all.sh $(BUILD) lua

test-gpu: all $(TEST_BIN)
	@LPOSE_TEST_GPU=1 ./tests/run_all.sh $(BUILD)

# A separate build tree, so the sanitized objects never mix with the normal ones.
test-asan:
	$(MAKE) BUILD=build-asan SANITIZE='-fsanitize=address,undefined -fno-omit-frame-pointer' OPT='-O1 -g' \
	  build-asan/liblpose.so $(TEST_SRC:tests/c/%.c=build-asan/tests/%)
	ASAN_OPTIONS=detect_leaks=1:protect_shadow_gap=0 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ./tests/run_all.sh build-asan c

lint:
	@luacheck -q --codes lua tests/lua experiments bench tools 2>/dev/null || luacheck --codes lua tests/lua experiments bench tools
	@luajit tools/lint_cdata.lua lua/lpose/cdef.lua \
	  $$(find lua tests/lua experiments bench tools -name '*.lua' ! -name lint_cdata_spec.lua | sort)

# The Lua layers: no library module requires the CLI, the CLI does not use the
# FFI, nothing requires experiments or bench (tools/layers/lua_requires.lua).
.PHONY: check-lua-layers
check-lua-layers:
	@luajit tools/layers/lua_requires.lua

check-cdef:
	@luajit tools/gen_cdef.lua engine/include/lpose.h | cmp -s - lua/lpose/cdef.lua || \
	  { echo "lua/lpose/cdef.lua is stale: run 'make cdef'"; exit 1; }

cdef:
	luajit tools/gen_cdef.lua engine/include/lpose.h > lua/lpose/cdef.lua

# The engine's layers (docs/design/architecture.md): what each object file really
# calls (nm), checked against the rules in the script. Fails on a call up or across.
check-c-layers: $(SHIM_OBJ) $(CORE_OBJ) $(MAIN_OBJ)
	@luajit tools/layers/c_layers.lua $^

# ---------------------------------------------------------------- main job
demo: all
	./$(EXE) run experiments/demo.lua

BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(BUILD) -llpose -Wl,-rpath,'$$ORIGIN/..' -lm -lpthread

bench: all $(BENCH_BIN)
	@for b in bench/*.lua; do echo "== $$b"; LPOSE_BUILD=$(BUILD) ./$(EXE) run $$b || exit 1; done

# ---------------------------------------------------------------- install
# PREFIX/bin/lpose, PREFIX/lib/liblpose.so, PREFIX/include, and the Lua tree in
# PREFIX/share/lua/5.1/lpose with the default configs (lpose/configs) and the
# reference pages and guides that `help` reads (lpose/docs): the Lua tree holds
# them because LuaRocks deploys only bin, lib and the Lua tree of a rock.
# tests/lua/install_spec.lua checks the result with plain luajit.
INST_PREFIX ?= $(PREFIX)
INST_BINDIR ?= $(INST_PREFIX)/bin
INST_LIBDIR ?= $(INST_PREFIX)/lib
INST_LUADIR ?= $(INST_PREFIX)/share/lua/5.1
INST_INCDIR ?= $(INST_PREFIX)/include

install: all
	install -d $(DESTDIR)$(INST_BINDIR) $(DESTDIR)$(INST_LIBDIR) $(DESTDIR)$(INST_LUADIR) $(DESTDIR)$(INST_INCDIR)
	install -m 755 $(LIB) $(DESTDIR)$(INST_LIBDIR)/
	install -m 755 $(EXE) $(DESTDIR)$(INST_BINDIR)/
	install -d $(DESTDIR)$(INST_INCDIR)/lpose
	install -m 644 engine/include/lpose.h $(DESTDIR)$(INST_INCDIR)/
	install -m 644 engine/include/lpose/*.h $(DESTDIR)$(INST_INCDIR)/lpose/
	cd lua && find lpose -name '*.lua' -exec install -D -m 644 {} $(DESTDIR)$(INST_LUADIR)/{} \;
	cd lua && find lpose -path '*/assets/*' -type f -exec install -D -m 644 {} $(DESTDIR)$(INST_LUADIR)/{} \;
	install -d $(DESTDIR)$(INST_LUADIR)/lpose/configs
	install -m 644 configs/*.yaml $(DESTDIR)$(INST_LUADIR)/lpose/configs/
	install -d $(DESTDIR)$(INST_LUADIR)/lpose/docs/reference/lua $(DESTDIR)$(INST_LUADIR)/lpose/docs/guides
	install -m 644 docs/reference/lua/*.md $(DESTDIR)$(INST_LUADIR)/lpose/docs/reference/lua/
	install -m 644 docs/guides/*.md $(DESTDIR)$(INST_LUADIR)/lpose/docs/guides/

clean:
	rm -rf $(BUILD) build-asan build-fuzz

include tests/fuzz/fuzz.mk
