#!/usr/bin/env python3
"""Scale the bundled real Sichuan 2019 CNEMC files up to a national-size input.

Each real station column is copied N times (codes 1431A -> 1431A, 1431B, ...;
N <= 26) with its values perturbed deterministically (PM/gases by a small
integer offset per copy, CO by 0.1 steps), so the output keeps the real data's
shape: the same hours, the same gaps, the same 15 type rows, ~14 % empty cells.
Cities are copied too (成都 -> 成都, 成都02, ...), giving ~21*N cities with their
own stations, as a national run has ~340 cities and ~1,600+ stations.

Usage: scale_sample.py SAMPLE_DIR OUT_DIR [--copies 16]
Writes OUT_DIR/sites/china_sites_YYYYMMDD.csv (plain CSV, as the national
archive ships them) and OUT_DIR/stations.csv. Standard library only.
"""
import argparse
import csv
import gzip
import os
import string


def code_copy(code, k):
    return code[:-1] + string.ascii_uppercase[k] if k else code


def city_copy(city, k):
    # Copies get a number after lantian's canonical city name (阿坝藏族羌族自治州 -> 阿坝州02).
    if k == 0:
        return city
    if city.endswith("自治州"):
        city = city[:2] + "州"
    elif city.endswith("市") and len(city) > 2:
        city = city[:-1]
    return f"{city}{k + 1:02d}"


def perturb(v, typ, k):
    if v == "" or k == 0:
        return v
    if typ.startswith("CO"):
        return f"{float(v) + 0.1 * (k % 3):.1f}"
    return str(int(float(v)) + (k % 5))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sample")
    ap.add_argument("out")
    ap.add_argument("--copies", type=int, default=16)
    a = ap.parse_args()
    n = a.copies
    assert 1 <= n <= 26
    os.makedirs(os.path.join(a.out, "sites"), exist_ok=True)
    with open(os.path.join(a.sample, "sichuan_stations_2022.02.13.csv"), encoding="utf-8") as f:
        rows = list(csv.reader(f))
    with open(os.path.join(a.out, "stations.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(rows[0])
        for k in range(n):
            for r in rows[1:]:
                w.writerow([code_copy(r[0], k), r[1], city_copy(r[2], k)] + r[3:])
    src = os.path.join(a.sample, "cnemc_sichuan_2019")
    for name in sorted(os.listdir(src)):
        with gzip.open(os.path.join(src, name), "rt", encoding="utf-8", newline="") as f:
            lines = list(csv.reader(f))
        header = lines[0]
        out_header = header[:3] + [code_copy(c, k) for k in range(n) for c in header[3:]]
        with open(os.path.join(a.out, "sites", name[:-3]), "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\r\n")
            w.writerow(out_header)
            for r in lines[1:]:
                typ = r[2]
                w.writerow(r[:3] + [perturb(v, typ, k) for k in range(n) for v in r[3:]])


if __name__ == "__main__":
    main()
