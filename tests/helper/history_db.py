#!/usr/bin/env python3
"""A synthetic nightly history in a reclaimbench database: SHAPE (drift,
noisy or step) over NIGHTS nights of lazyfree_mthp, three repetitions of
time.wall a night with +-0.5% noise from a fixed seed.  The database must
exist (made by reclaimbench, so its schema is the program's)."""
import random
import sqlite3
import sys

path, shape, nights = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(7)


def level(i):
    if shape == 'drift':
        return 1e7 * (1 + 0.01 * i)          # 1% a night
    if shape == 'noisy':
        return 1e7 * (1.3 if i == nights // 2 else 1)   # one night 30% slower
    if shape == 'step':
        # 20% slower from night 20 on; night 21 noisy, back at the old level
        return 1e7 * (1.2 if i >= 20 and i != 21 else 1)
    raise SystemExit(f'unknown shape {shape}')


db = sqlite3.connect(path)
db.execute("INSERT INTO machines VALUES (1, 'fp', 'h', 'cpu', 2, 1, 'k')")
for i in range(nights):
    sha = f'{i + 1:04x}' + 'c' * 36   # the night in its first 4 digits
    db.execute("INSERT INTO kernels (id, release, version, variant, build_id, source) VALUES (?, '7.3', ?, "
               "'nightly', ?, ?)", (i + 1, f'#rb-{i}', f'{i:016x}', 'git:' + sha))
    db.execute("INSERT INTO runs (id, session, machine_id, kernel_id, bench, bench_version, params, accel, "
               "status, started_at) VALUES (?, ?, 1, ?, 'lazyfree_mthp', 2, 'reps=3', 'tcg-icount', 'ok', ?)",
               (i + 1, f'nightly-{i}', i + 1, f'2026-11-{1 + i % 28:02d}T02:00:00Z'))
    for rep in range(3):
        v = level(i) * (1 + rnd.uniform(-0.005, 0.005))
        db.execute("INSERT INTO samples (run_id, kind, rep, metric, value, unit) VALUES (?, 'timed', ?, "
                   "'time.wall', ?, 'instr')", (i + 1, rep, v))
db.commit()
