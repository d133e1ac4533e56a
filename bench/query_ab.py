"""In-process query latency of this tree against another version, in one run.

    .venv/bin/python bench/query_ab.py --index DIR --baseline CHECKOUT
        [--queries FILE] [--passes 3] [--postings-mb 64]

Two worker processes, one importing this tree and one ``CHECKOUT`` (a source
tree of another version: ``git archive <commit> | tar -x -C CHECKOUT``),
each keep an ``Engine(index, cache_size=0)`` and time ``search()`` — one
complete results page, as ``latency.py`` times it — for the query they are
sent.  The driver sends every query to both in turn, alternating who goes
first, once cold and then ``--passes`` warm: on a shared machine only the
ratio measured in the same run means anything.  ``--queries``: a
``latency.py`` query list (``bench/out/latency-queries.tsv``, 240 queries) or
any TSV whose last column is the query.  ``--postings-mb 0`` turns the
decoded-postings cache off, as ``run.py`` does for its second figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def worker(index: str, postings_mb: int, queries: list[str]) -> None:
    """Answer query numbers read from stdin with the milliseconds each took."""
    import logging

    from search.engine import Engine, search

    logging.disable(logging.INFO)
    engine = Engine(index, cache_size=0, postings_cache_mb=postings_mb)
    search(engine, "事务 隔离级别")  # dictionary load, facet labels, region tables
    print("ready", flush=True)
    for line in sys.stdin:
        t0 = time.perf_counter()
        search(engine, queries[int(line)])
        print(f"{(time.perf_counter() - t0) * 1000:.4f}", flush=True)


def load_queries(path: Path) -> list[str]:
    return [line.rsplit("\t", 1)[-1].strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#") and "\t" in line]


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    k = (len(v) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", required=True)
    ap.add_argument("--baseline", type=Path, required=True, help="source tree of the version to compare with")
    ap.add_argument("--queries", type=Path, default=BENCH / "out" / "latency-queries.tsv")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--postings-mb", type=int, default=64)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    queries = load_queries(args.queries)
    if args.worker:
        worker(args.index, args.postings_mb, queries)
        return 0
    trees = {"this tree": ROOT, "baseline": args.baseline.resolve()}
    procs = {}
    for name, tree in trees.items():
        procs[name] = subprocess.Popen(
            [sys.executable, str(BENCH / "query_ab.py"), "--worker", "--index", args.index, "--baseline", str(tree),
             "--queries", str(args.queries.resolve()), "--postings-mb", str(args.postings_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=str(tree),
            env={**os.environ, "PYTHONPATH": str(tree)})
        if procs[name].stdout.readline().strip() != "ready":
            raise SystemExit(f"the worker of {tree} did not start")

    def ask(name: str, i: int) -> float:
        p = procs[name]
        p.stdin.write(f"{i}\n")
        p.stdin.flush()
        return float(p.stdout.readline())

    cold: dict[str, list[float]] = {k: [] for k in trees}
    warm: dict[str, list[list[float]]] = {k: [[] for _ in queries] for k in trees}
    for rnd in range(args.passes + 1):
        for i in range(len(queries)):
            for name in (list(trees) if (i + rnd) % 2 == 0 else list(reversed(trees))):
                t = ask(name, i)
                (cold[name] if rnd == 0 else warm[name][i]).append(t)
    for p in procs.values():
        p.stdin.close()
        p.wait()
    med = {k: [statistics.median(x) for x in warm[k]] for k in trees}
    print(f"{len(queries)} queries, postings cache {args.postings_mb} MB, result cache off; a cold pass, then "
          f"{args.passes} warm (each query's median), interleaved; baseline {args.baseline}\n")
    print("| | cold p50 ms | warm p50 ms | warm p95 ms | warm p99 ms | warm mean ms |")
    print("|---|---:|---:|---:|---:|---:|")
    rows = {k: (pct(cold[k], 50), pct(med[k], 50), pct(med[k], 95), pct(med[k], 99), statistics.mean(med[k]))
            for k in trees}
    for k, row in rows.items():
        print(f"| {k} | " + " | ".join(f"{x:.2f}" for x in row) + " |")
    a, b = rows["this tree"], rows["baseline"]
    print("| this tree / baseline | " + " | ".join(f"{x / y:.3f}" for x, y in zip(a, b, strict=True)) + " |")
    ratios = [x / y for x, y in zip(med["this tree"], med["baseline"], strict=True)]
    print(f"\nmedian per-query ratio: {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
