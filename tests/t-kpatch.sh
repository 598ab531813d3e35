#!/bin/sh
# The project's own kernel side, on real trees and booted kernels: every
# config fragment survives olddefconfig on 6.12 and 7.3, kernels/debug.conf
# mirrors kernels/variants.conf, 7.3-pmd-discard skips redirtied PMD THPs
# without a split and loses no data, 7.3-no-swapbacked-iff-dirty makes clean
# lazyfree folios that hold a reference swap-backed (lazyfree_ref), 7.3-no-zap-batch zaps anonymous mTHPs
# one PTE at a time, and the guest config can MADV_COLLAPSE a memfd range.
# The probes boot as /init (RECLAIMBENCH_INIT): each such boot is stored as
# a failed run (no records), which is expected; their consoles are read.
. "$(dirname "$0")/lib.sh"
db=$work/kpatch.db
kc=$top/kernels/config

# 1. debug.conf: each variant of variants.conf, same source, patches and
# command line, with debug.config merged last.
"$rb" list variants --variants "$top/kernels/variants.conf" > "$work/plain" && "$rb" list variants --variants "$top/kernels/debug.conf" > "$work/debug"
ok $? "both spec files parse"
awk -v dbg="$kc/debug.config" '
	/^[^ ]/ { if (name != "") flush(); name = $0; nc = 0; nb = 0; next }
	/^  config/ { c[nc++] = $0; next }
	{ b[nb++] = $0 }
	function flush(  i) {
		print name "-debug"
		for (i = 0; i < nb; i++) if (b[i] !~ /^  patch/) print b[i]
		for (i = 0; i < nc; i++) print c[i]
		print "  config  " dbg
		for (i = 0; i < nb; i++) if (b[i] ~ /^  patch/) print b[i]
	}
	END { if (name != "") flush() }' "$work/plain" > "$work/want"
diff "$work/want" "$work/debug" > "$work/spec.diff"
ok $? "debug.conf holds every variant of variants.conf plus debug.config" "$(wc -l < "$work/spec.diff") lines differ"
for v in 7.3-pmd-discard 7.3-no-zap-batch 7.3-no-swapbacked-iff-dirty; do
	grep -qx "$v" "$work/plain"; ok $? "variants.conf defines $v (built by the default run)"
done

# 2. Fragments against the real trees: tinyconfig, merge, olddefconfig in a
# private build folder (nothing written to the shared source or build).
survives() { # survives SRC NAME FRAGMENT...
	src=$1 name=$2; shift 2
	o=$work/cfg-$name
	mkdir -p "$o" && cat "$@" > "$o/frag.config" &&
	make -s -C "$src" O="$o" HOSTCC=gcc tinyconfig > "$o/log" 2>&1 &&
	"$src/scripts/kconfig/merge_config.sh" -m -O "$o" "$o/.config" "$o/frag.config" >> "$o/log" 2>&1 &&
	make -s -C "$src" O="$o" HOSTCC=gcc olddefconfig >> "$o/log" 2>&1 || { echo "configure failed"; return; }
	grep -E '^CONFIG_[A-Za-z0-9_]+=' "$o/frag.config" | while IFS= read -r l; do
		grep -qxF "$l" "$o/.config" || printf '%s ' "${l%%=*}"
	done
}
for ver in 6.12 7.3; do
	src=$("$top/runners/scripts/kernel-source.sh" "debian:$ver" 2> "$work/src.log" | head -n 1)
	if [ ! -f "$src/Makefile" ]; then skip "no linux-source-$ver: $(tail -n 1 "$work/src.log")"; continue; fi
	extra=; [ $ver = 7.3 ] && extra=$kc/7.3.config
	m=$(survives "$src" "$ver" "$kc/guest.config" $extra)
	[ -z "$m" ]; ok $? "$ver: guest.config (and 7.3.config on 7.3) survives olddefconfig" \
		"guest.config${extra:+ + 7.3.config}; lost: ${m:-none}"
	m=$(survives "$src" "$ver-debug" "$kc/guest.config" $extra "$kc/debug.config")
	[ -z "$m" ]; ok $? "$ver: + debug.config survives olddefconfig" "lost: ${m:-none}"
done
# The check above must be able to fail: an option no tree has.
[ -n "$src" ] && [ -f "$src/Makefile" ] && {
	printf 'CONFIG_RECLAIMBENCH_NO_SUCH_OPTION=y\n' > "$work/bogus.config"
	m=$(survives "$src" bogus "$kc/guest.config" "$work/bogus.config")
	[ "$m" = "CONFIG_RECLAIMBENCH_NO_SUCH_OPTION " ]; ok $? "an unknown option is reported as lost" "$m"
}

