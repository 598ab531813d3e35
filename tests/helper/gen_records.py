#!/usr/bin/env python3
"""Writes a well-formed record stream (the guest -> host format of
bench/record.h) with RUNS runs of SAMPLES samples each, for the fault
tests.  An optional REASON becomes a skip reason of the first run, an
optional RELEASE the kernel release the stream reports.
Usage: gen_records.py RUNS SAMPLES [REASON [RELEASE]]"""
import sys, zlib
from urllib.parse import quote

runs, samples = int(sys.argv[1]), int(sys.argv[2])
reason = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
release = sys.argv[4] if len(sys.argv) > 4 else '6.18.0-gen'
seq = 0
def rec(payload):
    global seq
    line = f'RB1 {seq} {payload}'
    sys.stdout.write(f'{line} *{zlib.crc32(line.encode()):08x}\n')
    seq += 1
def esc(v):
    return ''.join(c if c.isprintable() and c not in ' %=*' else ''.join(f'%{b:02X}' for b in c.encode()) for c in v)
rec('hello format=1 release=' + esc(release) + ' kversion=%231 arch=x86_64 ncpu=2 mem_kb=1000')
for r in range(runs):
    rec('begin bench=pt_reclaim version=1 params=reps%3D' + str(samples))
    if r == 0 and reason:
        rec('skip reason=' + esc(reason))
        rec('done status=skip samples=0')
        continue
    for i in range(samples):
        rec(f'sample rep={i} metric=time.wall value={1000000 + i * 7 + r} unit=ns')
    rec(f'done status=ok samples={samples}')
rec(f'end count={seq}')
