#!/bin/sh
# Make a kernel source ready in the cache and print three lines: the tree's
# path, the git ref to build from, and an id that names the exact source.
#
#   kernel-source.sh debian:VERSION   Debian's linux-source-VERSION, unpacked
#                                     once and made a git repository (tag
#                                     rb-base) so patches apply to a clean base
#   kernel-source.sh git:DIR@REF      a clone of DIR in the cache (DIR itself
#                                     is never touched), at REF
#   kernel-source.sh dir:DIR          a copy of the folder, made anew each
#                                     time (what a build applied to the
#                                     last copy never stays), committed
#
# Packages in the system's own suites are installed with apt-get; a version
# that lives only in trixie-backports is downloaded with a private apt
# configuration in the cache (the system's sources stay untouched).  The
# mirror is read from the system's apt source files, never written here.
set -eu
spec=${1:?usage: kernel-source.sh debian:VERSION|git:DIR@REF|dir:DIR}
cache=${RECLAIMBENCH_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/reclaimbench}
mkdir -p "$cache/src"
say() { echo "kernel-source: $*" >&2; }
fail() { code=$1; shift; echo "error: $*" >&2; exit "$code"; }
git_id() { git -c user.name=reclaimbench -c user.email=reclaimbench@localhost "$@"; }
key() { printf '%s' "$1" | cksum | cut -d' ' -f1; }

# Commit everything in $1 as the base of builds (tag rb-base).
commit_tree() {
	# Debian's packaging rule '/*' at the end of .gitignore hides the whole
	# tree from git; drop it, from a plain file only (a link could name
	# any file of the host, read and written with our rights).
	if [ -f "$1/.gitignore" ] && [ ! -L "$1/.gitignore" ]; then sed -i '\#^/\*$#d' "$1/.gitignore"; fi
	[ -d "$1/.git" ] || git -C "$1" init -q
	# A copy made anew keeps its files' mtimes: git needs no rehash of
	# the files whose size and mtime did not change.
	git -C "$1" config core.checkStat minimal && git -C "$1" config core.trustctime false
	git -C "$1" add -A >&2
	git -C "$1" diff --cached --quiet 2>/dev/null && git -C "$1" rev-parse -q --verify HEAD >/dev/null ||
		git_id -C "$1" commit -q -m "reclaimbench base" >&2
	git -C "$1" tag -f rb-base >/dev/null
}

# The first archive URI of the system's Debian sources (deb822 or one-line).
mirror() {
	{ sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null
	  sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\).*/\2/p' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
	} | tr ' ' '\n' | grep -E '/debian/?$' | head -n 1
}

debian() {
	ver=$1
	case $ver in *[!0-9.]*|'') fail 2 "bad Debian kernel version '$ver' (want e.g. 6.12)";; esac
	pkg=linux-source-$ver
	dest=$cache/src/$pkg
	if [ ! -f "$dest/.unpacked" ]; then
		tarball=/usr/src/$pkg.tar.xz
		if [ -f "$tarball" ] || apt-cache show "$pkg" >/dev/null 2>&1; then
			[ -f "$tarball" ] || { say "installing $pkg with apt-get";
				DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >&2; }
			pkgver=$(dpkg-query -W -f='${Version}' "$pkg")
		else
			uri=$(mirror)
			[ -n "$uri" ] || fail 3 "no Debian mirror in the apt sources of /etc/apt; add one"
			apt=$cache/apt
			mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/deb"
			echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie-backports main" \
				> "$apt/sources.list"
			set -- -o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
				-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt" -o APT::Sandbox::User=root
			say "fetching $pkg from trixie-backports"
			apt-get "$@" -q update >&2 || fail 3 "apt-get update of trixie-backports failed"
			(cd "$apt/deb" && apt-get "$@" -q download "$pkg" >&2) || fail 3 "cannot download $pkg"
			deb=$(ls "$apt/deb/${pkg}"_*.deb | tail -n 1)
			pkgver=$(dpkg-deb -f "$deb" Version)
			rm -rf "$apt/root" && dpkg -x "$deb" "$apt/root"
			tarball=$apt/root/usr/src/$pkg.tar.xz
		fi
		[ -f "$tarball" ] || fail 3 "$tarball missing after installing $pkg"
		say "unpacking $tarball into $dest"
		rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
		tar -xJf "$tarball" -C "$dest.tmp" --strip-components=1
		say "making a git repository of $dest (once)"
		commit_tree "$dest.tmp"
		rm -rf "$dest" && mv "$dest.tmp" "$dest"
		echo "debian:$pkg=$pkgver" > "$dest/.git/rb-source-id"
		touch "$dest/.unpacked"
	fi
	printf '%s\nrb-base\n%s\n' "$dest" "$(cat "$dest/.git/rb-source-id")"
}

