#!/usr/bin/env python3
"""Plot bench/scale.sh's scale.tsv as one SVG: time and peak memory against
stations (one year), against years kept (national size) and against years
read beside the pandas peer (Sichuan size). Standard library
only (the SVG is written by hand: four small line charts).

Usage: scale_plot.py scale.tsv out.svg
"""
import csv
import math
import sys
from collections import defaultdict

W, H, PAD, LEGEND = 560, 280, 52, 170
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f",
          "#e377c2", "#bcbd22", "#000000", "#393b79"]


def panel(x0, y0, title, xlabel, ylabel, lines, log_y, colors):
    """lines: {name: [(x, y)]}; the legend is right of the plot; returns SVG elements."""
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
    pw, ph = W - PAD - LEGEND, H - PAD - 30
    X = lambda v: x0 + PAD + pw * (v - xmin) / (xmax - xmin)
    Y = lambda v: y0 + 24 + ph * (1 - fy(v))
    out = [
        f'<text x="{x0 + W / 2}" y="{y0 + 15}" text-anchor="middle" font-weight="bold">{title}</text>',
        f'<rect x="{x0 + PAD}" y="{y0 + 24}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
        f'<text x="{x0 + PAD + pw / 2}" y="{y0 + 24 + ph + 30}" text-anchor="middle">{xlabel}</text>',
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
        c = colors[name]
        ps = sorted(p for p in ps if p[1] > 0)
        path = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in ps)
        out.append(f'<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"/>')
        out.extend(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="3" fill="{c}"/>' for x, y in ps)
        out.append(f'<text x="{x0 + PAD + pw + 8}" y="{y0 + 38 + 14 * i}" fill="{c}">{name}</text>')
    return out


def main():
    rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8"), delimiter="\t"))
    series = defaultdict(lambda: defaultdict(list))
    for r in rows:
        name = f'{r["job"]} ({r["tool"]})'
        series[(r["series"], "s")][name].append((float(r["x"]), float(r["seconds"])))
        series[(r["series"], "m")][name].append((float(r["x"]), float(r["peak_mb"])))
    names = sorted({n for d in series.values() for n in d})
    colors = {n: COLORS[i % len(COLORS)] for i, n in enumerate(names)}
    els = []
    els += panel(0, 0, "Time vs stations (one year)", "stations", "seconds (log)", series[("stations", "s")], True, colors)
    els += panel(W, 0, "Peak memory vs stations", "stations", "MB (log)", series[("stations", "m")], True, colors)
    els += panel(0, H, "Time vs years kept (~1,700 stations)", "years in the store", "seconds",
                 series[("years", "s")], False, colors)
    els += panel(W, H, "Peak memory vs years kept", "years in the store", "MB", series[("years", "m")], False, colors)
    rows = 2
    if series[("sichuan-years", "s")]:
        rows = 3
        els += panel(0, 2 * H, "Time vs years read (104 stations)", "years", "seconds (log)",
                     series[("sichuan-years", "s")], True, colors)
        els += panel(W, 2 * H, "Peak memory vs years read (104 stations)", "years", "MB (log)",
                     series[("sichuan-years", "m")], True, colors)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{rows * H}" '
           f'font-family="sans-serif" font-size="11"><rect width="100%" height="100%" fill="white"/>'
           + "".join(els) + "</svg>\n")
    open(sys.argv[2], "w", encoding="utf-8").write(svg)


if __name__ == "__main__":
    main()
