#!/usr/bin/env python3
"""A synthetic nightly history in a reclaimbench database.
  history_db.py DB SHAPE NIGHTS   SHAPE (drift, noisy or step) over NIGHTS
      nights of lazyfree_mthp, three repetitions of time.wall a night with
      +-0.5% noise from a fixed seed, on made-up commits;
  history_db.py DB tree METRIC VALUE@SHA...   one night of lazyfree_mthp
      per argument, on that real commit, three repetitions of METRIC at
      VALUE (an exact counter: what a boot of that commit would store).
The database must exist (made by reclaimbench, so its schema is the
program's)."""
import random
import sqlite3
import sys

path, shape = sys.argv[1], sys.argv[2]
rnd = random.Random(7)


def level(i, nights):
    if shape == 'drift':
        return 1e7 * (1 + 0.01 * i)          # 1% a night
    if shape == 'noisy':
        return 1e7 * (1.3 if i == nights // 2 else 1)   # one night 30% slower
    if shape == 'step':
        # 20% slower from night 20 on; night 21 noisy, back at the old level
        return 1e7 * (1.2 if i >= 20 and i != 21 else 1)
    raise SystemExit(f'unknown shape {shape}')


def night(db, i, sha, metric, unit, values):
    kernel = db.execute("INSERT INTO kernels (release, version, variant, build_id, source) VALUES ('7.3', ?, "
                        "'nightly', ?, ?)", (f'#rb-{i}', f'{i:016x}', 'git:' + sha)).lastrowid
    run = db.execute("INSERT INTO runs (session, machine_id, kernel_id, bench, bench_version, params, accel, "
                     "status, started_at) VALUES (?, 1, ?, 'lazyfree_mthp', 2, 'reps=3,region-mb=128,mthp-kb=64', "
                     "'tcg-icount', 'ok', ?)", (f'nightly-{i}', kernel, f'2026-11-{1 + i % 28:02d}T02:00:00Z')).lastrowid
    for rep, v in enumerate(values):
        db.execute("INSERT INTO samples (run_id, kind, rep, metric, value, unit) VALUES (?, 'timed', ?, ?, ?, ?)",
                   (run, rep, metric, v, unit))


db = sqlite3.connect(path)
db.execute("INSERT OR IGNORE INTO machines VALUES (1, 'fp', 'h', 'cpu', 2, 1, 'k')")
if shape == 'tree':
    for i, arg in enumerate(sys.argv[4:]):
        value, sha = arg.split('@')
        night(db, i, sha, sys.argv[3], 'count', [float(value)] * 3)
else:
    nights = int(sys.argv[3])
    for i in range(nights):
        sha = f'{i + 1:04x}' + 'c' * 36   # the night in its first 4 digits
        night(db, i, sha, 'time.wall', 'instr', [level(i, nights) * (1 + rnd.uniform(-0.005, 0.005))
                                                 for rep in range(3)])
db.commit()
