# nnkit - one Makefile for the library, the programs, tests, fuzzing and benchmarks.
#
#   make            build lib/libnk.a and every program in cmd/ (into build/)
#   make test       install missing packages and test peers (scripts/deps test),
#                   build, run every test
#   make asan       the whole test suite under AddressSanitizer + UBSan
#   make tsan       the threaded parts under ThreadSanitizer
#   make fuzz       libFuzzer targets with clang (build/fuzz/)
#   make demo       a short tour of every program on data made here (installs
#                   only the build's packages: scripts/deps build)
#   make bench      benchmarks against the named peers (slow; prints ratios)
#   make install    PREFIX=/usr/local DESTDIR=... ; make uninstall
#
# Sources are found by wildcard: a new lib/LAYER/*.c joins libnk.a, a new
# folder cmd/PROG/ becomes the program PROG (every .c in it, a file per
# subcommand), a new tests/unit/test_*.c a unit test, a new
# tests/fuzz/fuzz_*.c a fuzz target replayed over tests/fuzz/corpus/NAME/.
# scripts/check-layers (run by `make test`) keeps the library's includes
# pointing one way and the library silent.

CC      ?= cc
CFLAGS  ?= -O2 -march=native -g
PREFIX  ?= /usr/local
BUILD   ?= build
BLAS    ?=

# -ffp-contract=fast lets a*b+c become one FMA (GCC does so by default
# except in strict ISO modes such as -std=c11).
NK_CFLAGS  = -std=c11 -D_GNU_SOURCE -ffp-contract=fast -Wall -Wextra -fopenmp -Ilib
# stb_image/stb_image_write come compiled in Debian's libstb (libstb-dev);
# utf8proc gives Unicode categories to the tokenizer's pre-tokenizer;
# PCRE2 matches split patterns other than the three built in.
NK_LDLIBS  = -lpng -ljpeg -lstb -lutf8proc -lpcre2-8 -lz -lm
# Where `tokenize -e NAME` looks for NAME.tiktoken after -d and $NNKIT_TIKTOKEN_DIR.
NK_CFLAGS += -DNK_TIKTOKEN_DIR='"$(PREFIX)/share/nnkit/tiktoken"'
ifeq ($(BLAS),openblas)
NK_CFLAGS += -DNK_USE_OPENBLAS -I/usr/include/x86_64-linux-gnu/openblas-pthread
NK_LDLIBS += -lopenblas
endif

# Open MPI: with its mpicc and mpi.h (Debian: openmpi-bin, libopenmpi-dev),
# or MPI=1, the programs can run as the
# ranks of a data-parallel job under mpirun (lib/core/dist.c, -DNK_MPI);
# MPI=0, or no mpicc, builds the single-process programs as always.
MPI ?= $(shell echo '\#include <mpi.h>' | mpicc -E -x c - >/dev/null 2>&1 && echo 1 || echo 0)
ifeq ($(MPI),1)
NK_CFLAGS += -DNK_MPI $(shell mpicc --showme:compile)
NK_LDLIBS += $(shell mpicc --showme:link)
endif