# 3. pmd_redirty: stock 7.3 splits all 64 PMDs; 7.3-pmd-discard splits
# none, discards none (all redirtied) and every page keeps its new data.
"$rb" run 7.3 7.3-pmd-discard --bench pmd_redirty --reps 2 --db "$db" --out "$work/out" > "$work/pmd.log" 2>&1
ok $? "run 7.3 7.3-pmd-discard --bench pmd_redirty" "$(tail -n 1 "$work/pmd.log")"
# Every repetition (timed and counting) of each variant: "DISTINCT-VALUES/COUNT".
val() { q "$db" "SELECT group_concat(DISTINCT CAST(s.value AS INTEGER))||'/'||count(*) FROM samples s
	JOIN runs r ON r.id = s.run_id JOIN kernels k ON k.id = r.kernel_id
	WHERE k.variant = '$1' AND r.bench = '$2' AND s.metric = '$3' AND r.status = 'ok'"; }
each() { case $1 in "$2"/[2-9]|"$2"/[1-9][0-9]) return 0;; esac; return 1; }
s73=$(val 7.3 pmd_redirty vmstat.thp_split_pmd) spd=$(val 7.3-pmd-discard pmd_redirty vmstat.thp_split_pmd)
each "$s73" 64; ok $? "7.3 (stable change: no PMD-level lazyfree path): thp_split_pmd 64 in every repetition" "$s73"
each "$spd" 0; ok $? "7.3-pmd-discard: thp_split_pmd 0 in every repetition" "$spd"
l=$(val 7.3-pmd-discard pmd_redirty check.lost_pages)
each "$l" 0; ok $? "7.3-pmd-discard: no redirtied page lost" "$l"
f=$(val 7.3-pmd-discard pmd_redirty vmstat.pglazyfreed)
each "$f" 0; ok $? "7.3-pmd-discard: nothing redirtied was discarded, pglazyfreed 0" "$f"
w=$(val 7.3-pmd-discard pmd_redirty kernel.warnings)
each "$w" 0 || [ "$w" = 0/1 ]; ok $? "7.3-pmd-discard: no kernel warning on the console" "$w"

# 3b. lazyfree_ref, seed 002 patch 1/4's positive control: of the 32 clean
# lazyfree mTHPs a pipe holds during MADV_PAGEOUT, 7.3 makes none
# swap-backed and frees all once the pipe is gone; without the patch every
# one is made swap-backed and stays (no swap device).
"$rb" run 7.3 7.3-no-swapbacked-iff-dirty --bench lazyfree_ref --reps 2 --db "$db" --out "$work/out" > "$work/ref.log" 2>&1
ok $? "run 7.3 7.3-no-swapbacked-iff-dirty --bench lazyfree_ref" "$(tail -n 1 "$work/ref.log")"
for m in probe.swapbacked probe.kept; do
	a=$(val 7.3 lazyfree_ref $m) b=$(val 7.3-no-swapbacked-iff-dirty lazyfree_ref $m)
	each "$a" 0; ok $? "7.3: $m 0 of 32 held folios in every repetition" "$a"
	each "$b" 32; ok $? "7.3-no-swapbacked-iff-dirty: $m 32 of 32 in every repetition" "$b"
done

# 4. zap_probe as the guest's /init: the batched zap queues no mTHP for
# deferred split, the one-PTE zap queues every one (1024 of 64 MiB).
for p in zap_probe collapse_probe pmd_free_probe; do cc -static -O2 -o "$work/$p" "$top/tests/helper/$p.c" || break; done
ok $? "probes compile"
console() { # console VARIANT INIT: boot it with INIT as /init, print the console
	RECLAIMBENCH_INIT=$2 "$rb" run "$1" --bench pmd_redirty --timeout 600 --db "$db" --out "$work/out" > "$work/boot.log" 2>&1
	cat "$(q "$db" "SELECT console_log FROM runs ORDER BY id DESC LIMIT 1")"
}
for v in 7.3 7.3-no-zap-batch; do
	console $v "$work/zap_probe" > "$work/zap-$v.log"
	sd=$(sed -n 's/.*kind=time .*split_deferred=\([0-9-]*\).*/\1/p' "$work/zap-$v.log" | sort -u | tr '\n' ' ')
	want="0 "; [ $v = 7.3-no-zap-batch ] && want="1024 "
	[ "$sd" = "$want" ]; ok $? "$v: zap_probe split_deferred per zap as the variant's batching gives" "${sd:-none} (want $want)"
done
# 5. pmd_free_probe: half the THPs clean, half redirtied.  Stock 7.3 splits
# all 16; 7.3-pmd-discard splits none, discards the 8 clean ones whole
# (4096 pages lazyfreed) and keeps every redirtied page.
for v in 7.3 7.3-pmd-discard; do
	console $v "$work/pmd_free_probe" | tr -d '\r' > "$work/pf-$v.log"
	got=$(sed -n 's/^pmd_free_probe: rep=[0-9]* thps=16 ns=[0-9]* \(.*\)/\1/p' "$work/pf-$v.log" | sort | uniq -c | sed 's/^ *//')
	want="5 split_pmd=16 lazyfreed=4096 lost=0 zeroed=4096"
	[ $v = 7.3-pmd-discard ] && want="5 split_pmd=0 lazyfreed=4096 lost=0 zeroed=4096"
	[ "$got" = "$want" ]; ok $? "$v: clean and redirtied PMD THPs split, lazyfreed and kept as the variant says" \
		"${got:-no output} (want $want)"
done

# 6. The guest config gives collapse_race shmem THP and MADV_COLLAPSE.
for v in 6.12 7.3; do
	console $v "$work/collapse_probe" > "$work/collapse-$v.log"
	grep -q '^collapse_probe: PASS' "$work/collapse-$v.log"
	ok $? "$v: MADV_COLLAPSE of a memfd range" "$(grep -E 'ShmemPmdMapped|FAIL' "$work/collapse-$v.log" | head -n 1)"
done
done_testing
