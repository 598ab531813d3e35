# reclaimbench — see README.md.  `make run` is the main job, `make check`
# the tests.  Everything generated goes to build/ (ignored by git).
CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-sign-compare -Wno-missing-field-initializers -D_GNU_SOURCE
B       := build

BENCH_LIB  := bench/lib.c bench/procfs.c bench/perf.c bench/opts.c bench/record.c
# A benchmark is one file in bench/ and one line in bench/benches.h.
BENCH_SRC  := $(filter-out $(BENCH_LIB) bench/main.c bench/init.c,$(wildcard bench/*.c))
BENCH_HDR  := $(wildcard bench/*.h)

RUNNER_SRC := $(filter-out runners/%-main.c,$(wildcard runners/*.c))
RUNNER_HDR := $(wildcard runners/*.h)
SCHEMA     := $(sort $(wildcard schema/*.sql))

.PHONY: all check run deps clean fuzzers
all: $(B)/rb-bench $(B)/rb-init $(B)/reclaimbench $(B)/aarch64/rb-bench $(B)/aarch64/rb-init

$(B)/rb-bench: bench/main.c $(BENCH_LIB) $(BENCH_SRC) $(BENCH_HDR)
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -static -pthread -o $@ bench/main.c $(BENCH_LIB) $(BENCH_SRC) -lm

# An independent check of three benchmarks (tests/t-indep.sh): no code
# shared with bench/.
$(B)/indep: tests/indep.c
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -O2 -static -o $@ tests/indep.c

$(B)/rb-init: bench/init.c
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -static -o $@ bench/init.c

# The guest programs of arm64 variants, with Debian's cross compiler and
# libc6-dev-arm64-cross: runners/guest.c packs build/aarch64/ for them.
AARCH64_CC ?= aarch64-linux-gnu-gcc

$(B)/aarch64/rb-bench: bench/main.c $(BENCH_LIB) $(BENCH_SRC) $(BENCH_HDR)
	@mkdir -p $(B)/aarch64
	$(AARCH64_CC) $(CFLAGS) -static -pthread -o $@ bench/main.c $(BENCH_LIB) $(BENCH_SRC) -lm

$(B)/aarch64/rb-init: bench/init.c
	@mkdir -p $(B)/aarch64
	$(AARCH64_CC) $(CFLAGS) -static -o $@ bench/init.c

$(B)/schema.c: $(SCHEMA) runners/embed-schema.sh
	@mkdir -p $(B)
	sh runners/embed-schema.sh $(SCHEMA) > $@.tmp && mv $@.tmp $@

$(B)/reclaimbench: $(RUNNER_SRC) $(RUNNER_HDR) $(B)/schema.c $(BENCH_LIB) $(BENCH_SRC) $(BENCH_HDR)
	$(CC) $(CFLAGS) -pthread -o $@ $(RUNNER_SRC) $(B)/schema.c $(BENCH_LIB) $(BENCH_SRC) \
		-lsqlite3 -lcurl -lm

$(B)/unit: tests/unit.c $(filter-out runners/main.c,$(RUNNER_SRC)) $(RUNNER_HDR) $(B)/schema.c $(BENCH_LIB) $(BENCH_SRC) $(BENCH_HDR)
	$(CC) $(CFLAGS) -DFIXTURES='"$(CURDIR)/tests"' -pthread -o $@ tests/unit.c \
		$(filter-out runners/main.c,$(RUNNER_SRC)) $(B)/schema.c $(BENCH_LIB) $(BENCH_SRC) -lsqlite3 -lcurl -lm

# Sanitizer build of the unit tests, and libFuzzer targets of every parser
# of outside input (tests/t-sanitize.sh runs them).
RUNNER_LIB := $(filter-out runners/main.c,$(RUNNER_SRC)) $(B)/schema.c
SAN        := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
FUZZERS    := record ingest variants procfs report

$(B)/unit-asan: tests/unit.c $(RUNNER_LIB) $(RUNNER_HDR) $(BENCH_LIB) $(BENCH_SRC) $(BENCH_HDR)
	$(CC) $(CFLAGS) $(SAN) -DFIXTURES='"$(CURDIR)/tests"' -pthread -o $@ tests/unit.c \
		$(RUNNER_LIB) $(BENCH_LIB) $(BENCH_SRC) -lsqlite3 -lcurl -lm

$(B)/fuzz-%: tests/fuzz/fuzz_%.c $(RUNNER_LIB) $(RUNNER_HDR) $(BENCH_LIB) $(BENCH_SRC) $(BENCH_HDR)
	clang -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-DFIXTURES='"$(CURDIR)/tests"' -o $@ $< $(RUNNER_LIB) $(BENCH_LIB) $(BENCH_SRC) \
		-lsqlite3 -lcurl -lm -pthread

fuzzers: $(FUZZERS:%=$(B)/fuzz-%)

deps:
	sh runners/deps.sh

check: deps all $(B)/unit $(B)/unit-asan $(B)/indep fuzzers
	sh tests/run.sh

# The main job: build every default variant, boot each, run every
# benchmark, store it all and print the comparison.
run: deps all
	$(B)/reclaimbench run $(RUN_ARGS); rc=$$?; \
	$(B)/reclaimbench report $(REPORT_ARGS) && exit $$rc

clean:
	rm -rf $(B)
