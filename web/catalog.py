"""Per-generation lists the search box needs: titles, tags and categories.

As-you-type suggestions must match *prefixes of titles*, including Chinese
prefixes such as ``事务隔`` that are not words to jieba (the inverted index
only knows whole words, so a Whoosh prefix query cannot find them).  The
titles are few (thousands) and short, so they are simply kept in memory,
folded the same way as queries, and scanned.  The lists are built once per
index generation, lazily, and dropped when a new generation is published.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field

from indexer.analysis import Analyzer
from search.engine import Engine

log = logging.getLogger(__name__)

#: Word boundaries inside a title: spaces, punctuation, CJK punctuation.
_BOUNDARY_RE = re.compile(r"[\s\-_/|:：,，.。、;；!！?？()（）\[\]【】《》<>\"'“”‘’·]+")


@dataclass
class TitleEntry:
    folded: str
    title: str
    path: str
    url: str  # the permalink
    starts: tuple[int, ...]  # folded offsets where a word begins


@dataclass
class Counted:
    value: str
    count: int
    folded: str


@dataclass
class Catalog:
    generation: str
    analyzer: Analyzer  # folds queries the way the titles were folded
    titles: list[TitleEntry] = field(default_factory=list)
    tags: list[Counted] = field(default_factory=list)
    categories: list[Counted] = field(default_factory=list)

    def suggest_titles(self, q: str, limit: int = 8) -> list[TitleEntry]:
        """Titles starting with ``q``, then titles with a word starting with it,
        then (for two characters or more) titles containing it."""
        fq = self.analyzer.fold_query(q).strip()
        if not fq:
            return []
        ranked: list[tuple[int, int, int, TitleEntry]] = []
        for k, e in enumerate(self.titles):
            pos = e.folded.find(fq)
            if pos < 0:
                continue
            if pos == 0:
                rank = 0
            elif any(p in e.starts for p in _all(e.folded, fq)):
                rank = 1
            elif len(fq) >= 2:
                rank = 2
            else:
                continue
            ranked.append((rank, len(e.title), k, e))
        ranked.sort(key=lambda r: r[:3])
        return [r[3] for r in ranked[:limit]]

    def suggest_tags(self, q: str, limit: int = 5) -> list[Counted]:
        fq = self.analyzer.fold_label(q)
        if not fq:
            return []
        hits = [t for t in self.tags if t.folded.startswith(fq)]
        return hits[:limit]


def _all(text: str, sub: str) -> list[int]:
    out = []
    i = text.find(sub)
    while i >= 0:
        out.append(i)
        i = text.find(sub, i + 1)
    return out


def _starts(folded: str) -> tuple[int, ...]:
    starts = {0}
    for m in _BOUNDARY_RE.finditer(folded):
        starts.add(m.end())
    # a Latin word right after Han text also begins a word: "ChatGPT是什么" / "使用LoRA"
    for m in re.finditer(r"(?<=[^\x00-\x7f])[a-z0-9]|(?<=[a-z0-9])[^\x00-\x7f]", folded):
        starts.add(m.start())
    return tuple(sorted(starts))


def build_catalog(engine: Engine) -> Catalog:
    """Read titles and facet values of the live generation."""
    t0 = time.perf_counter()
    listing = engine.listing()
    cat = Catalog(listing.generation, listing.analyzer)
    fold_query = listing.analyzer.fold_query
    for rec in listing.titles:
        folded = fold_query(rec.title)
        cat.titles.append(TitleEntry(folded, rec.title, rec.path, rec.url, _starts(folded)))
    cat.titles.sort(key=lambda e: e.folded)
    for key in ("tags", "categories"):  # the engine's facet labels: one spelling rule
        items = [Counted(label, count, f) for f, (label, count) in listing.labels[key].items()]
        items.sort(key=lambda c: (-c.count, c.folded))
        setattr(cat, key, items)
    log.info("catalog of %s: %d titles, %d tags, %d categories (%.0f ms)", cat.generation, len(cat.titles),
             len(cat.tags), len(cat.categories), (time.perf_counter() - t0) * 1000)
    return cat


class CatalogCache:
    """The catalog of the live generation, rebuilt when the generation changes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cat: Catalog | None = None
        self._lock = threading.Lock()

    def get(self) -> Catalog:
        name = self.engine.generation_name()
        cat = self._cat
        if cat is not None and cat.generation == name:
            return cat
        with self._lock:
            if self._cat is None or self._cat.generation != self.engine.generation_name():
                self._cat = build_catalog(self.engine)
            return self._cat
