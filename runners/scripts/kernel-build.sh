#!/bin/sh
# Build one kernel variant.  Usage:
#   kernel-build.sh [-a ARCH] [-l LAYER] -i ID -c CCACHE [-s CCACHE]... SRC REF BUILD OUT VARIANT FRAGMENT [PATCH...]
# SRC is a git tree made ready by kernel-source.sh, checked out at REF
# before the patches apply (unchanged files keep their mtimes, so the
# build folder stays incremental); BUILD is the out-of-tree build folder of
# that source; OUT receives bzImage, .config, gen_init_cpio and tree (the
# git tree compiled, patches applied), bzImage last: a build stopped
# anywhere leaves no bzImage, so no cache entry.  Logs go to OUT/build.log.
#   -a ARCH    x86_64 (the default) or arm64: cross-compiled with Debian's
#              aarch64-linux-gnu- toolchain, the image is the uncompressed
#              arch/arm64/boot/Image (OUT/Image instead of OUT/bzImage);
#              gen_init_cpio is a host program (HOSTCC) either way; BUILD
#              is a folder of arm64 builds alone
#   -i ID      the build id: the kernel says "#rb-ID-TREE" in its version
#              (uname -v, and the bzImage's own header), checked here
#              before the image is taken
#   -c CCACHE  the ccache folder this build writes (with -l: the layer's)
#   -s CCACHE  a ccache folder it only reads (ccache's read-only
#              secondary storage)
#   -l LAYER   an untrusted build: SRC and BUILD are read through overlays
#              (held with a shared lock: trusted builds of BUILD wait), all
#              it writes goes to LAYER, which is deleted at the end; the
#              mounts live in a mount namespace of this script's own
# Configuring and compiling run the tree's own Makefiles and scripts, code
# the project did not write, so they run in the sandbox of sandbox.sh (as
# rb-sandbox, no network, only BUILD and the written ccache writable; time,
# disk and memory limits from $RECLAIMBENCH_BUILD_TIMEOUT, default 3600 s,
# $RECLAIMBENCH_BUILD_DISK_MB, default 8192, what a step may write, and
# $RECLAIMBENCH_BUILD_MEM_MB, default 4096; the log at most 32 MB of each of
# make's streams a step), calling this script with --inside.  ccache reads no configuration from its folders
# (CCACHE_CONFIGPATH): a build cannot plant one for the next.
# Exit 2: bad input (a patch that does not apply, an option that does not
# survive olddefconfig); exit 3: the build itself failed or the sandbox
# stopped it.
set -eu
phase() { echo "phase: $*" >&2; }

if [ "${1:-}" = --inside ]; then
	# In the sandbox: make's output on stdout (the log), errors on stderr.
	step=$2 src=$3 build=$4 fragment=$5 arch=$6
	cd "$build"	# merge_config.sh makes its temporary files here
	fail() { code=$1; shift; echo "error: $*" >&2; exit "$code"; }
	cross= target=bzImage
	[ "$arch" = x86_64 ] || cross=aarch64-linux-gnu- target=Image
	cc="ccache ${cross}gcc"
	command -v ccache >/dev/null && ccache -s >/dev/null 2>&1 || cc=${cross}gcc	# e.g. no cache folder
	# x86 builds keep the make command line they always had (ARCH from the host).
	mk() { make -s -C "$src" O="$build" ${cross:+ARCH=$arch CROSS_COMPILE=$cross} CC="$cc" HOSTCC=gcc "$@" 2>&1; }
	tmp=$build/.rb-config
	case $step in
	configure)
		# A compile that did not end well (killed, failed) leaves files
		# half written, newer than their sources, which make would take;
		# deleting only what it wrote leaves the folder inconsistent, so
		# the whole folder goes: ccache makes the full build cheap.
		mark=$build/.rb-compiling
		if [ -e "$mark" ]; then
			echo "a compile in $build did not end well; building from an empty folder"
			find "$build" -mindepth 1 -delete
		fi
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
		mk -j"$(nproc)" "$target" || fail 3 "compile failed; see the first 'error:' in the log"
		rm -f "$mark" ;;
	esac
	exit 0
fi

self=$(realpath "$0")
here=$(dirname "$self")
layer= id= ccw= ccr= arch=x86_64
while getopts a:l:i:c:s: o; do
	case $o in
	a) arch=$OPTARG ;;
	l) layer=$OPTARG ;;
	i) id=$OPTARG ;;
	c) ccw=$OPTARG ;;
	s) ccr="$ccr $OPTARG" ;;
	*) echo "error: usage: kernel-build.sh [-a ARCH] [-l LAYER] -i ID -c CCACHE [-s CCACHE]... SRC REF BUILD OUT VARIANT FRAGMENT [PATCH...]" >&2; exit 2 ;;
	esac
done
# An untrusted build runs in a mount namespace of its own (getopts left
# the arguments as they were): its overlays are seen by nothing else and
# vanish with it, however it ends.
if [ -n "$layer" ] && [ "${RB_LAYER_NS:-}" != 1 ]; then
	RB_LAYER_NS=1 exec unshare --mount --propagation private -- sh "$self" "$@"
