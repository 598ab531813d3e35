#!/bin/sh
# Build one kernel variant.  Usage:
#   kernel-build.sh SRC REF BUILD OUT VARIANT FRAGMENT [PATCH...]
# SRC is a git tree made ready by kernel-source.sh, checked out at REF
# before the patches apply (unchanged files keep their mtimes, so the
# shared build folder stays incremental);
# BUILD is the one out-of-tree build folder of that source (incremental);
# OUT receives bzImage and .config.  Logs go to OUT/build.log.
# Exit 2: bad input (a patch that does not apply, an option that does not
# survive olddefconfig); exit 3: the build itself failed.
set -eu
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

phase "configuring (tinyconfig + $(basename "$fragment"))"
cc="ccache gcc"
command -v ccache >/dev/null && ccache -s >/dev/null 2>&1 || cc=gcc	# e.g. no HOME for its cache
mk() { make -s -C "$src" O="$build" CC="$cc" HOSTCC=gcc "$@"; }
tmp=$build/.rb-config
{ mk KCONFIG_CONFIG=.rb-config tinyconfig &&
  mkdir -p "$build/.rb-merge" &&
  "$src/scripts/kconfig/merge_config.sh" -m -O "$build/.rb-merge" "$tmp" "$fragment" &&
  mv "$build/.rb-merge/.config" "$tmp" &&
  mk KCONFIG_CONFIG=.rb-config olddefconfig; } >> "$log" 2>&1 || fail 3 "configuration failed"
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
if cmp -s "$tmp" "$build/.config"; then rm -f "$tmp"; else mv "$tmp" "$build/.config"; fi

phase "compiling bzImage with -j$(nproc)"
mk -j"$(nproc)" bzImage >> "$log" 2>&1 || fail 3 "compile failed; see the first 'error:' in the log"
cp "$build/arch/x86/boot/bzImage" "$out/bzImage.tmp" && mv "$out/bzImage.tmp" "$out/bzImage"
cp "$build/.config" "$out/config"
cp "$build/usr/gen_init_cpio" "$out/gen_init_cpio"
phase "done"
