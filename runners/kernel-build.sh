#!/bin/sh
# Build one kernel variant.  Usage:
#   kernel-build.sh SRC REF BUILD OUT VARIANT FRAGMENT [PATCH...]
# SRC is a git tree made ready by kernel-source.sh, checked out at REF
# before the patches apply (unchanged files keep their mtimes, so the
# shared build folder stays incremental);
# BUILD is the one out-of-tree build folder of that source (incremental);
# OUT receives bzImage, .config and gen_init_cpio, bzImage last: a build
# stopped anywhere leaves no bzImage, so no cache entry.  Logs go to
# OUT/build.log.
# The checkout and the patches are git's work, here; configuring and
# compiling run the tree's own Makefiles and scripts, code the project did
# not write, so they run in the sandbox of sandbox.sh (as rb-sandbox, no
# network, only BUILD and the ccache folder writable; time, disk and
# memory limits from $RECLAIMBENCH_BUILD_TIMEOUT, default 3600 s,
# $RECLAIMBENCH_BUILD_DISK_MB, default 8192, what a step may write, and
# $RECLAIMBENCH_BUILD_MEM_MB, default 4096; the log at most 32 MB of each
# of make's streams a step), calling this script with --inside.
# Exit 2: bad input (a patch that does not apply, an option that does not
# survive olddefconfig); exit 3: the build itself failed or the sandbox
# stopped it.
set -eu
phase() { echo "phase: $*" >&2; }

if [ "${1:-}" = --inside ]; then
	# In the sandbox: make's output on stdout (the log), errors on stderr.
	step=$2 src=$3 build=$4 fragment=$5
	cd "$build"	# merge_config.sh makes its temporary files here
	fail() { code=$1; shift; echo "error: $*" >&2; exit "$code"; }
	cc="ccache gcc"
	command -v ccache >/dev/null && ccache -s >/dev/null 2>&1 || cc=gcc	# e.g. no cache folder
	mk() { make -s -C "$src" O="$build" CC="$cc" HOSTCC=gcc "$@" 2>&1; }
	tmp=$build/.rb-config
	case $step in
	configure)
		# A compile killed before (kill -9 of a bisection) leaves files
		# half written, newer than their sources: make would take them
		# (seen: "vmlinux.o: Invalid argument" in every later build).
		# What it wrote goes, before this build writes anything; make
		# makes it again.
		mark=$build/.rb-compiling
		[ ! -e "$mark" ] || find "$build" -newer "$mark" -type f -delete
		rm -f "$mark"
		{ mk KCONFIG_CONFIG=.rb-config tinyconfig &&
		  rm -rf "$build/.rb-merge" && mkdir -p "$build/.rb-merge" &&
		  "$src/scripts/kconfig/merge_config.sh" -m -O "$build/.rb-merge" "$tmp" "$fragment" 2>&1 &&
		  mv "$build/.rb-merge/.config" "$tmp" &&
		  mk KCONFIG_CONFIG=.rb-config olddefconfig; } || fail 3 "configuration failed"
		# Every option the fragment asks for must have survived olddefconfig.
		missing=$(grep -E '^(CONFIG_[A-Za-z0-9_]+=|# CONFIG_[A-Za-z0-9_]+ is not set)' "$fragment" |
			while IFS= read -r line; do
				case $line in
				'# '*) opt=${line#\# }; opt=${opt%% *}
				       grep -q "^$opt=" "$tmp" && echo "$opt" ;;
				*)     grep -qxF "$line" "$tmp" || echo "${line%%=*}" ;;
				esac
			done | tr '\n' ' ')
		[ -z "$missing" ] || fail 2 "config options did not survive olddefconfig: ${missing% }; check '$fragment' (unknown option or unmet dependency)"
		# Keep .config untouched when nothing changed so make stays incremental.
		if cmp -s "$tmp" "$build/.config"; then rm -f "$tmp"; else mv "$tmp" "$build/.config"; fi ;;
	compile)
		mark=$build/.rb-compiling	# until it ends well: see configure
		touch "$mark"
		mk -j"$(nproc)" bzImage || fail 3 "compile failed; see the first 'error:' in the log"
		rm -f "$mark" ;;
	esac
	exit 0
fi