fi
shift $((OPTIND - 1))
src=$1 ref=$2 build=$3 out=$4 variant=$5 fragment=$(realpath "$6")
shift 6
log=$out/build.log
case $id in ''|*[!0-9a-f]*) echo "error: build id '$id' is not hex" >&2; exit 2 ;; esac
case $arch in
x86_64) image=bzImage boot=arch/x86/boot/bzImage ;;
arm64)  image=Image boot=arch/arm64/boot/Image ;;
*)      echo "error: arch '$arch' is not x86_64 or arm64" >&2; exit 2 ;;
esac
[ -n "$layer$ccw" ] || { echo "error: no ccache folder to write (-c)" >&2; exit 2; }
mkdir -p "$build" "$out"
[ -n "$layer" ] || mkdir -p "$ccw"
: > "$log"
phase() { echo "phase: $*" >&2; echo "== $*" >> "$log"; }
fail() { code=$1; shift; echo "error: variant '$variant': $* (log: $log)" >&2; exit "$code"; }

lastf=$build.rb-tree	# the tree BUILD last compiled whole (trusted builds write it)
# The source tree's lock: a trusted build checks out, patches and builds
# alone (builds of one source for two architectures share the tree);
# untrusted ones read the tree and BUILD together, through their
# overlays, while nothing changes them.
exec 9> "$src.lock"
flock ${layer:+-s} 9
if [ -n "$layer" ]; then
	case $src$build$layer in *[,:=[:space:]]*) fail 2 "a cache path with ',', ':', '=' or white space cannot hold an overlay; set RECLAIMBENCH_CACHE to a plain path" ;; esac
	rm -rf "$layer"
	mkdir -p "$layer/src.up" "$layer/src.work" "$layer/build.up" "$layer/build.work" "$layer/ccache"
	# The sandbox user owns the build folder it writes: the overlay's
	# root is the upper folder's (what it shows of BUILD is the user's
	# already), so nothing needs a chown that would copy the tree up.
	chown "${RECLAIMBENCH_SANDBOX_USER:-rb-sandbox}:" "$layer/build.up" "$layer/ccache" 2>/dev/null || true
	trap 'cd /; umount "$build" "$src" 2>/dev/null; rm -rf "$layer"' EXIT
	# Each overlay is mounted on its own lower folder, in this namespace
	# only: paths stay the same, so make's recorded command lines and
	# ccache's hashes match the trusted build's, and the build stays
	# incremental.
	overlay() {
		mount -t overlay overlay -o "lowerdir=$1,upperdir=$layer/$2.up,workdir=$layer/$2.work,metacopy=on" "$1" 2>> "$log" ||
			mount -t overlay overlay -o "lowerdir=$1,upperdir=$layer/$2.up,workdir=$layer/$2.work" "$1" >> "$log" 2>&1
	}
	overlay "$src" src && overlay "$build" build ||
		fail 3 "cannot mount the overlays of '$layer' (overlayfs and root needed)"
	ccw=$layer/ccache
fi

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
		git apply --index --whitespace=nowarn "$p" >> "$log" 2>&1 ||
			fail 2 "patch '$p' does not apply to $src; rebase it onto this source"
	fi
done
# The tree compiled, patches applied (git am and git apply --index keep
# the index in step): named in the kernel beside the build id.
tree=$(git write-tree) || fail 3 "cannot name the tree of '$src'"
stamp=rb-$id-$tree
# Reproducible: the time a build embeds (the default initramfs's mtimes)
# is the commit's, so the same tree builds the same image.
timestamp=$(git log -1 --format=%cd --date=iso-strict 2>/dev/null || echo 1970-01-01T00:00:00Z)
# make trusts mtimes.  What differs from the tree BUILD last compiled gets
# a fresh one, and a file of BUILD dated in the future (a clock set back)
# goes: whatever the clocks did, make rebuilds what changed.
last=$(cat "$lastf" 2>/dev/null || true)
if [ -n "$last" ] && git cat-file -e "$last^{tree}" 2>/dev/null; then
	git diff --name-only -z "$last" "$tree" | xargs -0 -r touch -c -- >> "$log" 2>&1 || true
fi
future=$(find "$build" -newermt "@$(($(date +%s) + 2))" -type f -print -delete 2>> "$log" | wc -l)
[ "$future" = 0 ] || phase "removed $future files of $build dated in the future"

