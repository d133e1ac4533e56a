"""The values a search returns.  ``to_dict`` is the JSON shape tools rely on
(``zhsearch search --json`` and ``/api/search``): keep field names stable."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


def _values(v: str | Iterable[str] | None) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        v = [v]
    return tuple(x for x in v if isinstance(x, str) and x)


@dataclass(frozen=True)
class Filters:
    """What a search is restricted to, besides the query text: articles with
    every one of ``tags`` and ``categories`` (matched like the ``tag:`` and
    ``category:`` syntax) and dated in ``date`` (a ``date:`` range such as
    ``2024`` or ``2023..2024-06``).  A single string is taken as one value;
    empty values are ignored."""

    tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    date: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", _values(self.tags))
        object.__setattr__(self, "categories", _values(self.categories))
        object.__setattr__(self, "date", str(self.date) if self.date else None)


@dataclass
class SectionHit:
    """One section of an article that matches the query: its heading (None
    for the text before the first heading), the heading with the query words
    marked, its anchor, and the passage shown from it (escaped text plus
    ``<mark>``)."""

    heading: str | None
    heading_html: str | None
    anchor: str | None
    snippet_html: str


@dataclass
class Hit:
    path: str  # relative to the corpus root
    title: str
    url: str
    date: str | None  # ISO 8601
    tags: list[str]
    categories: list[str]
    score: float
    title_html: str
    snippet_html: str
    section: str | None  # heading of the section the snippet came from
    anchor: str | None  # that heading's anchor slug
    #: the best matching sections, best first (at most ``hits.SECTIONS_PER_HIT``):
    #: the first is the one ``snippet_html`` comes from; empty when only the
    #: title or the tags match
    sections: list[SectionHit] = field(default_factory=list)


@dataclass
class FacetValue:
    value: str
    count: int


@dataclass
class Facets:
    tags: list[FacetValue] = field(default_factory=list)
    categories: list[FacetValue] = field(default_factory=list)


@dataclass
class ResultPage:
    query: str  # the query as understood (normalised, after cuts)
    total: int
    page: int
    per_page: int
    took_ms: float
    hits: list[Hit] = field(default_factory=list)
    facets: Facets = field(default_factory=Facets)
    note: str | None = None  # set when the engine relaxed or cut the query
    suggestion: str | None = None  # "did you mean"
    #: cut short by the time limit: partial, and not kept in the result cache
    #: (not in the JSON: the note tells a reader)
    timed_out: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page)) if self.per_page else 1

    def to_dict(self) -> dict:
        # by hand: dataclasses.asdict deep-copies every value on the way, ~1 ms
        # of each /api/search request (cProfile, bench/README.md)
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "took_ms": self.took_ms,
            "note": self.note,
            "suggestion": self.suggestion,
            "hits": [{**vars(h), "tags": list(h.tags), "categories": list(h.categories),
                      "sections": [dict(vars(s)) for s in h.sections]} for h in self.hits],
            "facets": {name: [{"value": f.value, "count": f.count} for f in values]
                       for name, values in (("tags", self.facets.tags), ("categories", self.facets.categories))},
        }


@dataclass(frozen=True)
class TitleRecord:
    """One live article as the search box's suggestions list it."""

    path: str
    title: str
    url: str  # the permalink


@dataclass
class Listing:
    """Everything a generation lists for browsing: every article's title and
    the tag and category facet labels (folded key → (label, articles)).
    ``analyzer`` folds text the way this generation's index was folded."""

    generation: str
    analyzer: object  # indexer.analysis.Analyzer
    titles: list[TitleRecord]
    labels: dict[str, dict[str, tuple[str, int]]]
