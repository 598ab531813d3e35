#!/usr/bin/env python3
"""Checks the text of gnuplot SVG charts: no two labels' boxes overlap and
no label crosses the plot's frame.  A label's box is estimated from its
font size (0.6 em a character, 0.75 em above the baseline, 0.25 below),
placed by its anchor, rotated as drawn.  Prints one line per fault.
Usage: svg_labels.py FILE.svg..."""
import math, re, sys

GROUP = re.compile(r'<g transform="translate\(([-\d.]+),([-\d.]+)\)(?: rotate\(([-\d.]+)\))?"[^>]*'
                   r'font-size="([\d.]+)"[^>]*text-anchor="(\w+)"[^>]*>\s*<text>(.*?)</text>', re.S)
FRAME = re.compile(r"d='M([\d.]+),([\d.]+) L([\d.]+),([\d.]+) L([\d.]+),([\d.]+) L([\d.]+),([\d.]+) L[\d.,]+ Z")

def box(x, y, angle, size, anchor, text):
    w = 0.6 * size * len(text.strip())
    x0 = {'start': 0, 'middle': -w / 2, 'end': -w}[anchor]
    a = math.radians(angle)
    return [(x + px * math.cos(a) - py * math.sin(a), y + px * math.sin(a) + py * math.cos(a))
            for px, py in ((x0, -0.75 * size), (x0 + w, -0.75 * size), (x0 + w, 0.25 * size), (x0, 0.25 * size))]

def apart(p, q):
    """Separating axis test for convex polygons (a segment is one too)."""
    for poly in (p, q):
        for i in range(len(poly)):
            (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % len(poly)]
            nx, ny = y2 - y1, x1 - x2
            a = [nx * x + ny * y for x, y in p]
            b = [nx * x + ny * y for x, y in q]
            if max(a) <= min(b) or max(b) <= min(a):
                return True
    return False

faults = 0
for name in sys.argv[1:]:
    svg = open(name).read()
    labels = [(m.group(6), box(float(m.group(1)), float(m.group(2)), float(m.group(3) or 0),
                               float(m.group(4)), m.group(5), m.group(6))) for m in GROUP.finditer(svg)
              if m.group(6).strip()]
    frames = [tuple(map(float, m.groups())) for m in FRAME.finditer(svg)]
    edges = []
    if frames:
        f = max(frames, key=lambda f: abs(f[4] - f[0]) * abs(f[3] - f[1]))
        pts = [(f[0], f[1]), (f[2], f[3]), (f[4], f[5]), (f[6], f[7])]
        edges = [(pts[i], pts[(i + 1) % 4]) for i in range(4)]
    for i, (t, b) in enumerate(labels):
        for u, c in labels[i + 1:]:
            if not apart(b, c):
                print(f'{name}: labels "{t}" and "{u}" overlap'); faults += 1
        for e in edges:
            if not apart(b, list(e)):
                print(f'{name}: label "{t}" crosses the frame'); faults += 1
sys.exit(1 if faults else 0)