LIB_SRC  := $(sort $(wildcard lib/*/*.c))
LIB_HDR  := $(wildcard lib/*/*.h)
CMD_HDR  := $(wildcard cmd/*.h cmd/*/*.h)
CMD_SRC  := $(sort $(wildcard cmd/*/*.c))
PROG_NAMES := $(sort $(notdir $(patsubst %/,%,$(dir $(CMD_SRC)))))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIBNK    := $(BUILD)/libnk.a
PROGS    := $(PROG_NAMES:%=$(BUILD)/bin/%)
UNITS    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
REPLAYS  := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/tests/replay_%)
MAN1     := $(wildcard man/*.1)
MAN5     := $(wildcard man/*.5)

.PHONY: check-layers
.PHONY: all test check asan tsan fuzz demo bench deps install uninstall clean lint-man
all: $(PROGS)

$(BUILD)/%.o: %.c $(LIB_HDR) Makefile
	@mkdir -p $(@D)
	$(CC) $(NK_CFLAGS) $(CFLAGS) -c -o $@ $<

# dist.o is the one object that differs with MPI: rebuilt when it changes.
$(BUILD)/lib/core/dist.o: $(BUILD)/mpi-$(MPI)
$(BUILD)/mpi-$(MPI):
	@mkdir -p $(@D)
	@rm -f $(BUILD)/mpi-*
	@touch $@

$(LIBNK): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# A program's files see cmd/cli.h and their own folder's headers.
$(BUILD)/cmd/%.o: cmd/%.c $(LIB_HDR) $(CMD_HDR) Makefile
	@mkdir -p $(@D)
	$(CC) $(NK_CFLAGS) -Icmd -I$(dir $<) $(CFLAGS) -c -o $@ $<

prog_objs = $(patsubst %.c,$(BUILD)/%.o,$(wildcard cmd/$(1)/*.c))
# Kept: make would otherwise delete them as intermediates after each link.
.SECONDARY: $(CMD_SRC:%.c=$(BUILD)/%.o)
.SECONDEXPANSION:
$(BUILD)/bin/%: $$(call prog_objs,$$*) $(LIBNK)
	@mkdir -p $(@D)
	$(CC) $(NK_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBNK) $(NK_LDLIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c tests/unit/check.h $(CMD_HDR) $(LIBNK)
	@mkdir -p $(@D)
	$(CC) $(NK_CFLAGS) $(CFLAGS) $(LDFLAGS) -Itests/unit -Icmd -o $@ $< $(LIBNK) $(NK_LDLIBS)

# The replay driver gives each fuzz target a main() that runs it over its
# committed corpus, so `make test` exercises every parser without libFuzzer.
$(BUILD)/tests/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/small_vocab.h $(LIBNK)
	@mkdir -p $(@D)
	$(CC) $(NK_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/replay.c $(LIBNK) $(NK_LDLIBS)

# The test peers; an install that failed (exit 3) leaves their tests to
# report "skipped" here, and fails CI (.ci/run calls scripts/deps itself).
deps:
	@scripts/deps test || [ $$? -eq 3 ]

# The demo needs only what the build needs, not the test peers.
.PHONY: deps-build
deps-build:
	@scripts/deps build

test: deps
	@$(MAKE) --no-print-directory all-tests
	@BUILD=$(BUILD) tests/run.sh

# The layering and silence rules alone (also a test in `make test`).
check-layers: $(LIBNK)
	@scripts/check-layers . $(LIBNK)

check: test

.PHONY: all-tests
all-tests: $(PROGS) $(UNITS) $(REPLAYS)

# A separate build tree, so sanitized objects never mix with optimized ones.
# -march=native as in the optimized build: the vector paths the programs
# run (AVX-512 masked loads, transposes, kernels reading A in place) are
# then the ones checked, not the generic ones beside them.
ASAN_FLAGS = -O1 -g -march=native -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
asan: deps
	@$(MAKE) --no-print-directory BUILD=build/asan CFLAGS="$(ASAN_FLAGS)" LDFLAGS="$(ASAN_FLAGS)" all-tests
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		NK_SANITIZED=1 BUILD=build/asan tests/run.sh

# The threaded parts under ThreadSanitizer: the ordered pipeline, the
# runs of work units the convolutions share (core/spans.c), tokenize -j
# on files, pipes and gzip.  Only what runs
# on plain threads: libgomp is not instrumented, so OpenMP code would
# report its own barriers.
TSAN_FLAGS = -O1 -g -march=native -fno-omit-frame-pointer -fsanitize=thread
TSAN_TESTS = test_ordered test_spans test_bpe test_textblocks test_tokstream \
	     cli-tokenize.t t_tokenize_stream.sh fuzz-corpus-textblocks
tsan: deps
	@$(MAKE) --no-print-directory BUILD=build/tsan CFLAGS="$(TSAN_FLAGS)" LDFLAGS="$(TSAN_FLAGS)" \
		build/tsan/bin/tokenize build/tsan/tests/test_ordered build/tsan/tests/test_spans \
		build/tsan/tests/test_bpe \
		build/tsan/tests/test_textblocks build/tsan/tests/test_tokstream \
		build/tsan/tests/replay_textblocks
	@if build/tsan/tests/test_ordered 2>&1 | grep -q 'FATAL: ThreadSanitizer'; then \
		echo "SKIP tsan: ThreadSanitizer cannot run on this kernel (see its FATAL message)"; \
		echo "0 passed, 0 failed, 1 skipped"; \
	else \
		TSAN_OPTIONS=halt_on_error=1 NK_SANITIZED=1 BUILD=build/tsan \
		NK_ONLY="$(TSAN_TESTS)" tests/run.sh; \
	fi

FUZZ_CC    ?= clang
FUZZ_FLAGS  = -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/fuzzlib/%.o)
$(BUILD)/fuzzlib/%.o: %.c $(LIB_HDR)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(NK_CFLAGS) -O1 -g -fsanitize=fuzzer-no-link,address,undefined -c -o $@ $<
$(BUILD)/fuzz/%: tests/fuzz/fuzz_%.c tests/fuzz/small_vocab.h $(FUZZ_LIB_OBJ)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(NK_CFLAGS) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_LIB_OBJ) $(NK_LDLIBS)
.PHONY: fuzz-deps
fuzz-deps:
	@scripts/deps fuzz
# Kept: without this make deletes them as intermediates after every fuzz build.
.SECONDARY: $(FUZZ_LIB_OBJ)
fuzz: fuzz-deps $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/fuzz/%)
	@echo "run one with: mkdir -p /tmp/NAME && $(BUILD)/fuzz/NAME -max_total_time=60 /tmp/NAME tests/fuzz/corpus/NAME"

demo: deps-build
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) scripts/demo.sh

bench: all
	@scripts/deps bench
	@for b in scripts/bench-*; do echo "== $$b"; BUILD=$(BUILD) $$b || exit 1; done

lint-man:
	mandoc -T lint -W warning $(MAN1) $(MAN5)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/
	$(if $(MAN1),install -m 644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1/)
	$(if $(MAN5),install -m 644 $(MAN5) $(DESTDIR)$(PREFIX)/share/man/man5/)

uninstall:
	rm -f $(PROGS:$(BUILD)/bin/%=$(DESTDIR)$(PREFIX)/bin/%)
	rm -f $(MAN1:man/%=$(DESTDIR)$(PREFIX)/share/man/man1/%)
	rm -f $(MAN5:man/%=$(DESTDIR)$(PREFIX)/share/man/man5/%)

clean:
	rm -rf build
