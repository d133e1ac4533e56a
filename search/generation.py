"""One published generation of the index, as a long-lived process reads it.

``zhsearch index`` publishes a new generation with every update; the
:class:`~search.engine.Engine` opens it and keeps one :class:`Generation`
until the next.  A generation is read-only, so everything derived from it is
kept with it and shared by the threads of the process: its result pages,
decoded posting lists and stored articles (:class:`~search.lru.LRU` caches),
the scoring arrays of each segment, facet labels, the document frequencies
of the words people search for, and three tables built from the whole
index — the spelling vocabulary, the pinyin index and the counts of
repeated sentences (:class:`Derived`).  Whoosh's searchers and readers are
not shared between threads: each thread gets its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from typing import Generic, TypeVar

from indexer.analysis import Analyzer
from indexer.once import BuiltOnce
from indexer.stored import FoldFn

from . import boilerplate, vector
from .lru import LRU
from .pinyin import PinyinIndex
from .rerank import DocText
from .semantic import Semantic
from .spelling import Vocabulary

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Words whose document frequencies a generation keeps (``CachedCounts``).
COUNTED_WORDS = 50_000


class Derived(Generic[T]):
    """A table built from a generation's whole index (``build(reader)``), once.

    Until it is built the previous generation's table answers, if there was
    one, while this one is built in the background: building takes seconds
    on a large index, and with ``--watch`` a generation may live only a
    minute (a suggestion or a sentence count one update behind is still a
    good one).  The first generation a process opens builds it in the
    foreground, under a lock of its own (a search that only needs facet
    labels must not wait for a pinyin table)."""

    def __init__(self, name: str, build: Callable[[object], T], previous: T | None = None) -> None:
        self.name = name
        self.build = build
        #: the previous generation's table, answering until this one is built
        self.previous = previous
        self.value: T | None = None
        self._building = False

    def get(self, gen: Generation, searcher) -> T:
        value = self.value
        if value is not None:
            return value
        stale = self.previous
        if stale is None:
            with gen.derive_lock:
                if self.value is None:
                    self.value = self.build(searcher.reader())
                return self.value
        with gen.lock:
            if self.value is not None:
                return self.value
            if not self._building:
                self._building = True
                threading.Thread(target=self._build_later, args=(gen,), daemon=True,
                                 name=f"zhsearch-{self.name}").start()
            return stale

    def carried(self) -> T | None:
        """What the next generation answers from until it has its own (an
        empty table is not worth it: the next one builds its own first)."""
        return self.value or self.previous or None

    def _build_later(self, gen: Generation) -> None:
        try:
            reader = gen.ix.reader()  # its own: Whoosh readers are not shared between threads
            try:
                value = self.build(reader)
            finally:
                reader.close()
            with gen.lock:
                self.value = value
                self.previous = None
        except Exception:  # the stale one keeps answering; the next generation tries again
            log.exception("cannot build %s of generation %s", self.name, gen.name)
        finally:
            with gen.lock:
                self._building = False


@dataclass
class DerivedTables:
    """The tables a generation builds from its whole index."""

    vocabulary: Derived[Vocabulary]  # "did you mean" (``search.spelling``)
    pinyin: Derived[PinyinIndex]  # pinyin rescue (``search.pinyin``)
    repeated: Derived[dict[int, int]]  # sentences the articles repeat (``search.boilerplate``)

    @classmethod
    def after(cls, previous: DerivedTables | None, fold: FoldFn) -> DerivedTables:
        """A new generation's tables, answered from ``previous`` (the last
        generation's) until built."""
        def carried(name: str):
            return getattr(previous, name).carried() if previous is not None else None

        return cls(Derived("vocab", Vocabulary, carried("vocabulary")),
                   Derived("pinyin", PinyinIndex, carried("pinyin")),
                   Derived("repeated", lambda reader: boilerplate.document_counts(reader, fold), carried("repeated")))


