"""In-process query latency of zhsearch against the stock Whoosh + jieba peer.

What is timed, per query, in one Python process:

* ours - ``search.search(engine, q)``: parse, Whoosh search (top 10, ``per_page=10``),
  most-words backfill when needed, snippets + title highlights of the 10 hits and the
  tag/category facets - one complete results page, as the web app renders it;
* peer - Whoosh + jieba's stock ``ChineseAnalyzer`` (index built by
  ``baselines.build_whoosh`` into a temp dir): ``MultifieldParser`` AND (OR re-run when
  AND finds nothing), top 10, ``hit.highlights("content")`` for each hit.

Queries: the 40 judged queries plus ``--extra`` (200) more drawn with a fixed seed from
the corpus - 3/4 are 2-3 word chunks of article titles (stock-jieba words that contain a
letter or Han character, space-joined), 1/4 single tags. The list is written to ``<out>/latency-queries.tsv``.

Protocol: both engines first answer two warm-up queries (dictionary loads, per-generation
caches), then every query is run once *cold* (the first time that query is seen; its
terms' postings may not be in the OS/Whoosh caches) and then ``--passes`` warm passes.
Ours and the peer are *interleaved* query by query (who goes first alternates), so
background load on the machine hits both alike; wall and CPU (process) time are both
recorded. Reported: p50/p95/p99/mean/max ms cold and warm, the peer/ours ratio at
p50/p95/p99, the median per-query ratio, and the slowest queries.

Start-up: in a fresh subprocess, ``import search`` then ``Engine(index)`` -> first
answered query (jieba dictionary load, index open, facet labels) - the same for the peer
(``open_dir`` -> first query with highlights), ``--startup-runs`` times each.

``--profile K`` cProfiles our K slowest queries (by warm median) and prints the top
functions.

Usage (from the project root)::

    .venv/bin/python bench/latency.py [--index DIR] [--passes 5] [--skip-peer] [--profile 5]

``--index DIR`` reuses an existing zhsearch index of the corpus, *read-only*: it must have
been built by the current analysis/schema versions (checked; else the script stops).
Without it an index is built into a temp dir first (a few minutes).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(ROOT))

from _corpus_text import Article, code_version, load_corpus, load_queries

SEED = 20261124
TOP_K = 10
#: Answered before the cold pass, not part of the query set. Two of them: in a fresh
#: process our engine loads the jieba dictionary on the first query *and again* on the
#: second (see README, "Start-up"), which must not land on the first cold query.
WARMUP_QUERIES = ("基准 预热", "预热 查询")
PEER_FIELDS = ("title", "content")
PEER_MODE = "and>or"
_HAS_LETTER = re.compile(r"[^\W\d_]")  # a letter or Han character, not only digits/"_"

Query = tuple[str, str, str]  # (qid, source, text)


# ------------------------------------------------------------------ query set
def extra_queries(articles: Sequence[Article], n: int, seed: int, exclude: set[str]) -> list[Query]:
    """``n`` deterministic queries: 3/4 title chunks of 2-3 jieba words, 1/4 single tags.

    Uses the stock jieba dictionary (deterministic for a given jieba version). Articles
    come in sorted-path order from ``load_corpus``, so the draw only depends on the
    corpus and the seed.
    """
    import jieba

    jieba.setLogLevel(60)
    rng = random.Random(seed)
    seen = {t.lower() for t in exclude} | set(WARMUP_QUERIES)
    out: list[Query] = []
    n_tags = n // 4
    n_titles = n - n_tags

    order = list(range(len(articles)))
    rng.shuffle(order)
    for i in order:
        if len(out) >= n_titles:
            break
        words = [w for w in jieba.lcut(articles[i].title) if _HAS_LETTER.search(w)]
        if len(words) < 2:
            continue
        k = min(rng.choice((2, 3)), len(words))
        s = rng.randrange(len(words) - k + 1)
        text = " ".join(words[s:s + k])
        if text.lower() in seen:
            continue
        seen.add(text.lower())
        out.append((f"t{len(out) + 1:03d}", "title", text))

    tags = sorted({t.strip() for a in articles for t in a.tags if t.strip()})
    rng.shuffle(tags)
    j = 0
    for t in tags:
        if j >= n_tags:
            break
        if t.lower() in seen:
            continue
        seen.add(t.lower())
        j += 1
        out.append((f"g{j:03d}", "tag", t))
    return out


# ------------------------------------------------------------------ engines
def check_index(corpus: Path, index: Path) -> None:
    """Read-only: stop unless ``index`` was built by the current analysis/schema code."""
    from indexer import store
    from indexer.build import IndexConfig, index_identity

    cur = store.read_current(index)
    if cur is None:
        sys.exit(f"latency.py: no zhsearch index in {index} (omit --index to build one)")
    want = index_identity(IndexConfig(corpus, index).analyzer())
    have = cur.meta.get("identity") or {}
    if have != want:
        sys.exit(f"latency.py: {index} was built with {have}, the code now needs {want}; "
                 "rebuild it (zhsearch index) or omit --index")
    print(f"zhsearch index: {index} ({cur.name}, {cur.meta.get('documents')} documents, "
          f"updated {cur.meta.get('updated')}), used read-only")


def build_index(corpus: Path, index: Path) -> float:
    from indexer.build import IndexConfig, update_index

    t0 = time.perf_counter()
    report = update_index(IndexConfig(corpus, index))
    dt = time.perf_counter() - t0
    print(f"zhsearch index: built {report.total} documents into {index} in {dt:.1f}s")
    return dt


def ours_fn(index: Path) -> tuple[Callable[[str], int], object]:
    from search.engine import Engine, search

    engine = Engine(index, cache_size=0)

    def run(q: str) -> int:
        return len(search(engine, q).hits)

    return run, engine


def peer_fn(ix) -> Callable[[str], int]:
    from baselines import _whoosh_top, whoosh_parser

    searcher = ix.searcher()
    parsers = {g: whoosh_parser(ix, PEER_FIELDS, g) for g in ("and", "or")}

    def run(q: str) -> int:
        n = 0
        for hit in _whoosh_top(searcher, parsers, q, PEER_MODE):
            hit.highlights("content")
            n += 1
        return n

    return run


# ------------------------------------------------------------------ start-up
_OURS_STARTUP = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
t0 = time.perf_counter()
from search.engine import Engine, search
t1 = time.perf_counter()
engine = Engine(sys.argv[2], cache_size=0)
page = search(engine, sys.argv[3])
t2 = time.perf_counter()
search(engine, sys.argv[3])
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first": t2 - t1, "again": t3 - t2, "hits": len(page.hits)}))
"""

