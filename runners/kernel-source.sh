#!/bin/sh
# Unpack a Debian kernel source package into the cache, once, and print the
# path of the tree.  Usage: kernel-source.sh VERSION   (e.g. 6.12, 7.3)
#
# Packages in the system's own suites are installed with apt-get; a version
# that lives only in trixie-backports is downloaded with a private apt
# configuration in the cache (the system's sources stay untouched).  The
# mirror is read from the system's apt source files, never written here.
set -eu
ver=${1:?usage: kernel-source.sh VERSION}
case $ver in *[!0-9.]*|'') echo "kernel-source: bad version '$ver' (want e.g. 6.12)" >&2; exit 2;; esac
cache=${RECLAIMBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reclaimbench}
pkg=linux-source-$ver
dest=$cache/src/$pkg
[ -f "$dest/.unpacked" ] && { echo "$dest"; exit 0; }
mkdir -p "$cache/src"
say() { echo "kernel-source: $*" >&2; }

# The first archive URI of the system's Debian sources (deb822 or one-line).
mirror() {
	{ sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null
	  sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\).*/\2/p' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
	} | tr ' ' '\n' | grep -E '/debian/?$' | head -n 1
}

tarball=/usr/src/$pkg.tar.xz
if [ ! -f "$tarball" ]; then
	if apt-cache show "$pkg" >/dev/null 2>&1; then
		say "installing $pkg with apt-get"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >&2
	else
		uri=$(mirror)
		[ -n "$uri" ] || { say "no Debian mirror in /etc/apt sources; add one"; exit 3; }
		apt=$cache/apt
		mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/deb"
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie-backports main" \
			> "$apt/sources.list"
		set -- -o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
			-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt"
		say "fetching $pkg from trixie-backports"
		apt-get "$@" -q update >&2
		(cd "$apt/deb" && apt-get "$@" -q download "$pkg" >&2)
		deb=$(ls "$apt/deb/${pkg}"_*.deb | tail -n 1)
		rm -rf "$apt/root" && dpkg -x "$deb" "$apt/root"
		tarball=$apt/root/usr/src/$pkg.tar.xz
	fi
fi
[ -f "$tarball" ] || { say "$tarball missing after install"; exit 3; }
say "unpacking $tarball into $dest"
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
tar -xJf "$tarball" -C "$dest.tmp" --strip-components=1
# Debian's packaging rule '/*' at the end of .gitignore hides the whole tree
# from git; drop it so the tree can be committed or diffed.
sed -i '\#^/\*$#d' "$dest.tmp/.gitignore" 2>/dev/null || true
rm -rf "$dest" && mv "$dest.tmp" "$dest" && touch "$dest/.unpacked"
echo "$dest"
