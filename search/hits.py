"""The last step of a search: what a page shows of its articles and beside them.

Each hit's title, best passage and best matching sections with the query's
words marked (``search.snippets``), within the caps of ``search.bounds``;
the tag and category facets of everything that matched; and, when little
matched, "did you mean" (``search.spelling``) or the Chinese words a pinyin
query reads as (``search.pinyin``).
"""

from __future__ import annotations

import numpy as np

from . import bounds
from .generation import Generation
from .models import Facets, FacetValue, Hit, SectionHit
from .pinyin import wants_pinyin
from .snippets import Prepared, highlight, make_snippets
from .spelling import correct
from .vector import SegmentEvaluator

#: Matching sections listed per hit (``Hit.sections``), the best first.
SECTIONS_PER_HIT = 3
#: Values listed per facet, the most frequent first.
FACET_LIMIT = 30


def make_hit(gen: Generation, searcher, docnum: int, score: float, terms: Prepared) -> Hit:
    """One article of the page, the query's ``terms`` marked."""
    stored = gen.stored.get(searcher, docnum)
    fold = gen.analyzer.fold
    title = bounds.title(stored.get("title_text") or stored.get("path", ""))
    sections = stored.get("sections") or []
    snippets = make_snippets(sections, terms, fold, fallback=stored.get("description_text") or "",
                             limit=SECTIONS_PER_HIT, doc=gen.stored.joined(searcher, docnum))
    snippet = snippets[0]
    tags = gen.column("tags")[docnum] or []
    cats = gen.column("categories")[docnum] or []
    date = stored.get("date")
    return bounds.hit(Hit(
        path=stored["path"], title=title, url=stored.get("url") or "",
        date=date.isoformat() if date else None, tags=list(tags), categories=list(cats),
        score=round(score, 4),
        title_html=highlight(title, terms, fold), snippet_html=snippet.html,
        section=snippet.section, anchor=snippet.anchor,
        sections=[SectionHit(s.section, s.heading_html, s.anchor, s.html) for s in snippets if s.units],
    ))


def facets(gen: Generation, searcher, evs: list[SegmentEvaluator], mask: np.ndarray) -> Facets:
    """The tags and categories of the articles in ``mask``, with how many have each."""
    out = Facets()
    if not mask.any():  # nothing to count (and an empty index has no columns to read)
        return out
    labels = gen.labels(searcher)
    for key, fieldname in (("tags", "tag"), ("categories", "category")):
        counts: dict[str, int] = {}
        base = 0
        for ev in evs:
            seg_mask = mask[base:base + ev.n]
            base += ev.n
            docs, vals, names = ev.arrays.facet(ev.reader, fieldname)
            if not len(docs):
                continue
            n = np.bincount(vals[seg_mask[docs]], minlength=len(names))
            for i in np.flatnonzero(n).tolist():
                counts[names[i]] = counts.get(names[i], 0) + int(n[i])
        values = [FacetValue(labels[key].get(k, (k, 0))[0], c) for k, c in counts.items() if k and c]
        values.sort(key=lambda f: (-f.count, f.value))
        setattr(out, key, bounds.facet_values(values)[:FACET_LIMIT])
    return out


def suggestion(cleaned: str, words: list[str], gen: Generation, searcher, matched: int) -> str | None:
    """Pinyin rescue first (``canshu`` → 参数) when little matched, then —
    only when nothing matched — Latin typo correction."""
    vocab = gen.vocabulary(searcher)
    if wants_pinyin(words, vocab):
        chinese = gen.pinyin(searcher).suggest(" ".join(words))
        if chinese:
            return chinese
    if matched:
        return None
    return correct(cleaned, words, vocab)
