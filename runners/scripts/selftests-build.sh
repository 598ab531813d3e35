#!/bin/sh
# Build the kernel's own mm selftests of one source, static, for the guest.
#   selftests-build.sh SRC REF ARCH OUT PROGRAM...
# SRC is a git tree made ready by kernel-source.sh; the files the selftests
# need (the top Makefile, scripts/, include/, the architecture's folder,
# tools/) are taken from REF with git archive into OUT/tree, a copy of
# their own: SRC is never written, and whatever a build of SRC has left
# checked out (a gate's patches) is not read.  In the sandbox of
# sandbox.sh (no network, only OUT writable) the copy's own Makefile makes
# the UAPI headers (make headers), then each PROGRAM is compiled from
# tools/testing/selftests/mm as that Makefile compiles it (its CFLAGS,
# vm_util.c and the THP settings helper of that tree) but static, with
# no liburing (local_config.h empty: cow's io_uring cases are then not
# built) into OUT/bin/PROGRAM.  A program that does not compile is
# written to OUT/skipped with the compiler's first error, and the others
# go on.  OUT/done is written last: a build stopped anywhere leaves no
# done, so no cache entry.  The log is OUT/build.log.
# Exit 2: bad input; 3: the headers could not be made or the sandbox
# stopped the build.
set -eu

if [ "${1:-}" = --inside ]; then
	out=$2 arch=$3
	shift 3
	cross=
	[ "$arch" = x86_64 ] || cross=aarch64-linux-gnu-
	karch=x86
	[ "$arch" = x86_64 ] || karch=arm64
	cd "$out/tree"
	make -s ARCH=$karch headers 2>&1 || { echo "error: make headers failed" >&2; exit 3; }
	mm=tools/testing/selftests/mm
	: > "$mm/local_config.h"
	: > "$mm/local_config.h_gen"
	helpers=$mm/vm_util.c
	for h in hugepage_settings.c thp_settings.c; do
		[ -f "$mm/$h" ] && helpers="$helpers $mm/$h"
	done
	mkdir -p "$out/bin"
	for p in "$@"; do
		echo "== $p"
		if "${cross}gcc" -static -Wall -O2 -U_FORTIFY_SOURCE -I . -I tools/testing/selftests -I "$mm" \
			-isystem usr/include -isystem tools/include/uapi "$mm/$p.c" $helpers \
			-lrt -lpthread -lm -o "$out/bin/$p" > "$out/cc-$p.log" 2>&1; then
			cat "$out/cc-$p.log"
		else
			cat "$out/cc-$p.log"
			printf '%s: %s\n' "$p" "$(grep -m 1 'error' "$out/cc-$p.log" | cut -c 1-200)" >> "$out/skipped"
		fi
	done
	exit 0
fi

[ $# -ge 5 ] || { echo "error: usage: selftests-build.sh SRC REF ARCH OUT PROGRAM..." >&2; exit 2; }
here=$(dirname "$(realpath "$0")")
src=$1 ref=$2 arch=$3 out=$4
shift 4
case $arch in
x86_64) karch=x86 ;;
arm64)  karch=arm64 ;;
*)      echo "error: arch '$arch' is not x86_64 or arm64" >&2; exit 2 ;;
esac
for p in "$@"; do
	case $p in ''|*[!a-z0-9_-]*) echo "error: selftest name '$p' is not [a-z0-9_-]" >&2; exit 2 ;; esac
done
rm -rf "$out"
mkdir -p "$out/tree"
log=$out/build.log
echo "phase: selftests: copying $ref of $src" >&2
git -C "$src" archive "$ref" Makefile Kbuild Kconfig scripts include "arch/$karch" tools mm/gup_test.h 2>> "$log" |
	tar -x -C "$out/tree" 2>> "$log" || { echo "error: cannot copy '$ref' of '$src' (log: $log)" >&2; exit 3; }
echo "phase: selftests: building $* in the sandbox" >&2
sh "$here/sandbox.sh" -t "${RECLAIMBENCH_BUILD_TIMEOUT:-1800}" -m 2048 -o 32 -w "$out" -r "$here/selftests-build.sh" -- \
	sh "$here/selftests-build.sh" --inside "$out" "$arch" "$@" >> "$log" 2>&1 ||
	{ echo "error: building the selftests failed (log: $log)" >&2; exit 3; }
rm -rf "$out/tree"
[ -d "$out/bin" ] || { echo "error: the selftests build left no programs (log: $log)" >&2; exit 3; }
: > "$out/done"
echo "phase: selftests: done" >&2
