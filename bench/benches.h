/* The table of benchmarks: one line each, in run order. */
BENCH(lazyfree_mthp)
BENCH(pmd_redirty)
BENCH(ttu_sync_race)
BENCH(pt_reclaim)
BENCH(pmd_lazyfree)
BENCH(zap_mthp)
BENCH(collapse_race)
BENCH(lazyfree_ref)
