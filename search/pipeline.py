"""One search request against one generation: candidates → order → page.

:func:`run` parses and builds the query (``search.syntax``,
``search.query``), finds the candidates (``search.candidates``), orders them
(``search.ordering``) and makes the page (``search.hits``).  A
:class:`SearchRequest` says everything the page depends on besides the
generation, so it is also the key of the generation's result cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from whoosh import query as Q

from . import candidates, hits, ordering, syntax
from . import query as qbuild
from .curation import Curation
from .generation import Generation
from .models import Filters, ResultPage
from .synonyms import Synonyms

#: The note of a page cut short by the time limit (``ResultPage.timed_out``).
TIMED_OUT_NOTE = "查询耗时过长，只显示了部分结果。"


@dataclass(frozen=True)
class SearchRequest:
    """What one page of results depends on, besides the generation.

    ``synonyms`` and ``curation`` are the objects in force (a reloaded file
    is a new object, compared by identity), so a request is the key of the
    generation's result cache.  ``ranking`` is left out of that key: only
    requests with ``DEFAULT_RANKING`` are cached (the ranking experiments of
    ``bench/tune.py`` never are)."""

    query: str
    page: int
    per_page: int
    sort: str
    filters: Filters
    synonyms: Synonyms | None = None
    curation: Curation | None = None
    ranking: qbuild.Ranking = field(default=qbuild.DEFAULT_RANKING, compare=False)


def run(gen: Generation, request: SearchRequest, time_limit: float) -> ResultPage:
    """One page of ranked, highlighted results (``took_ms`` left to the
    caller); work past ``time_limit`` seconds is skipped, the page marked
    ``timed_out`` with a note."""
    pq = syntax.parse(request.query or "")
    _apply_filters(pq, request.filters)
    searcher = gen.searcher()
    built = qbuild.build(pq, gen.analyzer, request.ranking, request.synonyms, gen.counts(searcher))
    result = ResultPage(query=pq.cleaned, total=0, page=request.page, per_page=request.per_page, took_ms=0.0)
    notes = list(pq.notes)
    q, sort = built.query, request.sort
    if q is None:
        if built.filter is None:  # nothing asked
            result.note = " ".join(notes) or None
            return result
        q = Q.Every()
        if sort == "relevance":
            sort = "date"  # nothing to rank by: newest first

    deadline = time.perf_counter() + time_limit
    evs = gen.evaluators(searcher, deadline)
    curated = candidates.curated_for(request.curation, request.query, gen, searcher)
    found = candidates.find(evs, q, built, pq, sort, request.ranking, curated, deadline, notes)

    limit = request.page * request.per_page
    if sort == "date":
        ranked, scores = ordering.by_date_first(gen, found), found.pool.score
    else:
        ranked, scores = ordering.by_relevance(gen, searcher, built, found, request.ranking, limit)

    result.timed_out = found.timed_out
    if result.timed_out and TIMED_OUT_NOTE not in notes:
        notes.append(TIMED_OUT_NOTE)
    result.total = found.total
    for docnum in ranked[(request.page - 1) * request.per_page:limit]:
        result.hits.append(hits.make_hit(gen, searcher, docnum, float(scores[docnum]), built.prepared))
    result.facets = hits.facets(gen, searcher, found.evs, found.facet_mask)
    if built.latin_words and found.strict_total < 3:
        result.suggestion = hits.suggestion(pq.cleaned, built.latin_words, gen, searcher, found.strict_total)
    result.note = " ".join(notes) or None
    return result


def _apply_filters(pq: syntax.ParsedQuery, filters: Filters) -> None:
    pq.tags.extend(filters.tags)
    pq.categories.extend(filters.categories)
    if filters.date:
        rng = syntax.parse_date_range(filters.date)
        if rng:
            pq.date_range = rng
