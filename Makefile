# reclaimbench — see README.md.  `make run` is the main job, `make check`
# the tests.  Everything generated goes to build/ (ignored by git).
CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-sign-compare -Wno-missing-field-initializers -D_GNU_SOURCE
B       := build

# The helpers depend on libc alone (tests/t-layout.sh checks they call
# nothing of the benchmark layer).
BENCH_HELPERS := bench/procfs.c bench/knobs.c bench/perf.c bench/swap.c bench/cpus.c
BENCH_LIB  := bench/lib.c bench/scenario.c bench/settle.c bench/race.c $(BENCH_HELPERS) bench/opts.c bench/record.c
# A benchmark is one file in bench/ and one line in bench/benches.h.
BENCH_SRC  := $(filter-out $(BENCH_LIB) bench/main.c bench/init.c,$(wildcard bench/*.c))
BENCH_HDR  := $(wildcard bench/*.h)

RUNNER_SRC := $(filter-out runners/%-main.c,$(wildcard runners/*.c))
RUNNER_HDR := $(wildcard runners/*.h)
SCHEMA     := $(sort $(wildcard schema/*.sql))

.PHONY: all check run deps clean fuzzers
all: $(B)/rb-bench $(B)/rb-init $(B)/reclaimbench $(B)/aarch64/rb-bench $(B)/aarch64/rb-init

# Each source is compiled once per set of flags, into a folder of that
# set, with its dependency file (-MMD); programs link what they need from
# a static library of the set, so a fuzzer takes the parsers it calls and
# not the Slurm executor.
#   $(O)   the host program, the unit tests and the x86 guest programs
#   $(OS)  address and undefined-behaviour sanitizers (unit-asan)
#   $(OF)  clang with libFuzzer's coverage (the fuzzers)
#   $(OA)  Debian's aarch64 cross compiler (the arm64 guest programs)
O  := $(B)/obj
OS := $(B)/obj-san
OF := $(B)/obj-fuzz
OA := $(B)/obj-aarch64
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZ_CC  := clang -g -O1 -std=gnu11 -D_GNU_SOURCE
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined
# The guest programs of arm64 variants, with Debian's cross compiler and
# libc6-dev-arm64-cross: runners/guest.c packs build/aarch64/ for them.
AARCH64_CC ?= aarch64-linux-gnu-gcc

LIB_SRC   := $(filter-out runners/main.c,$(RUNNER_SRC)) $(BENCH_LIB) $(BENCH_SRC) $(B)/schema.c
GUEST_SRC := bench/main.c $(BENCH_LIB) $(BENCH_SRC)
objs = $(addprefix $(1)/,$(2:.c=.o))
# The tests find their fixtures here.
$(O)/tests/%.o $(OS)/tests/%.o $(OF)/tests/%.o: XFLAGS = -DFIXTURES='"$(CURDIR)/tests"'

$(O)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(XFLAGS) -pthread -MMD -MP -c -o $@ $<
$(OS)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN) $(XFLAGS) -pthread -MMD -MP -c -o $@ $<
$(OF)/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_SAN) $(XFLAGS) -pthread -MMD -MP -c -o $@ $<
$(OA)/%.o: %.c
	@mkdir -p $(@D)
	$(AARCH64_CC) $(CFLAGS) -pthread -MMD -MP -c -o $@ $<
# The schema, generated, is built from build/ like any source.
$(O)/$(B)/schema.o $(OS)/$(B)/schema.o $(OF)/$(B)/schema.o: $(B)/schema.c

%/lib.a:
	@rm -f $@
	ar rcs $@ $^

$(O)/lib.a: $(call objs,$(O),$(LIB_SRC))
$(OS)/lib.a: $(call objs,$(OS),$(LIB_SRC))
$(OF)/lib.a: $(call objs,$(OF),$(LIB_SRC))

LIBS := -lsqlite3 -lcurl -lm -pthread

$(B)/reclaimbench: $(O)/runners/main.o $(O)/lib.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)
$(B)/unit: $(O)/tests/unit.o $(O)/lib.a
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)
$(B)/unit-asan: $(OS)/tests/unit.o $(OS)/lib.a
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LIBS)
$(B)/fuzz-%: $(OF)/tests/fuzz/fuzz_%.o $(OF)/lib.a
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LIBS)

$(B)/rb-bench: $(call objs,$(O),$(GUEST_SRC))
	$(CC) $(CFLAGS) -static -pthread -o $@ $^ -lm
$(B)/rb-init: $(O)/bench/init.o
	$(CC) $(CFLAGS) -static -o $@ $^
$(B)/aarch64/rb-bench: $(call objs,$(OA),$(GUEST_SRC))
	@mkdir -p $(@D)
	$(AARCH64_CC) $(CFLAGS) -static -pthread -o $@ $^ -lm
$(B)/aarch64/rb-init: $(OA)/bench/init.o
	@mkdir -p $(@D)
	$(AARCH64_CC) $(CFLAGS) -static -o $@ $^

# An independent check of three benchmarks (tests/t-indep.sh): no code
# shared with bench/.
$(B)/indep: tests/helper/indep.c
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -O2 -static -o $@ tests/helper/indep.c

$(B)/schema.c: $(SCHEMA) runners/scripts/embed-schema.sh
	@mkdir -p $(B)
	sh runners/scripts/embed-schema.sh $(SCHEMA) > $@.tmp && mv $@.tmp $@

FUZZERS := record ingest variants procfs report
fuzzers: $(FUZZERS:%=$(B)/fuzz-%)

-include $(shell find $(B) -name '*.d' 2>/dev/null)

deps:
	sh runners/scripts/deps.sh

check: deps all $(B)/unit $(B)/unit-asan $(B)/indep fuzzers
	sh tests/run.sh

# The main job: build every default variant, boot each, run every
# benchmark, store it all and print the comparison.
run: deps all
	$(B)/reclaimbench run $(RUN_ARGS); rc=$$?; \
	$(B)/reclaimbench report $(REPORT_ARGS) && exit $$rc

clean:
	rm -rf $(B)
