# The test tree of the bisection tests (sourced after lib.sh): a git tree
# made from Debian's 7.3 source with 8 commits, the fifth switching
# batched lazyfree unmap off.  Sets cache, tree, good, bad, culprit; ends
# the test (skipped) when the 7.3 source cannot be made ready.
cache=${RECLAIMBENCH_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/reclaimbench}
src=$("$top/runners/scripts/kernel-source.sh" debian:7.3 | head -n 1) || { ok 1 "7.3 source ready"; done_testing; exit 0; }
tree=$cache/test-trees/linux-7.3-bisect
# The same commits (same dates, same author) every time, so the clone and
# the builds in the cache serve every run of these tests.
export GIT_AUTHOR_NAME=reclaimbench GIT_AUTHOR_EMAIL=tests@localhost GIT_COMMITTER_NAME=reclaimbench \
	GIT_COMMITTER_EMAIL=tests@localhost GIT_AUTHOR_DATE='2026-11-21T00:00:00Z' GIT_COMMITTER_DATE='2026-11-21T00:00:00Z'
if [ ! -f "$tree.ready" ]; then
	rm -rf "$tree" && mkdir -p "$(dirname "$tree")"
	git clone -q -b rb-base "$src" "$tree" 2>/dev/null && git -C "$tree" checkout -q -b bisect-test
	for i in 1 2 3 4 5 6 7 8; do
		if [ $i = 5 ]; then
			git -C "$tree" apply "$top/kernels/patches/7.3/no-lazyfree-batch.patch"
			msg="mm/rmap: no batched unmap of lazyfree folios"
		else
			echo "note $i" >> "$tree/Documentation/rb-bisect-notes.txt"
			msg="Documentation: note $i"
		fi
		git -C "$tree" add -A && git -C "$tree" commit -q -m "$msg"
	done
	touch "$tree.ready"
fi
good=$(git -C "$tree" rev-parse HEAD~8) bad=$(git -C "$tree" rev-parse HEAD) culprit=$(git -C "$tree" rev-parse HEAD~3)
