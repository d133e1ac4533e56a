"""Relevance of zhsearch and the two peer baselines on the judged dev queries, in one run.

One command scores, on ``shared/qrels`` (40 queries over ``shared/corpus``):

* ``zhsearch``     - our engine: the index is brought up to date with
  ``indexer.build.update_index`` (incremental: a no-op on an up-to-date index) and the
  queries are run and scored by ``search.evaluate.evaluate`` - exactly what
  ``zhsearch eval`` does;
* ``bm25s-jieba``  - bm25s over jieba search-mode tokens (``baselines.run_bm25s``);
* ``whoosh-stock`` - Whoosh + jieba's stock ChineseAnalyzer, AND with an OR re-run when
  AND finds nothing (``baselines.build_whoosh`` / ``baselines.search_whoosh``).

Every run is written to ``<out>/<tag>.run`` (TREC) and all three are re-scored by the
same code (ir_measures, mean over *all* 40 judged queries, a query with no results
scoring 0), so the numbers are directly comparable. Printed: a markdown table of
nDCG@10, RR@10 (= MRR@10), R@10, P@1 and Judged@10 (share of the returned top 10 that
has a judgment - low values mean unjudged documents, which count as non-relevant);
per-kind averages (kinds 1-8 = qids d01-05, d06-10, ... see ``shared/qrels/README.md``);
the odd and the even qids apart (tune on one half, check on the other);
ours-minus-best-peer deltas (best peer taken per measure and per kind); and the queries
where we trail the best peer most. A per-query TSV goes to ``<out>/relevance-per-query.tsv``.

Usage (from the project root)::

    .venv/bin/python bench/relevance.py [--index DIR] [--skip-peers]
        [--corpus ../shared/corpus] [--qrels-dir ../shared/qrels] [--out bench/out]

Without ``--index`` our index is built from scratch into a temporary directory (a few
minutes on 2 cores) and removed afterwards. With ``--index DIR`` that index is updated in
place (fast when nothing changed; if the analysis/schema version changed it is rebuilt,
which the script reports). ``--skip-peers`` scores only ours (seconds with ``--index``).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(1, str(ROOT))

import ir_measures
from ir_measures import Judged

from _corpus_text import (
    MEASURE_NAMES,
    MEASURES,
    code_version,
    evaluate_run,
    load_corpus,
    load_queries,
    write_run,
)

#: Kinds of ``shared/qrels/README.md`` (and dev2's): kind k holds qids d(5k-4) .. d(5k) (h… on dev2).
KINDS = {
    1: "Latin+Chinese, versioned/compound tokens",
    2: "pure Chinese multi-word",
    3: "single word inside compounds",
    4: "natural-language questions",
    5: "known-item (title paraphrase)",
    6: "English-only, mixed case",
    7: "traditional / full-width",
    8: "topics across sources",
}
JUDGED = "Judged@10"
#: Run tags (also the run file names) and table labels, ours first.
OURS = "zhsearch"
PEERS = ("bm25s-jieba", "whoosh-stock")
LABELS = {OURS: "zhsearch", "bm25s-jieba": "bm25s + jieba", "whoosh-stock": "Whoosh + jieba stock"}

Scores = dict[str, dict[str, float]]  # qid -> measure name -> value


def kind_of(qid: str) -> int:
    """d01-d05 -> 1, d06-d10 -> 2, ...; 0 for a qid outside that scheme."""
    try:
        n = _qnum(qid)
    except ValueError:
        return 0
    return (n - 1) // 5 + 1 if n >= 1 else 0


def per_query(run_path: Path, qrels_path: Path) -> Scores:
    """Per-query values of MEASURES + Judged@10, every judged query present (0 if not run).

    The same ir_measures calls as ``_corpus_text.evaluate_run``; its means are asserted
    equal to the means of these values in :func:`main`.
    """
    qrels = list(ir_measures.read_trec_qrels(str(qrels_path)))
    run = list(ir_measures.read_trec_run(str(run_path)))
    names = MEASURE_NAMES + [JUDGED]
    out: Scores = {q.query_id: dict.fromkeys(names, 0.0) for q in qrels}
    for m in ir_measures.iter_calc(list(MEASURES) + [Judged @ 10], qrels, run):
        if m.query_id in out:
            out[m.query_id][str(m.measure)] = m.value
    return out


def mean(scores: Scores, qids: Sequence[str], name: str) -> float:
    return sum(scores[q][name] for q in qids) / len(qids) if qids else float("nan")


# ------------------------------------------------------------------------ systems
def run_ours(corpus: Path, index: Path | None, qdir: Path, out: Path) -> tuple[Path, dict, float]:
    """Update/build our index, run + score the queries. Returns (run path, aggregate, build s)."""
    from indexer.build import IndexConfig, update_index
    from search.engine import Engine
    from search.evaluate import evaluate

    t0 = time.perf_counter()
    report = update_index(IndexConfig(corpus, index))
    t_index = time.perf_counter() - t0
    if report.rebuilt:
        print(f"zhsearch index: built {report.total} documents in {index} in {t_index:.1f}s "
              f"({report.rebuild_reason})")
    elif report.changed:
        print(f"zhsearch index: updated {index} in {t_index:.1f}s (+{len(report.added)} "
              f"~{len(report.updated)} -{len(report.deleted)}; {report.total} documents)")
    else:
        print(f"zhsearch index: {index} up to date ({report.total} documents, checked in {t_index:.1f}s)")
    if report.skipped:
        print(f"  {len(report.skipped)} files skipped, e.g. {report.skipped[0]}")

    run_path = out / f"{OURS}.run"
    t1 = time.perf_counter()
    engine = Engine(index)
    res = evaluate(engine, qdir / "queries.tsv", qdir / "qrels.txt", run_path=run_path, tag=OURS)
    print(f"zhsearch: {res.queries} queries run and scored in {time.perf_counter() - t1:.1f}s "
          f"(incl. engine start-up)")
    return run_path, res.aggregate, t_index


def run_peers(corpus: Path, queries: list[tuple[str, str]], out: Path, procs: int) -> dict[str, Path]:
    """The two peer baselines exactly as ``bench/baselines.py`` runs them."""
    import bm25s  # noqa: F401  (imported here to quiet it: it sets its logger to DEBUG on import)

    from baselines import build_whoosh, run_bm25s, search_whoosh

    logging.getLogger("bm25s").setLevel(logging.WARNING)

    t0 = time.perf_counter()
    articles = load_corpus(corpus)
    print(f"peers: corpus read ({len(articles)} articles) in {time.perf_counter() - t0:.1f}s")
    paths = {}

    bm, _alt, bm_t = run_bm25s(articles, queries, procs)
    paths["bm25s-jieba"] = out / "bm25s-jieba.run"
    write_run(paths["bm25s-jieba"], bm, "bm25s-jieba")
    print(f"bm25s-jieba: segment + index {bm_t['build_s']:.1f}s, queries {bm_t['query_s'] * 1000:.0f}ms")

    tmp = Path(tempfile.mkdtemp(prefix="zhsearch-bench-whoosh-"))
    try:
        t1 = time.perf_counter()
        ix = build_whoosh(articles, tmp)
        t_build = time.perf_counter() - t1
        t1 = time.perf_counter()
        res = search_whoosh(ix, queries, ("title", "content"), "and>or")
        t_q = time.perf_counter() - t1
        ix.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    paths["whoosh-stock"] = out / "whoosh-stock.run"
    write_run(paths["whoosh-stock"], res, "whoosh-stock")
    print(f"whoosh-stock: index {t_build:.1f}s, queries {t_q * 1000:.0f}ms")
    return paths


# ------------------------------------------------------------------------ output
def fmt(x: float) -> str:
    return f"{x:.4f}"


def fmt_delta(x: float) -> str:
    return f"{x:+.4f}"


def overall_table(scores: dict[str, Scores], qids: list[str]) -> str:
    names = MEASURE_NAMES + [JUDGED]
    lines = ["| system | " + " | ".join(n.replace("RR@10", "MRR@10 (RR@10)") for n in names) + " |",
             "|---|" + "---:|" * len(names)]
    for tag, sc in scores.items():
        lines.append(f"| {LABELS.get(tag, tag)} | " + " | ".join(fmt(mean(sc, qids, n)) for n in names) + " |")
    peers = [t for t in scores if t != OURS]
    if OURS in scores and peers:
        cells = []
        for n in MEASURE_NAMES:
            best = max(peers, key=lambda t: mean(scores[t], qids, n))
            cells.append(f"{fmt_delta(mean(scores[OURS], qids, n) - mean(scores[best], qids, n))} "
                         f"(vs {best.split('-')[0]})")
        lines.append("| **Δ ours − best peer** | " + " | ".join(cells) + " | |")
    return "\n".join(lines)


def kind_table(scores: dict[str, Scores], qids: list[str], measures: Sequence[str]) -> str:
    tags = list(scores)
    peers = [t for t in tags if t != OURS]
    short = {OURS: "ours", "bm25s-jieba": "bm25s", "whoosh-stock": "whoosh"}
    head = ["kind"]
    for n in measures:
        head += [f"{short.get(t, t)} {n}" for t in tags]
        if OURS in scores and peers:
            head.append(f"Δ {n}")
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    by_kind: dict[int, list[str]] = {}
    for q in qids:
        by_kind.setdefault(kind_of(q), []).append(q)
    for k in sorted(by_kind):
        ks = by_kind[k]
        row = [f"{k} {KINDS.get(k, '?')} ({ks[0]}–{ks[-1]})"]
        for n in measures:
            vals = {t: mean(scores[t], ks, n) for t in tags}
            row += [fmt(vals[t]) for t in tags]
            if OURS in scores and peers:
                row.append(fmt_delta(vals[OURS] - max(vals[t] for t in peers)))
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def halves_table(scores: dict[str, Scores], qids: list[str], measures: Sequence[str]) -> str:
    """nDCG@10 / MRR@10 on the odd and the even qids, and the gap between them.

    The method: tune on one half, check on the other; a ranking change is
    kept only if it helps both (or is neutral on one), and the halves must end
    within 0.03 of each other."""
    odd = [q for q in qids if _qnum(q) % 2 == 1]
    even = [q for q in qids if _qnum(q) % 2 == 0]
    head = ["system"] + [f"{n} {h}" for n in measures for h in ("odd", "even", "|odd − even|")]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for tag, sc in scores.items():
        row = [LABELS.get(tag, tag)]
        for n in measures:
            a, b = mean(sc, odd, n), mean(sc, even, n)
            row += [fmt(a), fmt(b), fmt(abs(a - b))]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _qnum(qid: str) -> int:
    """The number of a qid, whatever its letter prefix (d01 of shared/qrels, h01 of dev2)."""
    digits = qid.lstrip("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    try:
        return int(digits)
    except ValueError:
        return 0


def worst_queries(scores: dict[str, Scores], queries: dict[str, str], n: int = 8) -> str:
    peers = [t for t in scores if t != OURS]
    rows = []
    for q in queries:
        if q not in scores[OURS]:
            continue
        best = max(peers, key=lambda t: scores[t][q]["nDCG@10"])
        rows.append((scores[OURS][q]["nDCG@10"] - scores[best][q]["nDCG@10"], q, best))
    rows.sort()
    lines = ["| qid | query | ours nDCG@10 | best peer nDCG@10 | Δ | ours Judged@10 |", "|---|---|---:|---:|---:|---:|"]
    for d, q, best in rows[:n]:
        if d >= 0:
            break
        lines.append(f"| {q} | {queries[q]} | {fmt(scores[OURS][q]['nDCG@10'])} | "
                     f"{fmt(scores[best][q]['nDCG@10'])} ({best.split('-')[0]}) | {fmt_delta(d)} | "
                     f"{scores[OURS][q][JUDGED]:.1f} |")
    return "\n".join(lines)


def write_per_query(path: Path, scores: dict[str, Scores], queries: dict[str, str]) -> None:
    names = MEASURE_NAMES + [JUDGED]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\t".join(["qid", "kind", "query"] + [f"{t}:{n}" for t in scores for n in names]) + "\n")
        for q, text in queries.items():
            vals = [f"{scores[t][q][n]:.4f}" for t in scores for n in names if q in scores[t]]
            fh.write("\t".join([q, str(kind_of(q)), text] + vals) + "\n")


# ------------------------------------------------------------------------ main
def _resolve(arg: str | None, default: str) -> Path:
    return Path(arg).resolve() if arg else (ROOT / default).resolve()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", help="zhsearch index dir to update and use (default: build one in a temp dir)")
    ap.add_argument("--skip-peers", action="store_true", help="score only our engine")
    ap.add_argument("--corpus", help="corpus root (default: ../shared/corpus from the project root)")
    ap.add_argument("--qrels-dir", help="dir with queries.tsv and qrels.txt (default: ../shared/qrels)")
    ap.add_argument("--out", help="where runs and the per-query TSV go (default: bench/out)")
    ap.add_argument("--procs", type=int, default=2, help="processes for the bm25s jieba segmentation (default 2)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    corpus = _resolve(args.corpus, "../shared/corpus")
    qdir = _resolve(args.qrels_dir, "../shared/qrels")
    out = _resolve(args.out, "bench/out")
    qrels_path = qdir / "qrels.txt"
    for p, what in ((corpus, "corpus directory"), (qdir / "queries.tsv", "queries file"), (qrels_path, "qrels file")):
        if not p.exists():
            sys.exit(f"relevance.py: {what} not found: {p} (see --help)")
    out.mkdir(parents=True, exist_ok=True)
    queries = load_queries(qdir / "queries.tsv")
    qtext = dict(queries)
    qids = sorted({q.query_id for q in ir_measures.read_trec_qrels(str(qrels_path))})

    t_start = time.perf_counter()
    print(f"code: {code_version()}")
    tmp_index = None
    if args.index:
        index = Path(args.index).resolve()
    else:
        tmp_index = Path(tempfile.mkdtemp(prefix="zhsearch-bench-ix-"))
        index = tmp_index
    runs: dict[str, Path] = {}
    try:
        runs[OURS], ours_agg, _ = run_ours(corpus, index, qdir, out)
    finally:
        if tmp_index is not None:
            shutil.rmtree(tmp_index, ignore_errors=True)
    t_ours = time.perf_counter() - t_start

    if not args.skip_peers:
        t1 = time.perf_counter()
        runs.update(run_peers(corpus, queries, out, args.procs))
        print(f"peers: {time.perf_counter() - t1:.1f}s")

    scores = {tag: per_query(path, qrels_path) for tag, path in runs.items()}
    # consistency: one scorer for all; it must agree with the shared one and with ours
    for tag, path in runs.items():
        ref = evaluate_run(path, qrels_path)
        for n in MEASURE_NAMES:
            if abs(ref[n] - mean(scores[tag], qids, n)) > 1e-9:
                print(f"WARNING: {tag} {n}: per-query mean {mean(scores[tag], qids, n):.6f} "
                      f"!= evaluate_run {ref[n]:.6f}")
    for n in MEASURE_NAMES:
        if abs(ours_agg.get(n, 0.0) - mean(scores[OURS], qids, n)) > 1e-6:
            print(f"WARNING: zhsearch {n}: search.evaluate says {ours_agg.get(n, 0.0):.6f}, "
                  f"re-scored run says {mean(scores[OURS], qids, n):.6f} (queries without results?)")
    write_per_query(out / "relevance-per-query.tsv", scores, qtext)

    print()
    print(f"## Relevance on {qdir} ({len(qids)} queries; mean over all judged queries)\n")
    print(overall_table(scores, qids))
    print("\nΔ = ours minus the better peer on that measure. Judged@10 = share of the returned "
          "top 10 that is judged (unjudged counts as non-relevant).\n")
    print("### By query kind: nDCG@10 and MRR@10 (RR@10)\n")
    print(kind_table(scores, qids, ["nDCG@10", "RR@10"]))
    print("\n### Odd and even qids (tune on one half, check on the other)\n")
    print(halves_table(scores, qids, ["nDCG@10", "RR@10"]))
    print("\n### By query kind: R@10 and P@1\n")
    print(kind_table(scores, qids, ["R@10", "P@1"]))
    if len(scores) > 1:
        print("\n### Where ours trails the best peer most (nDCG@10)\n")
        print(worst_queries(scores, qtext))
    print(f"\nruns: {', '.join(str(p) for p in runs.values())}; per query: {out / 'relevance-per-query.tsv'}")
    print(f"time: ours {t_ours:.1f}s (index + queries), total {time.perf_counter() - t_start:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