class StoredArticles:
    """Stored fields (title, path, folded sections) of recently ranked
    articles, least recently used dropped first past ``max_bytes``.

    Every search reads the stored sections of its best candidates, for
    passage evidence (``search.rerank``) and snippets; unpickling and
    inflating them is most of that work, and the articles that rank high
    repeat across the queries people ask, like the words they search for
    (``vector.postings_cache``).  Entries never change once made; callers
    must not change what they get.  A new generation starts with a new one."""

    def __init__(self, max_bytes: int, fold: FoldFn) -> None:
        self.fold = fold  # the generation's analyzer's
        self._articles: LRU[int, _Article] = LRU(max_bytes, size=lambda a: a.size)

    def _article(self, searcher, docnum: int) -> _Article:
        return self._articles.get_or_make(docnum, lambda: _Article(searcher.stored_fields(docnum)))

    def get(self, searcher, docnum: int) -> dict:
        """The article's stored fields."""
        return self._article(searcher, docnum).fields

    def text(self, searcher, docnum: int, repeated: dict[int, int] | None = None) -> DocText:
        """The article's text as passage evidence reads it (made once per
        table of ``repeated`` sentences: ``search.boilerplate``)."""
        article = self._article(searcher, docnum)
        made = article.text
        if made is None or made[0] is not repeated:
            # the same value whichever thread makes it
            made = article.text = (repeated, DocText.of(article.fields, self.fold, repeated))
        return made[1]

    def joined(self, searcher, docnum: int) -> DocText:
        """The article's text as snippets read it: whichever :meth:`text`
        was made (the repeated sentences do not matter to a snippet)."""
        article = self._article(searcher, docnum)
        made = article.text
        if made is None:
            made = article.text = (None, DocText.of(article.fields, self.fold))
        return made[1]


class _Article:
    """One article's stored fields, what they cost to keep, and its text as
    passage evidence last read it (with the table of repeated sentences it
    was made with)."""

    __slots__ = ("fields", "size", "text")

    def __init__(self, fields: dict) -> None:
        self.fields = fields
        self.size = 512 + 4 * sum(len(s[2]) + len(s[0]) for s in fields.get("sections") or ())
        self.text: tuple[dict[int, int] | None, DocText] | None = None


class CachedCounts:
    """Document frequencies of words in the body field (what query building
    asks of the index: ``search.weights.ArticleCounts``), looked up through
    one thread's reader and kept in the generation's ``cache`` (the words
    people search for repeat)."""

    def __init__(self, reader, cache: LRU[str, int]) -> None:
        self._reader = reader
        self._cache = cache

    def df(self, word: str) -> int:
        return self._cache.get_or_make(word, lambda: self._lookup(word))

    def _lookup(self, word: str) -> int:
        try:
            return self._reader.doc_frequency("body", word)
        except (KeyError, ValueError):
            return 0


class _NoValues:
    """The column of an index without documents."""

    def __getitem__(self, docnum: int) -> None:
        return None


_NO_VALUES = _NoValues()