gittree() {
	dir=${1%@*} ref=${1##*@}
	# A ref as git names one; no leading '-' that git would take for an option.
	case $ref in
	''|-*|*[!A-Za-z0-9._/~^{}@-]*) fail 2 "ref '$ref' is not a git ref (letters, digits and ._/-~^{}@ only)" ;;
	esac
	# The user's tree is only read, and its own config names no program for us.
	ugit() { git -c core.fsmonitor=false -c core.hooksPath=/dev/null -C "$dir" "$@"; }
	ugit rev-parse --git-dir >/dev/null 2>&1 || fail 2 "'$dir' is not a git repository; pass --tree DIR of a git tree"
	sha=$(ugit rev-parse -q --verify "$ref^{commit}") || fail 2 "ref '$ref' is not a commit in '$dir'"
	dir=$(cd "$dir" && pwd)
	dest=$cache/src/git-$(key "$dir")
	[ -d "$dest/.git" ] || { say "cloning $dir into $dest (once)"; git clone -q --no-checkout "$dir" "$dest" >&2; }
	git -C "$dest" cat-file -e "$sha^{commit}" 2>/dev/null ||
		git -C "$dest" fetch -q "$dir" "$sha" >&2 || git -C "$dest" fetch -q origin >&2 ||
		fail 3 "cannot fetch $sha from '$dir'"
	printf '%s\n%s\ngit:%s\n' "$dest" "$sha" "$sha"
}

plaindir() {
	dir=$1
	[ -f "$dir/Makefile" ] && [ -d "$dir/mm" ] || fail 2 "'$dir' is not a kernel source folder (no Makefile or mm/)"
	dir=$(cd "$dir" && pwd)
	dest=$cache/src/dir-$(key "$dir")
	# A .git of the folder (a directory, or a file naming another one)
	# would bring its own config and hooks into our git commands.
	[ ! -e "$dir/.git" ] && [ ! -L "$dir/.git" ] || fail 2 "'$dir' is a git tree; use git:$dir@REF"
	# Everything is copied with our rights, so everything must be what
	# any user may read (links are copied as links, never followed).
	bad=$(find "$dir" \( \( -type d ! -perm -o+rx \) -o \( ! -type d ! -type l ! -perm -o+r \) \) -print -quit)
	[ -z "$bad" ] || fail 2 "'$bad' in '$dir' is not readable by every user; a dir: source must be (chmod -R o+rX '$dir')"
	# Made anew under the tree's lock (kernel-build.sh takes it): no build
	# reads the tree while it changes.
	exec 8> "$dest.lock"
	flock 8
	say "copying $dir into $dest"
	mkdir -p "$dest" && find "$dest" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} + &&
		cp -a "$dir/." "$dest/" || fail 3 "cannot copy '$dir' into '$dest'"
	commit_tree "$dest"
	printf '%s\nrb-base\ndir:%s\n' "$dest" "$(git -C "$dest" rev-parse HEAD^{tree})"
}

case $spec in
debian:*) debian "${spec#debian:}" ;;
git:*@*) gittree "${spec#git:}" ;;
dir:*) plaindir "${spec#dir:}" ;;
*) fail 2 "source '$spec' is not debian:VERSION, git:DIR@REF or dir:DIR" ;;
esac
