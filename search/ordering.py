"""The second step of a search: the candidates in the order they are shown.

By date (newest first), or by relevance: tiers first (the asked versions
exactly, all the words before most of them, the words as typed before
synonyms and region words), then the BM25F score — times the share of the
words an article covers when "most words" candidates compete — then the
best few re-ranked by passage evidence (``search.rerank``), and last the
site owner's pins (``search.curation``).
"""

from __future__ import annotations

import numpy as np
from whoosh import query as Q
from whoosh.util.numeric import typecode_max

from . import rerank
from .candidates import Candidates, Scores, evaluate
from .generation import Generation
from .query import BuiltQuery, Ranking
from .vector import SegmentEvaluator
from .weights import unit_weights

#: The date column's value for an article without a date (Whoosh's default
#: for a missing unsigned 64-bit value).
_NO_DATE = typecode_max["Q"]


def by_relevance(gen: Generation, searcher, built: BuiltQuery, found: Candidates, ranking: Ranking,
                 limit: int) -> tuple[list[int], np.ndarray]:
    """The best ``limit`` (and the pinned ones) in order, and their scores;
    the pins may change ``found.total`` and ``found.facet_mask``."""
    n = searcher.doc_count()
    cover, typed_cover = _coverage(found.evs, built, found.restrict, unit_weights(built.unit_dfs, n))
    scores = found.pool.score
    partial = None
    if found.pool is not found.main and built.words < ranking.pool_min_units and not built.question:
        partial = ~found.main.mask  # two words: an article with both comes before one with either
        if ranking.scattered_partial:
            partial |= _scattered(gen, searcher, built, found.main.mask, ranking)
    elif found.pool is not found.main and cover is not None and ranking.coverage_power:
        scores = scores * cover ** ranking.coverage_power
    tiers = _tiers(found.evs, built, found.restrict, cover, typed_cover, partial)
    depth = max(limit + len(found.curated.pins), ranking.rerank_depth)
    ranked = by_score(Scores(found.pool.mask, scores), tiers, depth)
    if ranking.rerank_depth and ranked:
        repeated = gen.repeated(searcher) if ranking.repeated_docs else None
        ranked, scores = rerank.rerank(lambda d: gen.stored.text(searcher, d, repeated), ranked, scores, tiers,
                                       built.prepared, unit_weights(built.term_dfs, n), ranking,
                                       ranking.rerank_depth)
    if built.question and ranking.semantic_weight > 0 and ranking.semantic_depth > 1 and len(ranked) > 1 \
            and gen.semantic is not None:
        head = ranked[:ranking.semantic_depth]
        hashes = gen.column("hash")
        ranked = gen.semantic.reorder(built.text, head, scores, [hashes[d].decode("ascii") for d in head],
                                      ranking.semantic_weight) + ranked[len(head):]
    ranked, found.total, found.facet_mask = found.curated.pin(ranked, found.total, found.facet_mask, found.sizes,
                                                              found.restrict)
    return ranked, scores


def _scattered(gen: Generation, searcher, built: BuiltQuery, strict: np.ndarray, ranking: Ranking) -> np.ndarray:
    """The articles of ``strict`` (every word, but few of them: "most words"
    joined in) whose words never meet in one section or heading: 语音 in one
    section and 合成 in another is not an article about 语音合成, and should
    not rank above one about 语音 alone.  Passage evidence reads them; there
    are fewer than ``Ranking.backfill_below``."""
    out = np.zeros_like(strict)
    weights = unit_weights(built.term_dfs, searcher.doc_count())
    if len(weights) < 2 or sum(weights) <= 0:  # nothing that could meet
        return out
    repeated = gen.repeated(searcher) if ranking.repeated_docs else None
    for d in np.flatnonzero(strict).tolist():
        ev = rerank.evidence(gen.stored.text(searcher, d, repeated), built.prepared, weights, ranking.repeated_docs)
        out[d] = ev.section <= 0
    return out


def by_date_first(gen: Generation, found: Candidates) -> list[int]:
    """Newest first: the articles with all the words, then those with most of them."""
    ranked = by_date(gen, found.main.mask)
    if found.pool is not found.main:
        seen = set(ranked)
        ranked += [d for d in by_date(gen, found.pool.mask) if d not in seen]
    return ranked