# ccache in depend mode: a miss costs no extra preprocessor run (the
# kernel's -MMD lists the headers).
secondary=
for d in $ccr; do secondary="$secondary file:$d|read-only"; done
# sandbox STEP: one step of --inside in the sandbox; its errors to the log
# and to the user; exit 2 passes through, anything else is 3.  Its output
# (make's, in the log) is cut at 32 MB a stream: a build that floods it
# is stopped.
sandbox() {
	err=$out/.rb-err
	rc=0
	set -- "$1"
	for d in $ccr; do set -- "$@" -r "$d"; done
	step=$1; shift
	sh "$here/sandbox.sh" -t "${RECLAIMBENCH_BUILD_TIMEOUT:-3600}" -q "${RECLAIMBENCH_BUILD_DISK_MB:-8192}" \
		-m "${RECLAIMBENCH_BUILD_MEM_MB:-4096}" -o 32 \
		-w "$build" -w "$ccw" -r "$src" -r "$fragment" -r "$self" "$@" \
		-e CCACHE_DIR="$ccw" -e CCACHE_CONFIGPATH=/dev/null -e CCACHE_DEPEND=1 \
		-e "CCACHE_SECONDARY_STORAGE=${secondary# }" -e KBUILD_BUILD_VERSION="$stamp" \
		-e KBUILD_BUILD_USER=reclaimbench -e KBUILD_BUILD_HOST=rb-sandbox \
		-e "KBUILD_BUILD_TIMESTAMP=$timestamp" -- \
		sh "$self" --inside "$step" "$src" "$build" "$fragment" "$arch" >> "$log" 2> "$err" || rc=$?
	cat "$err" >> "$log"
	why=$(grep '^error: ' "$err" | sed 's/^error: //' | awk 'NR > 1 { printf "; " } { printf "%s", $0 }')
	rm -f "$err"
	[ "$rc" = 0 ] || fail "$([ "$rc" = 2 ] && echo 2 || echo 3)" "$step in the sandbox failed (status $rc): ${why:-no reason given}"
}

phase "configuring (tinyconfig + $(basename "$fragment"), $arch) in the sandbox${layer:+, in a layer of its own}"
sandbox configure
# The kernel's own version string (linux_banner, uname -v) is compiled
# into vmlinux only when vmlinux is linked, and make links it only when an
# object changed; the boot header's copy follows the version at once.  A
# build of the same tree under a new id would take a header naming the new
# id round a kernel naming the old one: init/version.o goes, so vmlinux is
# always linked anew.
rm -f "$build/init/version.o"
phase "compiling $image with -j$(nproc) in the sandbox"
sandbox compile
# What the sandbox left belongs to its user: only regular files of a sane
# size are taken (a link could name any file of the host, a fifo or a
# device would hang the copy).  The image last: with it the entry is complete.
take() {
	[ -f "$1" ] && [ ! -L "$1" ] && [ "$(stat -c %s "$1")" -le $((256 << 20)) ] ||
		fail 3 "the build left no plain file '$1'"
	cp -P "$1" "$2"
}
rm -f "$out/$image"
take "$build/.config" "$out/config"
take "$build/usr/gen_init_cpio" "$out/gen_init_cpio"
take "$build/$boot" "$out/$image.tmp"
# The image this compile wrote names this build and this tree; any other
# (one a compile left before, an object not rebuilt) is not taken.
said=$(grep -a -o -m 1 '#rb-[0-9a-f]*-[0-9a-f]*' "$out/$image.tmp" | head -n 1)
[ "$said" = "#$stamp" ] || { rm -f "$out/$image.tmp";
	fail 3 "the image in '$build' is not this build: it says '${said:-no build id}', not '#$stamp'"; }
# ...and so does the kernel inside it (the x86 header is only the loader's).
kernel=$(grep -a -o -m 1 '#rb-[0-9a-f]*-[0-9a-f]*' "$build/vmlinux" | head -n 1)
[ "$kernel" = "#$stamp" ] || { rm -f "$out/$image.tmp";
	fail 3 "the kernel linked in '$build' is not this build: it says '${kernel:-no build id}', not '#$stamp'"; }
# ...and so does the compressed kernel that x86's loader unpacks (a stale
# payload under a fresh header booted another build's kernel).  It is
# unpacked here by xz, at most 512 MiB, never by the tree's own scripts.
if [ "$image" = bzImage ]; then
	at=$(LC_ALL=C grep -a -b -o -m 1 -P '\xfd7zXZ\x00' "$out/$image.tmp" | head -n 1 | cut -d: -f1)
	inside=$([ -n "$at" ] && tail -c +$((at + 1)) "$out/$image.tmp" | xz -dc --single-stream 2>/dev/null |
		head -c $((512 << 20)) | grep -a -o -m 1 '#rb-[0-9a-f]*-[0-9a-f]*' | head -n 1)
	[ "$inside" = "#$stamp" ] || { rm -f "$out/$image.tmp" "$build/$boot" "$build"/arch/x86/boot/compressed/vmlinux.bin*
		fail 3 "the kernel packed in '$build/$boot' is not this build: it says '${inside:-no build id}', not" \
			"'#$stamp' (its compressed payload removed: build again)"; }
fi
printf '%s\n' "$tree" > "$out/tree"
[ -n "$layer" ] || printf '%s\n' "$tree" > "$lastf"
mv "$out/$image.tmp" "$out/$image"
phase "done"
