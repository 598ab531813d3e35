#!/bin/sh
# helper-calls.sh OBJDIR HELPER.c...: the helpers of bench/ (the Makefile's
# BENCH_HELPERS) depend on libc alone.  Lists each symbol a helper's object
# in OBJDIR/bench/ uses that another object of bench/, not a helper,
# defines (the benchmark layer: lib.o, a benchmark, ...), one
# "HELPER.o: SYMBOL <- DEFINER.o" line each; exits 1 when it lists any.
o=$1/bench
shift
helpers=$(for h in "$@"; do basename "$h" .c; done)
layer=$(for obj in "$o"/*.o; do
	name=$(basename "$obj" .o)
	echo "$helpers" | grep -qxF "$name" && continue
	nm --defined-only "$obj" | awk -v d="$name" '$2 ~ /^[TDBRC]$/ { print $3, d }'
done)
found=0
for name in $helpers; do
	for sym in $(nm -u "$o/$name.o" | awk '{ print $2 }'); do
		definer=$(echo "$layer" | awk -v s="$sym" '$1 == s { print $2; exit }')
		[ -n "$definer" ] || continue
		echo "$name.o: $sym <- $definer.o"
		found=1
	done
done
exit $found