def _coverage(evs: list[SegmentEvaluator], built: BuiltQuery, restrict: list[np.ndarray | None],
              weights: list[float]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Per document: the IDF-weighted share of the required clauses it
    matches, and the share it matches with the words as typed (None when
    there is one clause, or nothing but the typed words)."""
    if len(built.units) < 2 and built.typed_units is None:
        return None, None
    total = sum(weights) or 1.0
    cover = typed = None
    for i, w in enumerate(weights):
        m = evaluate(evs, built.units[i], restrict, need_score=False).mask
        cover = m * (w / total) if cover is None else cover + m * (w / total)
        if built.typed_units is not None:
            t = evaluate(evs, built.typed_units[i], restrict, need_score=False).mask
            typed = t * (w / total) if typed is None else typed + t * (w / total)
    return cover, typed


def _tiers(evs: list[SegmentEvaluator], built: BuiltQuery, restrict: list[np.ndarray | None],
           cover: np.ndarray | None, typed_cover: np.ndarray | None,
           partial: np.ndarray | None = None) -> np.ndarray | None:
    """Each document's tier (lower ranks first), or None when all are equal.

    Versions first: articles that mention every asked version exactly, then
    those with a sibling model (Qwen2-VL for Qwen2), then other versions
    (GPT-4.1 for GPT-4).  Within each, the articles with all the words before
    those in ``partial`` (when given: "most words" after all words), and then
    articles that match what they match with the words as typed before those
    that need a synonym or a region word: a rare synonym's higher IDF must not
    push them down."""
    tier = None
    if built.versions:
        def all_of(want: str) -> np.ndarray:
            qs = [v.with_want(want) for v in built.versions]
            return evaluate(evs, Q.And(qs) if len(qs) > 1 else qs[0], restrict, need_score=False).mask
        exact, near = all_of("exact"), all_of("near")
        tier = np.where(exact, 0, np.where(near, 1, 2))
    if partial is not None:
        tier = partial.astype(np.int64) if tier is None else tier * 2 + partial
    untyped = None
    if typed_cover is not None and cover is not None:
        untyped = (typed_cover < cover - 1e-9).astype(np.int64)
    elif built.typed is not None:
        untyped = (~evaluate(evs, built.typed, restrict, need_score=False).mask).astype(np.int64)
    if untyped is not None:
        tier = untyped if tier is None else tier * 2 + untyped
    return tier


def by_score(s: Scores, tiers: np.ndarray | None, limit: int) -> list[int]:
    """Matching documents by tier (when given), then score, then document
    number (Whoosh's order)."""
    out: list[int] = []
    if tiers is None:
        parts = (s.mask,)
    else:
        present = np.unique(tiers[s.mask])
        parts = tuple(s.mask & (tiers == t) for t in present.tolist())
    for part in parts:
        docs = np.flatnonzero(part)
        if len(docs) > limit:  # only the best ``limit`` need sorting
            cut = np.argpartition(-s.score[docs], limit - 1)[:limit]
            kth = s.score[docs[cut]].min()
            docs = docs[s.score[docs] >= kth]  # keep ties at the edge: docnum decides
        order = np.lexsort((docs, -s.score[docs]))
        out.extend(docs[order][:limit - len(out)].tolist())
        if len(out) >= limit:
            break
    return out


def by_date(gen: Generation, mask: np.ndarray) -> list[int]:
    """Newest first, then by path; articles without a date last.

    Dates are compared as Whoosh stores them (integers in date order): an
    undated article's column value is the column default, the largest
    integer, which Whoosh cannot even turn back into a datetime."""
    docs = np.flatnonzero(mask).tolist()
    if not docs:
        return []
    dates, paths = gen.column("date", translate=False), gen.column("path")

    def newest_first(d: int) -> int:
        v = dates[d]
        return -1 if v is None or v >= _NO_DATE else v

    docs.sort(key=lambda d: paths[d])
    docs.sort(key=newest_first, reverse=True)  # stable: ties stay by path
    return docs