_PEER_STARTUP = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
t0 = time.perf_counter()
import jieba; jieba.setLogLevel(60)
from whoosh import index
from baselines import _whoosh_top, whoosh_parser
t1 = time.perf_counter()
ix = index.open_dir(sys.argv[2])
s = ix.searcher()
parsers = {g: whoosh_parser(ix, ("title", "content"), g) for g in ("and", "or")}
def run(q):
    return [h.highlights("content") for h in _whoosh_top(s, parsers, q, "and>or")]
hits = run(sys.argv[3])
t2 = time.perf_counter()
run(sys.argv[3])
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first": t2 - t1, "again": t3 - t2, "hits": len(hits)}))
"""


def startup(script: str, index: Path, query: str, runs: int) -> list[dict]:
    out = []
    for _ in range(runs):
        p = subprocess.run([sys.executable, "-c", script, str(BENCH), str(index), query],
                           capture_output=True, text=True, cwd=str(ROOT), check=False)
        if p.returncode != 0:
            print(f"start-up run failed:\n{p.stderr[-2000:]}", file=sys.stderr)
            continue
        out.append(json.loads(p.stdout.strip().splitlines()[-1]))
    return out


# ------------------------------------------------------------------ measuring
class Samples:
    """Per-query wall/CPU ms: ``cold[i]`` once, ``warm[i]`` one per pass."""

    def __init__(self, n: int) -> None:
        self.cold_wall = [0.0] * n
        self.cold_cpu = [0.0] * n
        self.warm_wall: list[list[float]] = [[] for _ in range(n)]
        self.warm_cpu: list[list[float]] = [[] for _ in range(n)]
        self.hits = [0] * n
        self.errors: dict[int, str] = {}

    def record(self, i: int, cold: bool, wall: float, cpu: float) -> None:
        if cold:
            self.cold_wall[i], self.cold_cpu[i] = wall, cpu
        else:
            self.warm_wall[i].append(wall)
            self.warm_cpu[i].append(cpu)

    def warm_median(self, i: int) -> float:
        return statistics.median(self.warm_wall[i]) if self.warm_wall[i] else float("nan")


def timed(fn: Callable[[str], int], q: str) -> tuple[float, float, int, str | None]:
    c0, t0 = time.process_time(), time.perf_counter()
    try:
        n, err = fn(q), None
    except Exception as exc:  # a query that breaks an engine is reported, not fatal
        n, err = 0, f"{type(exc).__name__}: {exc}"
    t1, c1 = time.perf_counter(), time.process_time()
    return (t1 - t0) * 1000.0, (c1 - c0) * 1000.0, n, err


def measure(queries: list[Query], systems: dict[str, Callable[[str], int]], passes: int) -> dict[str, Samples]:
    """Cold pass then ``passes`` warm passes; systems interleaved per query, order alternating."""
    names = list(systems)
    samples = {name: Samples(len(queries)) for name in names}
    for p in range(passes + 1):
        t_pass = time.perf_counter()
        for i, (_qid, _src, text) in enumerate(queries):
            order = names if (i + p) % 2 == 0 else names[::-1]
            for name in order:
                wall, cpu, n, err = timed(systems[name], text)
                s = samples[name]
                s.record(i, p == 0, wall, cpu)
                if p == 0:
                    s.hits[i] = n
                if err:
                    s.errors[i] = err
        print(f"  pass {p} ({'cold' if p == 0 else 'warm'}): {time.perf_counter() - t_pass:.1f}s", flush=True)
    return samples


def pct(values: Sequence[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {"p50": p50, "p95": p95, "p99": p99, "mean": float(a.mean()), "max": float(a.max()), "n": len(a)}


def stat_rows(samples: dict[str, Samples], idx: Sequence[int]) -> dict[str, dict[str, dict[str, float]]]:
    out = {}
    for name, s in samples.items():
        out[name] = {
            "cold wall": pct([s.cold_wall[i] for i in idx]),
            "warm wall": pct([x for i in idx for x in s.warm_wall[i]]),
            "cold cpu": pct([s.cold_cpu[i] for i in idx]),
            "warm cpu": pct([x for i in idx for x in s.warm_cpu[i]]),
        }
    return out


def latency_table(stats: dict, labels: dict[str, str]) -> str:
    lines = ["| engine | run | samples | p50 ms | p95 ms | p99 ms | mean ms | max ms |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, rows in stats.items():
        for kind in ("cold wall", "warm wall", "warm cpu"):
            r = rows[kind]
            lines.append(f"| {labels[name]} | {kind} | {r['n']} | {r['p50']:.1f} | {r['p95']:.1f} | "
                         f"{r['p99']:.1f} | {r['mean']:.1f} | {r['max']:.1f} |")
    return "\n".join(lines)


def ratio_table(stats: dict, samples: dict[str, Samples], idx: Sequence[int]) -> str:
    lines = ["| peer / ours | p50 | p95 | p99 | mean | median per-query ratio |", "|---|---:|---:|---:|---:|---:|"]
    for kind in ("cold wall", "warm wall", "warm cpu"):
        o, p = stats["ours"][kind], stats["peer"][kind]
        if kind == "cold wall":
            per_q = [samples["peer"].cold_wall[i] / samples["ours"].cold_wall[i] for i in idx]
        elif kind == "warm wall":
            per_q = [samples["peer"].warm_median(i) / samples["ours"].warm_median(i) for i in idx]
        else:
            per_q = [statistics.median(samples["peer"].warm_cpu[i]) / statistics.median(samples["ours"].warm_cpu[i])
                     for i in idx]
        lines.append(f"| {kind} | {p['p50'] / o['p50']:.2f}× | {p['p95'] / o['p95']:.2f}× | "
                     f"{p['p99'] / o['p99']:.2f}× | {p['mean'] / o['mean']:.2f}× | {statistics.median(per_q):.2f}× |")
    return "\n".join(lines)


def by_source_table(samples: dict[str, Samples], queries: list[Query]) -> str:
    names = list(samples)
    head = "| queries | n | " + " | ".join(f"{n} warm p50 | {n} warm p95" for n in names) + " |"
    lines = [head, "|---|---:|" + "---:|" * (2 * len(names))]
    for src in ("qrels", "title", "tag"):
        idx = [i for i, q in enumerate(queries) if q[1] == src]
        if not idx:
            continue
        cells = []
        for n in names:
            r = pct([x for i in idx for x in samples[n].warm_wall[i]])
            cells += [f"{r['p50']:.1f}", f"{r['p95']:.1f}"]
        lines.append(f"| {src} | {len(idx)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def slowest_table(samples: dict[str, Samples], queries: list[Query], n: int = 10) -> str:
    ours = samples["ours"]
    order = sorted(range(len(queries)), key=ours.warm_median, reverse=True)[:n]
    peer = samples.get("peer")
    lines = ["| qid | query | ours warm median ms | ours cold ms | hits | peer warm median ms |",
             "|---|---|---:|---:|---:|---:|"]
    for i in order:
        qid, _src, text = queries[i]
        pm = f"{peer.warm_median(i):.1f}" if peer else "–"
        lines.append(f"| {qid} | {text} | {ours.warm_median(i):.1f} | {ours.cold_wall[i]:.1f} | "
                     f"{ours.hits[i]} | {pm} |")
    return "\n".join(lines)


def profile(fn: Callable[[str], int], texts: list[str], reps: int = 3, top: int = 25) -> str:
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(reps):
        for t in texts:
            fn(t)
    prof.disable()
    buf = io.StringIO()
    st = pstats.Stats(prof, stream=buf)
    st.sort_stats("tottime").print_stats(top)
    st.sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


def write_per_query(path: Path, queries: list[Query], samples: dict[str, Samples]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        cols = ["qid", "source", "query"]
        for n in samples:
            cols += [f"{n}:cold_ms", f"{n}:warm_median_ms", f"{n}:hits", f"{n}:error"]
        fh.write("\t".join(cols) + "\n")
        for i, (qid, src, text) in enumerate(queries):
            row = [qid, src, text]
            for s in samples.values():
                row += [f"{s.cold_wall[i]:.2f}", f"{s.warm_median(i):.2f}", str(s.hits[i]), s.errors.get(i, "")]
            fh.write("\t".join(row) + "\n")


# ------------------------------------------------------------------ main
def _resolve(arg: str | None, default: str) -> Path:
    return Path(arg).resolve() if arg else (ROOT / default).resolve()


def print_startup(su: dict[str, list[dict]], labels: dict[str, str], query: str) -> None:
    """The start-up table: fresh processes, first answer."""
    print("\n### Start-up: fresh process, `Engine(index)` / `open_dir` -> first answered query\n")
    print("| engine | runs | import s | to first answer s (median) | min | same query again ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rs in su.items():
        if rs:
            first = [r["first"] for r in rs]
            print(f"| {labels[name]} | {len(rs)} | {statistics.median(r['import'] for r in rs):.2f} | "
                  f"{statistics.median(first):.2f} | {min(first):.2f} | "
                  f"{statistics.median(r['again'] for r in rs) * 1000:.0f} |")
    if len(su.get("ours", [])) and len(su.get("peer", [])):
        r = statistics.median(x["first"] for x in su["peer"]) / statistics.median(x["first"] for x in su["ours"])
        print(f"\npeer / ours start-up (median): {r:.2f}×  (start-up query: {query})")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", help="existing zhsearch index of the corpus, used read-only (default: build one in a temp dir)")
    ap.add_argument("--passes", type=int, default=5, help="warm passes over all queries (default 5)")
    ap.add_argument("--extra", type=int, default=200, help="queries drawn from titles/tags (default 200)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"seed of the draw (default {SEED})")
    ap.add_argument("--skip-peer", action="store_true", help="time only our engine (no peer index build)")
    ap.add_argument("--startup-runs", type=int, default=3, help="fresh-process start-up measurements (default 3)")
    ap.add_argument("--startup-query", default="事务 隔离级别", help="query answered first in the start-up runs")
    ap.add_argument("--profile", type=int, default=0, metavar="K", help="cProfile our K slowest queries")
    ap.add_argument("--corpus", help="corpus root (default: ../shared/corpus from the project root)")
    ap.add_argument("--qrels-dir", help="dir with queries.tsv (default: ../shared/qrels)")
    ap.add_argument("--out", help="where the query list and per-query TSV go (default: bench/out)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    corpus = _resolve(args.corpus, "../shared/corpus")
    qdir = _resolve(args.qrels_dir, "../shared/qrels")
    out = _resolve(args.out, "bench/out")
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    print(f"machine: {os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"code: {code_version()}")

    articles = load_corpus(corpus)
    judged = load_queries(qdir / "queries.tsv")
    queries: list[Query] = [(qid, "qrels", text) for qid, text in judged]
    queries += extra_queries(articles, args.extra, args.seed, {t for _, t in judged})
    with open(out / "latency-queries.tsv", "w", encoding="utf-8") as fh:
        fh.writelines(f"{qid}\t{src}\t{text}\n" for qid, src, text in queries)
    print(f"{len(articles)} articles; {len(queries)} queries ({len(judged)} judged + "
          f"{len(queries) - len(judged)} drawn, seed {args.seed}) -> {out / 'latency-queries.tsv'} "
          f"[{time.perf_counter() - t_start:.1f}s]")

    tmpdirs: list[Path] = []
    try:
        if args.index:
            index = Path(args.index).resolve()
            check_index(corpus, index)
        else:
            index = Path(tempfile.mkdtemp(prefix="zhsearch-bench-ix-"))
            tmpdirs.append(index)
            build_index(corpus, index)

        peer_dir = None
        if not args.skip_peer:
            from baselines import build_whoosh

            peer_dir = Path(tempfile.mkdtemp(prefix="zhsearch-bench-whoosh-"))
            tmpdirs.append(peer_dir)
            t0 = time.perf_counter()
            build_whoosh(articles, peer_dir).close()
            print(f"peer index (Whoosh + jieba ChineseAnalyzer): built in {time.perf_counter() - t0:.1f}s")
        del articles

        # ---- start-up, fresh processes
        su = {"ours": startup(_OURS_STARTUP, index, args.startup_query, args.startup_runs)}
        if peer_dir:
            su["peer"] = startup(_PEER_STARTUP, peer_dir, args.startup_query, args.startup_runs)

        # ---- latency, one process, interleaved
        ours, _engine = ours_fn(index)
        systems = {"ours": ours}
        peer_ix = None
        if peer_dir:
            from whoosh import index as whoosh_index

            peer_ix = whoosh_index.open_dir(str(peer_dir))
            systems["peer"] = peer_fn(peer_ix)
        for name, fn in systems.items():
            for wq in WARMUP_QUERIES:
                wall, _cpu, _n, err = timed(fn, wq)
                print(f"warm-up query {name} {wq!r}: {wall:.0f} ms{' ERROR ' + err if err else ''}")
        t0 = time.perf_counter()
        samples = measure(queries, systems, args.passes)
        t_measure = time.perf_counter() - t0

        prof_text = ""
        if args.profile:
            slow = sorted(range(len(queries)), key=samples["ours"].warm_median, reverse=True)[:args.profile]
            prof_text = profile(ours, [queries[i][2] for i in slow])
        if peer_ix is not None:
            peer_ix.close()
    finally:
        for d in tmpdirs:
            shutil.rmtree(d, ignore_errors=True)

    write_per_query(out / "latency-per-query.tsv", queries, samples)
    labels = {"ours": "zhsearch `search()`", "peer": "Whoosh + jieba stock, top 10 + highlights"}
    idx = list(range(len(queries)))
    stats = stat_rows(samples, idx)

    print()
    print(f"## Query latency ({len(queries)} queries: cold = first run, warm = {args.passes} passes; "
          f"wall = elapsed, cpu = process time)\n")
    print(latency_table(stats, labels))
    if "peer" in samples:
        print("\n### Peer / ours (same run, interleaved; > 1 means ours is faster)\n")
        print(ratio_table(stats, samples, idx))
    print("\n### Warm wall time by query source\n")
    print(by_source_table(samples, queries))
    print("\n### Our slowest queries (warm median)\n")
    print(slowest_table(samples, queries))

    print_startup(su, labels, args.startup_query)

    for name, s in samples.items():
        zero = sum(1 for h in s.hits if h == 0)
        print(f"\n{name}: {zero} queries with no hits; {len(s.errors)} errors"
              + (f", e.g. {queries[next(iter(s.errors))][2]!r}: {next(iter(s.errors.values()))}" if s.errors else ""))
    if prof_text:
        print(f"\n### cProfile of our {args.profile} slowest queries x3\n")
        print(prof_text)
    print(f"per query: {out / 'latency-per-query.tsv'}")
    print(f"time: measuring {t_measure:.1f}s, total {time.perf_counter() - t_start:.1f}s; "
          f"load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