@dataclass(eq=False)
class Generation:
    """One generation of the index and what is derived from it (see the
    module docstring).  ``stored_bytes``: the budget of its stored articles;
    ``previous``: the generation it replaces, whose derived tables answer
    until its own are built."""

    name: str
    ix: object  # the Whoosh index
    meta: dict  # the generation's record (``indexer.store``)
    analyzer: Analyzer
    results: LRU  # result pages (``search.engine.search``)
    postings: LRU  # decoded posting lists (``vector.postings_cache``)
    stored_bytes: InitVar[int]
    previous: InitVar[Generation | None] = None
    #: the engine's passage vectors and encoder (``search.semantic``), if the extra is installed
    semantic: Semantic | None = None
    stored: StoredArticles = field(init=False)
    tables: DerivedTables = field(init=False)
    #: guards the facet labels and the derived tables
    lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    #: held while a derived table is built in the foreground
    derive_lock: threading.Lock = field(init=False, default_factory=threading.Lock)
    _local: threading.local = field(init=False, default_factory=threading.local)  # this thread's searcher, columns
    _labels: dict[str, dict[str, tuple[str, int]]] | None = field(init=False, default=None)
    _arrays: BuiltOnce[object, vector.SegmentArrays] = field(init=False, default_factory=BuiltOnce)
    _counts: LRU[str, int] = field(init=False, default_factory=lambda: LRU(COUNTED_WORDS))
    #: values the evaluators derive from the whole generation (``SegmentEvaluator.generation_memo``)
    _memo: BuiltOnce[tuple, object] = field(init=False,
                                            default_factory=lambda: BuiltOnce(vector.QUERY_KEYED_LIMIT))

    def __post_init__(self, stored_bytes: int, previous: Generation | None) -> None:
        self.stored = StoredArticles(stored_bytes, self.analyzer.fold)
        self.tables = DerivedTables.after(previous.tables if previous is not None else None, self.analyzer.fold)

    def searcher(self):
        """This thread's Whoosh searcher of the generation."""
        s = getattr(self._local, "searcher", None)
        if s is None:
            s = self.ix.searcher()
            self._local.searcher = s
            self._local.columns = {}
        return s

    def evaluators(self, searcher, deadline: float) -> list[vector.SegmentEvaluator]:
        """One evaluator per segment, in document number order."""
        out = []
        base = 0
        for leaf, offset in searcher.leaf_searchers():
            reader = leaf.reader()
            assert offset == base, "segments are numbered contiguously"
            segment = reader.segment() if hasattr(reader, "segment") else None
            if segment is None:  # an empty index's reader: nothing worth keeping
                ev = vector.SegmentEvaluator(searcher, leaf, vector.SegmentArrays(reader), deadline,
                                               generation_memo=self._memo)
            else:
                key = segment.segment_id()
                arrays = self._arrays.get(key, lambda r=reader: vector.SegmentArrays(r))
                ev = vector.SegmentEvaluator(searcher, leaf, arrays, deadline, self.postings, key, self._memo)
            out.append(ev)
            base += ev.n
        return out

    def column(self, name: str, translate: bool = True):
        """This thread's reader of a column (opening one costs an offsets read).

        ``translate=False``: the stored values as they are (a date as its
        integer, a missing date as the column's default) instead of objects."""
        self.searcher()  # this thread's columns live beside its searcher
        cols = self._local.columns
        key = name if translate else (name, "raw")
        cr = cols.get(key)
        if cr is None:
            reader = self.searcher().reader()
            # an index of no articles has no segments, so no columns: every value is missing
            cr = cols[key] = (reader.column_reader(name, translate=translate) if reader.has_column(name)
                              else _NO_VALUES)
        return cr

    def labels(self, searcher) -> dict[str, dict[str, tuple[str, int]]]:
        """For tags and categories: folded key → (the label most articles
        spell it with, number of articles), over the whole generation."""
        with self.lock:
            if self._labels is None:
                self._labels = {col: self._count_labels(searcher, col) for col in ("tags", "categories")}
            return self._labels

    def _count_labels(self, searcher, col: str) -> dict[str, tuple[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        cr = self.column(col)
        fold_label = self.analyzer.fold_label
        for docnum in searcher.reader().all_doc_ids():
            for v in cr[docnum] or ():
                c = counts.setdefault(fold_label(v), {})
                c[v] = c.get(v, 0) + 1
        # the most used spelling (ties: the same whatever the document order)
        return {k: (min(v, key=lambda s: (-v[s], s)), sum(v.values())) for k, v in counts.items()}

    def counts(self, searcher) -> CachedCounts:
        """Document frequencies for query building, read through ``searcher``
        (the calling thread's) and remembered for the generation."""
        return CachedCounts(searcher.reader(), self._counts)

    def repeated(self, searcher) -> dict[int, int]:
        """Sentences the articles repeat (``search.boilerplate``), counted once
        per generation; the previous generation's while a new one counts."""
        return self.tables.repeated.get(self, searcher)

    def pinyin(self, searcher) -> PinyinIndex:
        return self.tables.pinyin.get(self, searcher)

    def vocabulary(self, searcher) -> Vocabulary:
        return self.tables.vocabulary.get(self, searcher)
