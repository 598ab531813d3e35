# reclaimbench — see README.md.  `make run` is the main job, `make check`
# the tests.  Everything generated goes to build/ (ignored by git).
CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Wno-sign-compare -Wno-missing-field-initializers -D_GNU_SOURCE
B       := build

BENCH_LIB  := bench/lib.c bench/procfs.c bench/perf.c bench/opts.c bench/record.c
BENCH_SRC  := bench/lazyfree_mthp.c bench/pmd_redirty.c bench/ttu_sync_race.c bench/pt_reclaim.c
BENCH_HDR  := $(wildcard bench/*.h)

.PHONY: all check run deps clean
all: $(B)/rb-bench

$(B)/rb-bench: bench/main.c $(BENCH_LIB) $(BENCH_SRC) $(BENCH_HDR)
	@mkdir -p $(B)
	$(CC) $(CFLAGS) -static -pthread -o $@ bench/main.c $(BENCH_LIB) $(BENCH_SRC) -lm

clean:
	rm -rf $(B)
