# tests/fuzz/fuzz.mk: fuzz targets (docs/developer/fuzzing.md), included by
# the Makefile.
#
#   make fuzz-deps   clang and libFuzzer (Debian's clang-14, libclang-rt-14-dev)
#   make fuzz        every target for FUZZ_SECONDS (default 60) each, one after
#                    the other; fails on any crash, leak, timeout or sanitizer report
#   make fuzz FUZZ_TARGETS=pickle FUZZ_SECONDS=600   one target, longer
#
# The fuzz build is its own tree (build-fuzz/): the library compiled by clang
# with ASan + UBSan and libFuzzer's coverage, so the normal gcc build is never
# touched. libtorch, FFmpeg, libyaml and LuaJIT are Debian's, not instrumented.
# `make test` needs none of this: it builds each target's harness with the
# normal compiler and replay_main.c, and replays the seeds and the regression
# inputs (tests/fixtures/fuzz/<target>/) without the fuzzer.

FUZZ_TARGETS ?= pickle lpt labels_csv config image video
FUZZ_SECONDS ?= 60
FUZZ_BUILD   := build-fuzz
FUZZ_CLANG   ?= clang-14
FUZZ_CLANGXX ?= clang++-14
# vptr is off: libstdc++ inline functions instantiated in our instrumented
# library are also called by uninstrumented libraries (libproj, at exit), and
# the check then reports objects it cannot see as invalid.
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_DEB_PACKAGES := clang-14 libclang-rt-14-dev

FUZZ_HARNESS_CFLAGS = -Iengine/include -Itests/fuzz $(LUAJIT_CFLAGS) -DLPOSE_SOURCE_LUA='"$(CURDIR)/lua"'
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz/%)
FUZZ_REPLAY_BINS := $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/tests/test_fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))

.PHONY: fuzz fuzz-deps fuzz-build

fuzz-deps:
	@./tools/deps.sh $(FUZZ_DEB_PACKAGES)

# The library: the Makefile's own rules, run again with BUILD=$(FUZZ_BUILD)
# (inside that make, $(LIB) is this file, so this rule must not exist there).
ifneq ($(BUILD),$(FUZZ_BUILD))
$(FUZZ_BUILD)/liblpose.so: $(SHIM_SRC) $(CORE_SRC) $(HEADERS) $(wildcard engine/shim/*.hpp engine/src/*/*.h)
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CLANG) CXX=$(FUZZ_CLANGXX) OPT='-O1 -g' \
	  SANITIZE='$(FUZZ_SAN) -fsanitize=fuzzer-no-link -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION' $(FUZZ_BUILD)/liblpose.so
endif

$(FUZZ_BUILD)/fuzz/%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_util.h $(FUZZ_BUILD)/liblpose.so
	@mkdir -p $(dir $@)
	$(FUZZ_CLANG) -std=c11 -D_GNU_SOURCE -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer $(FUZZ_HARNESS_CFLAGS) -c $< -o $@.o
	$(FUZZ_CLANGXX) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $@.o -L$(FUZZ_BUILD) -llpose \
	  -Wl,-rpath,'$$ORIGIN/..' $(LUAJIT_LIBS) -lm

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@./tools/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Replays for `make test` (normal compiler, no sanitizer, no fuzzer).
$(BUILD)/tests/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c tests/fuzz/fuzz_util.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(FUZZ_HARNESS_CFLAGS) -DFUZZ_TARGET='"$*"' -o $@ tests/fuzz/replay_main.c $< \
	  -L$(BUILD) -llpose -Wl,-rpath,'$$ORIGIN/..' $(LUAJIT_LIBS) -lm -lpthread

test test-c: $(FUZZ_REPLAY_BINS)