self=$(realpath "$0")
here=$(dirname "$self")
src=$1 ref=$2 build=$3 out=$4 variant=$5 fragment=$(realpath "$6")
shift 6
log=$out/build.log
mkdir -p "$build" "$out"
: > "$log"
phase() { echo "phase: $*" >&2; echo "== $*" >> "$log"; }
fail() { code=$1; shift; echo "error: variant '$variant': $* (log: $log)" >&2; exit "$code"; }

exec 9> "$build.lock"
flock 9

cd "$src"
phase "checking out $ref in $src"
{ [ ! -d .git/rebase-apply ] || git am --abort >> "$log" 2>&1 || rm -rf .git/rebase-apply; } &&
git checkout -q -f --detach "$ref" >> "$log" 2>&1 && git clean -qfdx -e .unpacked >> "$log" 2>&1 ||
	fail 3 "cannot check out '$ref' in '$src'"
for p in "$@"; do
	phase "applying $(basename "$p")"
	if head -n 1 "$p" | grep -q '^From '; then	# an mbox: one patch or a series, git am
		git -c user.name=reclaimbench -c user.email=reclaimbench@localhost am -q --keep-cr "$p" >> "$log" 2>&1 ||
			{ git am --abort >/dev/null 2>&1; fail 2 "patch '$p' does not apply to $src; rebase it onto this source"; }
	else
		git apply --whitespace=nowarn "$p" >> "$log" 2>&1 ||
			fail 2 "patch '$p' does not apply to $src; rebase it onto this source"
	fi
done

# The sandbox's own ccache folder (it owns what it writes), in depend
# mode: a miss costs no extra preprocessor run (the kernel's -MMD lists
# the headers).  Measured on 6.12 from an empty cache, -j2: 289 s wall,
# 551 CPU-s, against 371 s, 715 CPU-s in ccache's default mode and 253 s,
# 487 CPU-s without ccache.
cache=${RECLAIMBENCH_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/reclaimbench}
ccdir=$cache/ccache
mkdir -p "$ccdir"
# sandbox STEP: one step of --inside in the sandbox; its errors to the log
# and to the user; exit 2 passes through, anything else is 3.  Its output
# (make's, in the log) is cut at 32 MB a stream: a build that floods it
# is stopped.
sandbox() {
	err=$build.rb-err
	rc=0
	sh "$here/sandbox.sh" -t "${RECLAIMBENCH_BUILD_TIMEOUT:-3600}" -q "${RECLAIMBENCH_BUILD_DISK_MB:-8192}" \
		-m "${RECLAIMBENCH_BUILD_MEM_MB:-4096}" -o 32 \
		-w "$build" -w "$ccdir" -r "$src" -r "$fragment" -r "$self" -e CCACHE_DIR="$ccdir" -e CCACHE_DEPEND=1 -- \
		sh "$self" --inside "$1" "$src" "$build" "$fragment" >> "$log" 2> "$err" || rc=$?
	cat "$err" >> "$log"
	why=$(grep '^error: ' "$err" | sed 's/^error: //' | awk 'NR > 1 { printf "; " } { printf "%s", $0 }')
	rm -f "$err"
	[ "$rc" = 0 ] || fail "$([ "$rc" = 2 ] && echo 2 || echo 3)" "$1 in the sandbox failed (status $rc): ${why:-no reason given}"
}

phase "configuring (tinyconfig + $(basename "$fragment")) in the sandbox"
sandbox configure
phase "compiling bzImage with -j$(nproc) in the sandbox"
sandbox compile
# What the sandbox left belongs to its user: only regular files of a sane
# size are taken (a link could name any file of the host, a fifo or a
# device would hang the copy).  bzImage last: with it the entry is complete.
take() {
	[ -f "$1" ] && [ ! -L "$1" ] && [ "$(stat -c %s "$1")" -le $((256 << 20)) ] ||
		fail 3 "the build left no plain file '$1'"
	cp -P "$1" "$2"
}
rm -f "$out/bzImage"
take "$build/.config" "$out/config"
take "$build/usr/gen_init_cpio" "$out/gen_init_cpio"
take "$build/arch/x86/boot/bzImage" "$out/bzImage.tmp" && mv "$out/bzImage.tmp" "$out/bzImage"
phase "done"
