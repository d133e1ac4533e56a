"""The first step of a search: which articles match, and how well.

The built query is evaluated over every segment at once (``search.vector``),
restricted by the filters, the exclusions and the site owner's hides
(``search.curation``).  When too few articles have every required word, those
with most of them join in ("most words"), with a note that says so.  Scores
and masks are over the whole index (global document numbers).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from whoosh import query as Q

from .curation import NOTHING, Applied, Curation
from .query import BuiltQuery, Ranking
from .syntax import ParsedQuery
from .vector import SegmentEvaluator


@dataclass
class Scores:
    """A mask and a score per document, over the whole index."""

    mask: np.ndarray
    score: np.ndarray


@dataclass
class Candidates:
    """What matches a query (see the module docstring)."""

    evs: list[SegmentEvaluator]  # one per segment
    restrict: list[np.ndarray | None]  # per segment: what filters, exclusions and hides leave (None: all)
    curated: Applied  # the owner's pins and hides for this query
    main: Scores  # the articles with every required word
    pool: Scores  # those, and the "most words" ones when they joined in (else ``main`` itself)
    strict_total: int  # how many have every required word
    total: int  # how many the page counts
    facet_mask: np.ndarray  # what the facets count

    @property
    def sizes(self) -> list[int]:
        return [ev.n for ev in self.evs]

    @property
    def timed_out(self) -> bool:
        """Was work left undone at the time limit (the answer is partial)?"""
        return any(ev.cut for ev in self.evs)


def find(evs: list[SegmentEvaluator], q: Q.Query, built: BuiltQuery, pq: ParsedQuery, sort: str,
         ranking: Ranking, curated: Applied, deadline: float, notes: list[str]) -> Candidates:
    """The candidates of ``q`` (the built query, or every article when only
    filters were given); a note for "most words" goes to ``notes``."""
    restrict = curated.restrict([ev.n for ev in evs], _restriction(evs, built))
    main = evaluate(evs, q, restrict)
    total = int(main.mask.sum())
    found = Candidates(evs, restrict, curated, main, main, total, total, main.mask)
    if total < ranking.backfill_below and built.relaxed is not None:
        if time.perf_counter() >= deadline:
            for ev in evs:
                ev.cut = True  # no time left for the "most words" pass
        else:
            _most_words(found, built, pq, sort, ranking, notes)
    return found


def curated_for(curation: Curation | None, query: str, gen, searcher) -> Applied:
    """The owner's pins and hides for this query (``search.curation``)."""
    return curation.applied(query, gen.analyzer, gen.name, searcher) if curation else NOTHING


def _most_words(found: Candidates, built: BuiltQuery, pq: ParsedQuery, sort: str, ranking: Ranking,
                notes: list[str]) -> None:
    """The "most words" pass: too few articles have every word, so those with
    most of them join in: after the all-words ones for two words, ranked with
    them for three or more (``Ranking.pool_min_units``), so a long question
    still finds the article that words it differently."""
    relaxed = evaluate(found.evs, built.relaxed, found.restrict)
    more = int(relaxed.mask.sum())
    if more <= found.total:
        return
    note = _most_words_note(pq, built, found.total, sort, ranking)
    if note:
        notes.append(note)
    found.pool = Scores(relaxed.mask, np.where(found.main.mask, found.main.score, relaxed.score))
    found.total = more
    found.facet_mask = relaxed.mask


def _most_words_note(pq: ParsedQuery, built: BuiltQuery, total: int, sort: str, ranking: Ranking) -> str | None:
    typed = [c.text for g in pq.groups for c in g]
    if len(typed) == 1 and not built.question:
        # one word as typed, which jieba cut: "all the keywords" would
        # puzzle whoever typed it, and the first results have it whole
        # (a question typed without spaces is several words)
        return f"没有文章包含完整的“{typed[0]}”，以下结果只包含其中的部分词语。" if total == 0 else None
    if total == 0:
        return "没有同时包含所有关键词的文章，以下结果只包含部分关键词。"
    if (built.words < ranking.pool_min_units and not built.question) or sort == "date":
        return f"只有 {total} 篇文章包含所有关键词，其后的结果只包含部分关键词。"
    return f"只有 {total} 篇文章包含所有关键词，其余结果只包含部分关键词，按相关度排列。"


def evaluate(evs: list[SegmentEvaluator], q, restrict: list[np.ndarray | None],
             need_score: bool = True) -> Scores:
    """``q`` over every segment, restricted per segment (None: not at all)."""
    masks, scores = [], []
    for ev, keep in zip(evs, restrict, strict=True):
        node = ev.evaluate(q, need_score)
        mask = node.mask if keep is None else node.mask & keep
        masks.append(mask)
        scores.append(node.score * mask if need_score else np.zeros(ev.n))
    if len(masks) == 1:
        return Scores(masks[0], scores[0])
    if not masks:  # no segments: an index of no articles
        return Scores(np.zeros(0, dtype=bool), np.zeros(0))
    return Scores(np.concatenate(masks), np.concatenate(scores))


def _restriction(evs: list[SegmentEvaluator], built: BuiltQuery) -> list[np.ndarray | None]:
    """Per segment: the documents filters and exclusions leave (None: all)."""
    out: list[np.ndarray | None] = []
    for ev in evs:
        keep = None
        if built.filter is not None:
            keep = ev.evaluate(built.filter, need_score=False).mask
        if built.exclude is not None:
            drop = ev.evaluate(built.exclude, need_score=False).mask
            keep = ~drop if keep is None else keep & ~drop
        out.append(keep)
    return out
