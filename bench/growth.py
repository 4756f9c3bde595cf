#!/usr/bin/env python3
"""How ingest time, memory and disk grow with the archive: a fit over runs.

    bench/growth.py [--tool T] bench/out/ingest-20000.json bench/out/ingest-100000.json ...

Reads the JSON that bench/ingest.sh writes (one file per size, same tool and
mode), fits

    seconds     = a * pages^b        (least squares on the logarithms)
    peak RSS MB = c + d * pages      (least squares)
    on disk MB  = e * pages

and prints the fit, each run against it, and what it projects for larger
archives. A projection past the largest run measured is an extrapolation:
the table says so.
"""
import argparse
import json
import math
import sys


def fit_line(xs, ys):
    """Least squares y = p + q x."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    q = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - q * mx, q


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="+", help="ingest-N.json files of bench/ingest.sh")
    ap.add_argument("--tool", default="gongkai-in-place", help="the results row to fit")
    ap.add_argument("--project", default="500000,1000000,2000000",
                    help="page counts to project to (comma-separated)")
    args = ap.parse_args()

    rows = []
    for path in args.runs:
        with open(path, encoding="utf-8") as f:
            run = json.load(f)
        for r in run["results"]:
            if r["tool"] == args.tool and r.get("outcome") == "ok" and r.get("seconds"):
                rows.append((r["docs"], r["seconds"], r["peak_rss_mb"], r["store_mb"],
                             r.get("cpu_seconds"), run.get("when", "")))
    rows.sort()
    if len(rows) < 2 or len({r[0] for r in rows}) < 2:
        sys.exit(f"growth: need complete '{args.tool}' runs of at least two sizes, got {len(rows)}")

    pages = [r[0] for r in rows]
    a_log, b = fit_line([math.log(p) for p in pages], [math.log(r[1]) for r in rows])
    a = math.exp(a_log)
    c, d = fit_line(pages, [r[2] for r in rows])
    e = sum(r[3] for r in rows) / sum(pages)

    print(f"{args.tool}: {len(rows)} runs, {pages[0]:,} to {pages[-1]:,} pages")
    print(f"  seconds     = {a:.4g} x pages^{b:.3f}   (b = 1: the rate holds; "
          f"each doubling costs {2 ** b:.2f}x the time)")
    print(f"  peak RSS MB = {c:.1f} + {d * 1e5:.1f} per 100,000 pages")
    print(f"  on disk MB  = {e * 1e3:.1f} per 1,000 pages")
    print()
    print(f"{'pages':>10} {'seconds':>9} {'fit':>9} {'docs/s':>7} {'CPU ms/page':>11} "
          f"{'peak RSS':>8} {'fit':>6} {'when':>21}")
    for p, secs, rss, _store, cpu, when in rows:
        cpu_ms = f"{cpu * 1000 / p:.1f}" if cpu else "-"
        print(f"{p:>10,} {secs:>9.1f} {a * p ** b:>9.1f} {p / secs:>7.1f} {cpu_ms:>11} "
              f"{rss:>8.1f} {c + d * p:>6.1f} {when:>21}")
    print()
    print(f"{'projected':>10} {'hours':>7} {'docs/s':>7} {'peak RSS MB':>11} {'on disk GB':>10}")
    for p in (int(x) for x in args.project.split(",") if x):
        secs = a * p ** b
        note = "  (extrapolated)" if p > pages[-1] else ""
        print(f"{p:>10,} {secs / 3600:>7.2f} {p / secs:>7.1f} {c + d * p:>11.0f} "
              f"{e * p / 1e3:>10.1f}{note}")


if __name__ == "__main__":
    main()
