#!/usr/bin/env python3
"""Plot bench/scale.sh's scale.tsv as one SVG: time and peak memory against
stations (one year) and against years kept (national size). Standard library
only (the SVG is written by hand: four small line charts).

Usage: scale_plot.py scale.tsv out.svg
"""
import csv
import math
import sys
from collections import defaultdict

W, H, PAD = 430, 280, 52
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f"]


def panel(x0, y0, title, xlabel, ylabel, lines, log_y):
    """lines: {name: [(x, y)]}; returns SVG elements."""
    pts = [p for ps in lines.values() for p in ps if p[1] > 0]
    if not pts:
        return []
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    xmin, xmax = 0, max(xs) * 1.05
    if log_y:
        ymin = 10 ** math.floor(math.log10(min(ys)))
        ymax = 10 ** math.ceil(math.log10(max(ys)))
        fy = lambda v: math.log10(v / ymin) / math.log10(ymax / ymin)
        ticks = [ymin * 10**k for k in range(int(round(math.log10(ymax / ymin))) + 1)]
    else:
        ymin, ymax = 0, max(ys) * 1.1
        fy = lambda v: (v - ymin) / (ymax - ymin)
        step = 10 ** math.floor(math.log10(ymax / 4 or 1))
        n = ymax / step
        step *= 5 if n > 20 else 2 if n > 8 else 1
        ticks = [k * step for k in range(int(ymax / step) + 1)]
    pw, ph = W - PAD - 14, H - PAD - 30
    X = lambda v: x0 + PAD + pw * (v - xmin) / (xmax - xmin)
    Y = lambda v: y0 + 24 + ph * (1 - fy(v))
    out = [
        f'<text x="{x0 + W / 2}" y="{y0 + 15}" text-anchor="middle" font-weight="bold">{title}</text>',
        f'<rect x="{x0 + PAD}" y="{y0 + 24}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
        f'<text x="{x0 + PAD + pw / 2}" y="{y0 + H - 4}" text-anchor="middle">{xlabel}</text>',
        f'<text x="{x0 + 12}" y="{y0 + 24 + ph / 2}" text-anchor="middle" '
        f'transform="rotate(-90 {x0 + 12} {y0 + 24 + ph / 2})">{ylabel}</text>',
    ]
    for t in ticks:
        if ymin <= t <= ymax:
            out.append(f'<line x1="{x0 + PAD}" x2="{x0 + PAD + pw}" y1="{Y(t):.1f}" y2="{Y(t):.1f}" stroke="#eee"/>')
            out.append(f'<text x="{x0 + PAD - 4}" y="{Y(t) + 4:.1f}" text-anchor="end">{t:g}</text>')
    for x in sorted(set(xs)):
        out.append(f'<text x="{X(x):.1f}" y="{y0 + 24 + ph + 14}" text-anchor="middle">{x:g}</text>')
    for i, (name, ps) in enumerate(sorted(lines.items())):
        c = COLORS[i % len(COLORS)]
        ps = sorted(p for p in ps if p[1] > 0)
        path = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in ps)
        out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"/>')
        out.extend(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="3" fill="{c}"/>' for x, y in ps)
        out.append(f'<text x="{x0 + PAD + 6}" y="{y0 + 38 + 13 * i}" fill="{c}">{name}</text>')
    return out


def main():
    rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8"), delimiter="\t"))
    series = defaultdict(lambda: defaultdict(list))
    for r in rows:
        name = f'{r["job"]} ({r["tool"]})'
        series[(r["series"], "s")][name].append((float(r["x"]), float(r["seconds"])))
        series[(r["series"], "m")][name].append((float(r["x"]), float(r["peak_mb"])))
    els = []
    els += panel(0, 0, "Time vs stations (one year)", "stations", "seconds (log)", series[("stations", "s")], True)
    els += panel(W, 0, "Peak memory vs stations", "stations", "MB (log)", series[("stations", "m")], True)
    els += panel(0, H, "Time vs years kept (~1,700 stations)", "years in the store", "seconds",
                 series[("years", "s")], False)
    els += panel(W, H, "Peak memory vs years kept", "years in the store", "MB", series[("years", "m")], False)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{2 * H}" '
           f'font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>'
           + "".join(els) + "</svg>\n")
    open(sys.argv[2], "w", encoding="utf-8").write(svg)


if __name__ == "__main__":
    main()
