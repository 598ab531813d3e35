#!/bin/sh
# Hostile builds and sources against the build cache: every kernel is the
# kernel its build id names, and nothing an untrusted build writes reaches
# a trusted one.
#  1. a spec that names a host file as a config fragment or a patch;
#  2. a dir: source: made anew from its folder every time, a .gitignore
#     that is a link committed as a link, a file not every user may read
#     refused;
#  3. a wrong image planted in the cache is built again; one whose header
#     lies is booted, and its runs are refused;
#  4. an untrusted patch whose Makefile plants a file in the build folder,
#     touches a trusted object and writes a ccache.conf into every ccache
#     folder it can name: the trusted folders are untouched, and the
#     trusted kernel built after it is the same image.
. "$(dirname "$0")/lib.sh"
cache=${RECLAIMBENCH_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/reclaimbench}
id=$(basename "$work")
db=$work/b.db

# --- 1. files a spec names ---------------------------------------------------
for key in config patch; do
	printf '[evil]\nsource = debian:7.3\nconfig = %s/kernels/config/guest.config\n%s = /etc/shadow\n' \
		"$top" "$key" > "$work/evil-$key.conf"
	"$rb" build evil --variants "$work/evil-$key.conf" --db "$db" > "$work/evil-$key.log" 2>&1; rc=$?
	[ $rc = 2 ] && grep -q "'/etc/shadow' is readable only by its owner and group" "$work/evil-$key.log" &&
		! ls "$cache"/kernels/*/fragment.config 2>/dev/null | xargs grep -l '^root:' 2>/dev/null | grep -q .
	ok $? "$key = /etc/shadow is refused and nothing of it reaches the cache" "exit $rc"
done
printf '[evil]\nsource = debian:7.3\nconfig = /dev/zero\n' > "$work/evil-dev.conf"
"$rb" build evil --variants "$work/evil-dev.conf" --db "$db" > "$work/evil-dev.log" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "'/dev/zero' is not a plain file" "$work/evil-dev.log"
ok $? "config = /dev/zero is refused as not a plain file" "exit $rc"

# --- 2. a dir: source --------------------------------------------------------
d=$work/dirsrc
mkdir -p "$d/mm" && echo 'obj-y += mm/' > "$d/Makefile" && echo 'int x;' > "$d/mm/x.c"
chmod -R o+rX "$work"
secret=/root/rb-secret-$id
echo "secret-$id" > "$secret" && chmod 600 "$secret"
ln -s "$secret" "$d/.gitignore"
out=$("$top/runners/scripts/kernel-source.sh" "dir:$d" 2> "$work/dir.log")
dest=$(echo "$out" | sed -n 1p) id1=$(echo "$out" | sed -n 3p)
[ -n "$dest" ] && [ -L "$dest/.gitignore" ] && [ "$(git -C "$dest" cat-file -p rb-base:.gitignore)" = "$secret" ] &&
	! git -C "$dest" grep -q "secret-$id" rb-base && [ "$(cat "$secret")" = "secret-$id" ]
ok $? "a .gitignore that links to a root-only file is committed as the link, its target neither read nor changed"
echo 'int left_by_a_build;' >> "$dest/mm/x.c" && echo 'int y;' > "$dest/mm/left.c"
out=$("$top/runners/scripts/kernel-source.sh" "dir:$d" 2>> "$work/dir.log")
[ "$(echo "$out" | sed -n 3p)" = "$id1" ] && [ ! -e "$dest/mm/left.c" ] && cmp -s "$d/mm/x.c" "$dest/mm/x.c"
ok $? "the next use of the dir: source is its folder again, not what a build left in the copy" "id $id1"
echo 'int z;' > "$d/mm/private.c" && chmod 600 "$d/mm/private.c"
"$top/runners/scripts/kernel-source.sh" "dir:$d" > /dev/null 2> "$work/dir2.log"; rc=$?
[ $rc = 2 ] && grep -q "mm/private.c' in '$d' is not readable by every user" "$work/dir2.log"
ok $? "a file of the folder that not every user may read is refused" "exit $rc; $(cat "$work/dir2.log")"
rm -f "$secret"
[ -n "$dest" ] && rm -rf "$dest" "$dest.lock"

# --- 3. images that are not their build ----------------------------------------
"$rb" build 6.12 7.3 --db "$db" > "$work/build.log" 2>&1 || { ok 1 "6.12 and 7.3 build"; done_testing; exit 0; }
img612=$(awk '$1 == "6.12" { print $3 }' "$work/build.log") img73=$(awk '$1 == "7.3" { print $3 }' "$work/build.log")
id73=$(awk '$1 == "7.3" { print $2 }' "$work/build.log")
stamp() { grep -a -o -m 1 '#rb-[0-9a-f]*-[0-9a-f]*' "$1" | head -n 1; }
sum73=$(sha256sum < "$img73")
[ "$(stamp "$img73")" = "#rb-$id73-$(cat "$(dirname "$img73")/tree")" ]
ok $? "the 7.3 image names its build id and tree in its header" "$(stamp "$img73")"
cp "$img612" "$img73"
"$rb" build 7.3 --db "$db" > "$work/rebuild.log" 2>&1; rc=$?
[ $rc = 0 ] && grep -q "did not name build $id73" "$work/rebuild.log" && [ "$(sha256sum < "$img73")" = "$sum73" ]
ok $? "6.12's image planted as 7.3's is built again, the same image as before" "exit $rc"
# 6.12's image with 7.3's stamp written into its header: the cache takes
# it, the guest says what it is.
cp "$img612" "$work/forged"
off=$(grep -a -b -o -m 1 '#rb-[0-9a-f]*-[0-9a-f]*' "$work/forged" | head -n 1 | cut -d: -f1)
printf '%s' "$(stamp "$img73")" | dd of="$work/forged" bs=1 seek="$off" conv=notrunc 2> /dev/null
cp "$work/forged" "$img73"
"$rb" run 7.3 --bench lazyfree_mthp --reps 1 --db "$db" --out "$work/out" > "$work/forged.log" 2>&1; rc=$?
reason=$(q "$db" "SELECT reason FROM runs r JOIN kernels k ON k.id = r.kernel_id WHERE k.variant = '7.3' ORDER BY r.id DESC LIMIT 1")
[ $rc = 3 ] && [ "$(q "$db" "SELECT count(*) FROM runs WHERE status = 'ok'")" = 0 ] &&
	echo "$reason" | grep -q "is not build $id73 of '7.3'" && [ ! -e "$img73" ]
ok $? "a forged image boots, its run is refused and its cache entry removed" "exit $rc; $reason"
"$rb" build 7.3 --db "$db" > "$work/rebuild2.log" 2>&1 && [ "$(sha256sum < "$img73")" = "$sum73" ]
ok $? "the next build of 7.3 makes the image again, the same as before"

# --- 4. an untrusted build plants what it can ----------------------------------
src=$("$top/runners/scripts/kernel-source.sh" debian:7.3 2> /dev/null | head -n 1)
# The trusted build folders of the source (one per configuration).
trusted=$cache/build/$(basename "$src")-c
mkdir -p "$work/a/mm" "$work/b/mm"
git -C "$src" show rb-base:mm/Makefile > "$work/a/mm/Makefile"
cp "$work/a/mm/Makefile" "$work/b/mm/Makefile"
cat >> "$work/b/mm/Makefile" <<EOF
# What a hostile patch tries while its tree builds.
\$(shell echo poison > \$(objtree)/rb-poison-$id 2>/dev/null)
\$(shell touch \$(objtree)/mm/rmap.o 2>/dev/null)
\$(shell printf 'prefix_command=/tmp/rb-poison-$id\n' > \$(CCACHE_DIR)/ccache.conf 2>/dev/null)
\$(shell printf 'prefix_command=/tmp/rb-poison-$id\n' > $cache/ccache/ccache.conf 2>/dev/null)
EOF
{ printf 'From: attacker\nSubject: [PATCH] mm: plant\n\n---\n'; (cd "$work" && diff -u a/mm/Makefile b/mm/Makefile); } > "$work/plant.patch"
chmod o+r "$work/plant.patch"
printf '[planted]\ninherit = 7.3\npatch = %s\n' "$work/plant.patch" > "$work/plant.conf"
sed -n '/^\[7.3\]/,/^$/p' "$top/kernels/variants.conf" | cat - "$work/plant.conf" > "$work/both.conf"
sed -i "s#config/#$top/kernels/config/#" "$work/both.conf"
touch "$work/marker"
sleep 1
"$rb" build planted --variants "$work/both.conf" --db "$db" > "$work/plant.log" 2>&1; rc=$?
pid=$(awk '$1 == "planted" { print $2 }' "$work/plant.log")
changed=$(find "$trusted"* "$cache/ccache" -newer "$work/marker" 2>/dev/null | head -n 3 | tr '\n' ' ')
[ $rc = 0 ] && grep -q "in the sandbox, in a layer of its own" "$cache/kernels/$pid/build.log" && [ -z "$changed" ] &&
	! ls "$trusted"*/rb-poison-$id > /dev/null 2>&1 && [ ! -e "$cache/ccache/ccache.conf" ] && [ ! -e "$cache/layers/$pid" ]
ok $? "the untrusted build changed nothing in the trusted build folder or ccache and left no layer" \
	"exit $rc; newer: ${changed:-nothing}"
rm -f "$img73"
"$rb" build 7.3 --db "$db" > "$work/after.log" 2>&1 && [ "$(sha256sum < "$img73")" = "$sum73" ]
ok $? "7.3 built again after it: the same image"
done_testing
