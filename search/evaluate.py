"""Relevance measurement: run judged queries, write a TREC run, score it.

Scores come from ir-measures, not hand-written formulas.  docids follow the
qrels' convention: the article path relative to the corpus root with every
ASCII space written ``%20``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import ir_measures
from ir_measures import RR, P, R, nDCG

from .engine import Engine, search
from .query import DEFAULT_RANKING, Ranking

MEASURES = {"nDCG@10": nDCG @ 10, "RR@10": RR @ 10, "R@10": R @ 10, "P@1": P @ 1}
DEPTH = 10


def load_queries(path: Path) -> list[tuple[str, str]]:
    """``qid<TAB>query`` lines; ``#`` lines are comments."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        qid, _, text = line.partition("\t")
        out.append((qid.strip(), text.strip()))
    return out


def docid(path: str) -> str:
    return path.replace(" ", "%20")


@dataclass
class EvalResult:
    queries: int
    aggregate: dict[str, float]
    per_query: list[tuple[str, str, dict[str, float]]] = field(default_factory=list)


def run_queries(index: Engine | Path, queries: list[tuple[str, str]], depth: int = DEPTH,
                ranking: Ranking = DEFAULT_RANKING) -> list[tuple[str, str, int, float]]:
    """(qid, docid, rank, score) rows for the top ``depth`` of every query,
    in the order of the result page.

    The score column strictly decreases with the rank: trec_eval and
    ir-measures order a run by score, and the page's order is not always the
    hits' score order (articles with every asked version exactly, or with the
    words as typed, come before the rest whatever their scores), so a hit
    scored higher than the one above it is written just below that one's."""
    engine = index if isinstance(index, Engine) else Engine(index)
    rows = []
    for qid, text in queries:
        page = search(engine, text, per_page=depth, ranking=ranking)
        prev = float("inf")
        for rank, hit in enumerate(page.hits, 1):
            score = min(hit.score, prev - 1e-4)
            rows.append((qid, docid(hit.path), rank, score))
            prev = score
    return rows


def write_run(rows: list[tuple[str, str, int, float]], path: Path, tag: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for qid, did, rank, score in rows:
            f.write(f"{qid} Q0 {did} {rank} {score:.6f} {tag}\n")  # decreasing (run_queries)


def score_run(rows: list[tuple[str, str, int, float]], qrels_path: Path
              ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    qrels = list(ir_measures.read_trec_qrels(str(qrels_path)))
    run = [ir_measures.ScoredDoc(qid, did, score) for qid, did, rank, score in rows]
    names = {repr(m): k for k, m in MEASURES.items()}
    agg = {names[repr(m)]: v for m, v in ir_measures.calc_aggregate(MEASURES.values(), qrels, run).items()}
    per: dict[str, dict[str, float]] = {}
    for pq in ir_measures.iter_calc(MEASURES.values(), qrels, run):
        per.setdefault(pq.query_id, {})[names[repr(pq.measure)]] = pq.value
    return agg, per


def evaluate(index: Engine | Path, queries_path: Path, qrels_path: Path, *,
             run_path: Path | None = None, tag: str = "zhsearch",
             ranking: Ranking = DEFAULT_RANKING) -> EvalResult:
    queries = load_queries(queries_path)
    rows = run_queries(index, queries, ranking=ranking)
    if run_path:
        write_run(rows, run_path, tag)
    agg, per = score_run(rows, qrels_path)
    for name in MEASURES:
        agg.setdefault(name, 0.0)
    return EvalResult(len(queries), agg, [(qid, text, per.get(qid, {})) for qid, text in queries])
