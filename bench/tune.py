"""Compare ranking variants on the judged queries, in one process, one index.

    python bench/tune.py --index /tmp/ix [--set backfill_below=10 ...] [--latency QUERIES.tsv]
    python bench/tune.py --index /tmp/dev-ix --index /tmp/dev2-ix \
        --qrels-dir ../shared/qrels --qrels-dir ../shared/dev2/qrels --set ...   # both collections

With ``--latency``, every variant also answers the queries of that file
(``id<TAB>source<TAB>query``, as ``bench/latency.py`` writes them) — once to
warm up, then ``--passes`` times — and its warm p50/p95/p99 are printed
beside its relevance, so a ranking feature's cost and worth are seen together.

Each --set builds a variant of ``search.Ranking``; every variant is scored
with the same ir-measures code as ``zhsearch eval``.  This is for honest,
whole-collection tuning: no variant may look at individual query ids.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import statistics
import time
from pathlib import Path

from search.engine import Engine, search
from search.evaluate import evaluate
from search.query import DEFAULT_RANKING

from load import percentile as pct

ROOT = Path(__file__).resolve().parent.parent
QRELS = ROOT.parent / "shared" / "qrels"


def parse_variant(spec: str):
    changes = {}
    for item in spec.split(","):
        key, _, value = item.partition("=")
        if key.startswith("w."):
            fw = dict(changes.get("field_weights", DEFAULT_RANKING.field_weights))
            fw[key[2:]] = float(value)
            changes["field_weights"] = fw
        else:
            cur = getattr(DEFAULT_RANKING, key)
            if isinstance(cur, bool):  # bool("False") is True
                changes[key] = value.strip().lower() in ("1", "true", "yes", "on")
            else:
                changes[key] = type(cur)(value)
    return dataclasses.replace(DEFAULT_RANKING, **changes)


def warm_latency(engine: Engine, queries: list[str], ranking, passes: int) -> list[float]:
    """Warm per-query latency (ms): the median of ``passes`` runs of each query."""
    for q in queries:
        search(engine, q, ranking=ranking)
    per_query = []
    for q in queries:
        runs = []
        for _ in range(passes):
            t0 = time.perf_counter()
            search(engine, q, ranking=ranking)
            runs.append((time.perf_counter() - t0) * 1000)
        per_query.append(statistics.median(runs))
    return per_query


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", required=True, action="append",
                    help="an index (repeat with --qrels-dir for several collections)")
    ap.add_argument("--synonyms", help="synonyms file (default: the indexed corpus's synonyms.txt)")
    ap.add_argument("--set", action="append", default=[], help="k=v[,k=v] (w.title=8 for field weights)")
    ap.add_argument("--latency", type=Path, help="also time each variant on these queries")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--kinds", action="store_true", help="print each variant's nDCG@10 per query kind")
    ap.add_argument("--diff", action="store_true", help="print the queries whose nDCG@10 moved against the first row")
    ap.add_argument("--qrels-dir", type=Path, action="append",
                    help="queries.tsv and qrels.txt of each --index, in order (default ../shared/qrels)")
    ap.add_argument("--save", type=Path, help="write the default ranking's per-query nDCG@10 here (JSON)")
    ap.add_argument("--against", type=Path, help="with --diff: compare every row with a --save file")
    args = ap.parse_args()
    dirs = args.qrels_dir or [QRELS]
    if len(dirs) != len(args.index):
        ap.error("give one --qrels-dir per --index")
    if len(args.index) > 1 and (args.save or args.against):
        ap.error("--save and --against take one collection")
    collections = [(Engine(ix, args.synonyms, cache_size=0), d) for ix, d in zip(args.index, dirs, strict=True)]
    queries = []
    if args.latency:
        queries = [line.split("\t")[-1].strip() for line in args.latency.read_text(encoding="utf-8").splitlines()
                   if line.strip()]
    variants = [("default", DEFAULT_RANKING)] + [(s, parse_variant(s)) for s in args.set]
    lat_head = "  p50 ms  p95 ms  p99 ms" if queries else ""
    print(f"{'variant':<40} nDCG@10 MRR@10  R@10   P@1   odd    even   min kind{lat_head}")
    bases: list[dict[str, float] | None] = [None] * len(collections)
    if args.against:
        bases[0] = json.loads(args.against.read_text(encoding="utf-8"))
    for name, ranking in variants:
        for c, (engine, qdir) in enumerate(collections):
            res = evaluate(engine, qdir / "queries.tsv", qdir / "qrels.txt", ranking=ranking)
            a = res.aggregate
            ndcg = {qid: m.get("nDCG@10", 0.0) for qid, _t, m in res.per_query}
            odd, even, kinds = halves_and_kinds(ndcg)
            worst = min(kinds, key=kinds.get)
            label = name if len(collections) == 1 else f"{name[:32]} [{qdir.parent.name if qdir.name == 'qrels' else qdir.name}]"
            line = (f"{label:<40} {a['nDCG@10']:.4f}  {a['RR@10']:.4f}  {a['R@10']:.4f} {a['P@1']:.4f}"
                    f"  {odd:.4f} {even:.4f} {kinds[worst]:.4f} (kind {worst})")
            if queries and c == 0:
                lat = warm_latency(engine, queries, ranking, args.passes)
                line += f"  {pct(lat, 50):6.1f}  {pct(lat, 95):6.1f}  {pct(lat, 99):6.1f}"
            print(line, flush=True)
            if args.kinds:
                print("    kinds: " + "  ".join(f"{k}:{v:.3f}" for k, v in sorted(kinds.items())))
            base = bases[c]
            if base is not None and args.diff:
                moved = [(q, base[q], v) for q, v in ndcg.items() if abs(v - base.get(q, 0.0)) > 1e-4]
                for q, b, v in sorted(moved):
                    print(f"    {q} {b:.4f} -> {v:.4f} ({v - b:+.4f})")
            bases[c] = base or ndcg
            if args.save and name == "default":
                args.save.write_text(json.dumps(ndcg), encoding="utf-8")


def halves_and_kinds(ndcg: dict[str, float]) -> tuple[float, float, dict[int, float]]:
    """Mean nDCG@10 of the odd and of the even qids, and per query kind
    (kind k = d(5k-4) .. d(5k), see shared/qrels/README.md)."""
    nums = {q: int(q.lstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")) for q in ndcg}
    odd = [v for q, v in ndcg.items() if nums[q] % 2]
    even = [v for q, v in ndcg.items() if not nums[q] % 2]
    by_kind: dict[int, list[float]] = {}
    for q, v in ndcg.items():
        by_kind.setdefault((nums[q] - 1) // 5 + 1, []).append(v)
    return (statistics.mean(odd), statistics.mean(even),
            {k: statistics.mean(v) for k, v in by_kind.items()})


if __name__ == "__main__":
    main()
