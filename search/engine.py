"""Running a search against the live index generation.

An :class:`Engine` is what a long-lived process (the web server, a benchmark)
keeps: it notices when ``zhsearch index`` publishes a new generation and
switches to it, gives each thread its own Whoosh searcher (Whoosh readers are
not meant to be shared across threads), and caches per-generation data
(facet labels, spelling vocabulary).  :func:`search` is the one entry point.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from whoosh import query as Q
from whoosh.util.numeric import typecode_max

from indexer import store
from indexer.analysis import Analyzer
from indexer.anchors import DEFAULT_STYLE, AnchorStyle
from indexer.stored import FoldFn

from . import boilerplate, bounds, glossary, rerank, syntax, vector
from . import query as qbuild
from .curation import NOTHING, Curation, CurationFile
from .lru import LRU
from .models import Facets, FacetValue, Filters, Hit, Listing, ResultPage, SectionHit, TitleRecord
from .pinyin import PinyinIndex, looks_like_pinyin
from .snippets import Prepared, highlight, make_snippets
from .spelling import Vocabulary
from .synonyms import SynonymFile, Synonyms
from .weights import unit_weights

log = logging.getLogger(__name__)

MAX_PER_PAGE = 100
MAX_PAGE = 1000
FACET_LIMIT = 30
#: A query is cut off after this long and partial results are shown.
TIME_LIMIT_S = 5.0
TIMED_OUT_NOTE = "查询耗时过长，只显示了部分结果。"
#: Matching sections listed per hit (``Hit.sections``), the best first.
SECTIONS_PER_HIT = 3
#: Result pages an engine keeps per generation (see :func:`search`).
RESULT_CACHE_SIZE = 1024
#: Decoded posting lists kept per generation and process (``vector.postings_cache``).
POSTINGS_CACHE_MB = 64
#: Unpickled stored fields kept per generation and process (``StoredCache``).
STORED_CACHE_MB = 32


class StoredCache:
    """Stored fields (title, path, folded sections) of recently ranked
    articles, least recently used dropped first past ``max_bytes``.

    Every search reads the stored sections of its best candidates, for
    passage evidence (``search.rerank``) and snippets; unpickling and
    inflating them is most of that work, and the articles that rank high
    repeat across the queries people ask, like the words they search for
    (``vector.PostingsCache``).  Entries never change once made; callers must
    not change what they get.  A new generation starts with a new cache."""

    def __init__(self, max_bytes: int, fold: FoldFn) -> None:
        self.fold = fold  # the generation's analyzer's
        self._items: LRU[int, list] = LRU(max_bytes, size=lambda entry: entry[1])  # docnum -> [fields, size, DocText]

    def _entry(self, searcher, docnum: int) -> list:
        def read() -> list:
            fields = searcher.stored_fields(docnum)
            return [fields, 512 + 4 * sum(len(s[2]) + len(s[0]) for s in fields.get("sections") or ()), None]
        return self._items.get_or_make(docnum, read)

    def get(self, searcher, docnum: int) -> dict:
        """The article's stored fields."""
        return self._entry(searcher, docnum)[0]

    def text(self, searcher, docnum: int, repeated: dict[int, int] | None = None) -> rerank.DocText:
        """The article's text as passage evidence reads it (made once per
        table of ``repeated`` sentences: ``search.boilerplate``)."""
        entry = self._entry(searcher, docnum)
        made = entry[2]
        if made is None or made[0] is not repeated:
            # the same value whichever thread makes it
            made = entry[2] = (repeated, rerank.DocText.of(entry[0], self.fold, repeated))
        return made[1]

    def joined(self, searcher, docnum: int) -> rerank.DocText:
        """The article's text as snippets read it: whichever :meth:`text`
        was made (the repeated sentences do not matter to a snippet)."""
        entry = self._entry(searcher, docnum)
        made = entry[2]
        if made is None:
            made = entry[2] = (None, rerank.DocText.of(entry[0], self.fold))
        return made[1]


class _NoValues:
    """The column of an index without documents."""

    def __getitem__(self, docnum: int) -> None:
        return None


_NO_VALUES = _NoValues()


@dataclass
class _Generation:
    name: str
    ix: object
    meta: dict
    analyzer: Analyzer
    local: threading.local = field(default_factory=threading.local)
    _labels: dict | None = None
    _vocab: Vocabulary | None = None
    _pinyin: PinyinIndex | None = None
    _repeated: dict | None = None
    _df: LRU[str, int] = field(default_factory=lambda: LRU(Lexicon.MAX_WORDS))
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: result pages (see :func:`search`): (what keeps their key's ids unique, page)
    results: LRU[tuple, tuple[object, ResultPage]] = field(default_factory=lambda: LRU(RESULT_CACHE_SIZE))
    _arrays: dict = field(default_factory=dict)
    postings: LRU = field(default_factory=lambda: vector.postings_cache(POSTINGS_CACHE_MB << 20))
    #: the spelling vocabulary and pinyin index of the generation this one
    #: replaced, answered from while this one's are built in the background
    #: (seconds on a large index: with ``--watch`` a generation may live
    #: only a minute, and a reader must not wait for it each time)
    previous: dict = field(default_factory=dict)
    _building: set = field(default_factory=set)
    _derive_lock: threading.Lock = field(default_factory=threading.Lock)
    stored: StoredCache | None = None  # made for the generation's analyzer

    def __post_init__(self) -> None:
        if self.stored is None:
            self.stored = StoredCache(STORED_CACHE_MB << 20, self.analyzer.fold)

    def evaluators(self, searcher, deadline: float) -> list[vector.SegmentEvaluator]:
        """One evaluator per segment, in document number order."""
        out = []
        base = 0
        for leaf, offset in searcher.leaf_searchers():
            reader = leaf.reader()
            assert offset == base, "segments are numbered contiguously"
            segment = reader.segment() if hasattr(reader, "segment") else None
            if segment is None:  # an empty index's reader: nothing worth keeping
                ev = vector.SegmentEvaluator(searcher, leaf, vector.SegmentArrays(reader), deadline)
            else:
                key = segment.segment_id()
                arrays = self._arrays.get(key)
                if arrays is None:
                    arrays = vector.SegmentArrays(reader)
                    with self.lock:
                        arrays = self._arrays.setdefault(key, arrays)
                ev = vector.SegmentEvaluator(searcher, leaf, arrays, deadline, self.postings, key)
            out.append(ev)
            base += ev.n
        return out

    def searcher(self):
        s = getattr(self.local, "searcher", None)
        if s is None:
            s = self.ix.searcher()
            self.local.searcher = s
            self.local.columns = {}
        return s

    def column(self, name: str, translate: bool = True):
        """This thread's reader of a column (opening one costs an offsets read).

        ``translate=False``: the stored values as they are (a date as its
        integer, a missing date as the column's default) instead of objects."""
        cols = self.local.columns
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
                labels: dict[str, dict[str, tuple[str, int]]] = {}
                r = searcher.reader()
                for col in ("tags", "categories"):
                    counts: dict[str, dict[str, int]] = {}
                    cr = self.column(col)
                    fold_label = self.analyzer.fold_label
                    for docnum in r.all_doc_ids():
                        for v in cr[docnum] or ():
                            c = counts.setdefault(fold_label(v), {})
                            c[v] = c.get(v, 0) + 1
                    # the most used spelling (ties: the same whatever the document order)
                    labels[col] = {k: (min(v, key=lambda s: (-v[s], s)), sum(v.values()))
                                   for k, v in counts.items()}
                self._labels = labels
            return self._labels

    def lexicon(self, searcher) -> "Lexicon":
        """Document frequencies for query building, read through ``searcher``
        (the calling thread's) and remembered for the generation."""
        return Lexicon(searcher.reader(), self._df)

    def repeated(self, searcher) -> dict[int, int]:
        """Sentences the articles repeat (``search.boilerplate``), counted once
        per generation; the previous generation's while a new one counts."""
        return self._derived("_repeated", lambda reader: boilerplate.document_counts(reader, self.analyzer.fold),
                             searcher)

    def pinyin(self, searcher) -> PinyinIndex:
        return self._derived("_pinyin", PinyinIndex, searcher)

    def vocabulary(self, searcher) -> Vocabulary:
        return self._derived("_vocab", Vocabulary, searcher)

    def _derived(self, attr: str, build, searcher):
        """This generation's ``build(reader)``, built once; until then the
        previous generation's, if there was one (a suggestion one update
        behind is still a good suggestion)."""
        value = getattr(self, attr)
        if value is not None:
            return value
        stale = self.previous.get(attr)
        if stale is None:
            # the first generation a process opens: built here, once, under a
            # lock of its own (a search that only needs facet labels, which
            # share ``lock``, must not wait for a pinyin table)
            with self._derive_lock:
                value = getattr(self, attr)
                if value is None:
                    value = build(searcher.reader())
                    setattr(self, attr, value)
                return value
        with self.lock:
            value = getattr(self, attr)
            if value is not None:
                return value
            if attr not in self._building:
                self._building.add(attr)
                threading.Thread(target=self._build_later, args=(attr, build), daemon=True,
                                 name=f"zhsearch-{attr.strip('_')}").start()
            return stale

    def _build_later(self, attr: str, build) -> None:
        try:
            reader = self.ix.reader()  # its own: Whoosh readers are not shared between threads
            try:
                value = build(reader)
            finally:
                reader.close()
            with self.lock:
                setattr(self, attr, value)
                self.previous.pop(attr, None)
        except Exception:  # the stale one keeps answering; the next generation tries again
            log.exception("cannot build %s of generation %s", attr, self.name)
        finally:
            with self.lock:
                self._building.discard(attr)


class Lexicon:
    """Document frequencies of words in the body field (``search.query.Lexicon``),
    looked up through one thread's reader and kept in the generation's ``cache``
    (the words people search for repeat)."""

    MAX_WORDS = 50_000

    def __init__(self, reader, cache: LRU[str, int]) -> None:
        self._reader = reader
        self._cache = cache

    def df(self, word: str) -> int:
        return self._cache.get_or_make(word, lambda: self._df(word))

    def _df(self, word: str) -> int:
        try:
            return self._reader.doc_frequency("body", word)
        except (KeyError, ValueError):
            return 0


class Engine:
    """Searches the live generation of an index directory."""

    def __init__(self, index_dir: Path | str, synonyms: Path | str | None = None, *,
                 cache_size: int = RESULT_CACHE_SIZE, postings_cache_mb: int = POSTINGS_CACHE_MB,
                 curation: bool = True) -> None:
        """``synonyms``: the synonyms file; by default ``synonyms.txt`` in the
        corpus folder the index was built from.  ``cache_size``: result pages
        kept per generation (0: none).  ``postings_cache_mb``: decoded posting
        lists kept per generation (0: none; see ``vector.PostingsCache``).
        ``curation``: apply the corpus's ``curation.yml`` (pins, hides and
        synonym groups; ``zhsearch eval`` turns it off, see ``search.curation``)."""
        self.index_dir = Path(index_dir)
        self.cache_size = cache_size
        self.postings_cache_mb = postings_cache_mb
        self._gen: _Generation | None = None
        self._lock = threading.Lock()
        self._synonyms_path = Path(synonyms) if synonyms else None
        self._synonyms: SynonymFile | None = None
        self.use_curation = curation
        self._curation: CurationFile | None = None
        self._merged: tuple[Synonyms, Synonyms, Synonyms] | None = None

    def synonyms(self, gen: _Generation | None = None) -> Synonyms:
        """The synonyms in force, segmented by the live generation's analyzer:
        the synonyms file's and the curation file's groups (one object while
        neither changes: it keys cached pages).  ``gen``: the live generation,
        when the caller has it (finding it reads the ``CURRENT`` pointer)."""
        gen = gen or self.generation()
        if self._synonyms is None:
            path = self._synonyms_path
            if path is None:
                corpus = gen.meta.get("corpus")
                path = Path(corpus) / "synonyms.txt" if corpus else None
            self._synonyms = SynonymFile(path, glossary.builtin_text())
        own = self._synonyms.get(gen.analyzer)
        extra = self.curation(gen).synonyms
        merged = self._merged
        if merged is None or merged[0] is not own or merged[1] is not extra:
            merged = self._merged = (own, extra, own.merged(extra))
        return merged[2]

    def curation(self, gen: _Generation | None = None) -> Curation:
        """The corpus's curation file (``search.curation``), an empty one when
        the engine was made with ``curation=False``."""
        if not self.use_curation:
            return NO_CURATION
        gen = gen or self.generation()
        if self._curation is None:
            corpus = gen.meta.get("corpus")
            self._curation = CurationFile(Path(corpus) if corpus else None)
        return self._curation.get(gen.analyzer)

    @property
    def analyzer(self) -> Analyzer:
        """The live generation's analyzer (its user dictionary and segmenter)."""
        return self.generation().analyzer

    def generation(self) -> _Generation:
        """The live generation, reopened when ``CURRENT`` has moved on."""
        cur = store.read_current(self.index_dir)
        if cur is None:
            raise store.IndexMissing(f"no index in {self.index_dir}; run `zhsearch index` first")
        gen = self._gen
        if gen is not None and gen.name == cur.name:
            return gen
        with self._lock:
            if self._gen is None or self._gen.name != cur.name:
                ix, cur = store.open_current(self.index_dir)
                analyzer = store.generation_analyzer(self.index_dir, cur)
                if self._gen is not None and self._gen.analyzer.identity == analyzer.identity:
                    analyzer = self._gen.analyzer  # the same analysis: keep the loaded one
                log.info("opened index generation %s (%s documents)", cur.name, cur.meta.get("documents"))
                old = self._gen
                previous = {}
                if old is not None:
                    for attr in ("_vocab", "_pinyin", "_repeated"):
                        value = getattr(old, attr) or old.previous.get(attr)
                        if value is not None:
                            previous[attr] = value
                self._gen = _Generation(cur.name, ix, cur.meta, analyzer, results=LRU(self.cache_size),
                                        postings=vector.postings_cache(self.postings_cache_mb << 20),
                                        previous=previous)
            return self._gen

    def prepare_rescue(self) -> None:
        """Build what "did you mean" and pinyin rescue need for the live
        generation now, so the first query that finds nothing does not wait
        for it (later generations start from these; see :meth:`generation`)."""
        gen = self.generation()
        searcher = gen.searcher()
        gen.vocabulary(searcher)
        gen.pinyin(searcher)

    def anchor_style(self) -> AnchorStyle:
        """The heading-id style the live generation was built with (its
        anchors are in every hit), so an article page's ids match the links."""
        try:
            return AnchorStyle.parse((self.generation().meta.get("identity") or {}).get("anchors"))
        except ValueError:
            return DEFAULT_STYLE

    def generation_name(self) -> str:
        """The live generation's name (changes with every published update)."""
        return self.generation().name

    def corpus_root(self) -> Path | None:
        """The corpus folder the live generation was built from, if known."""
        corpus = self.generation().meta.get("corpus")
        return Path(corpus) if corpus else None

    def listing(self) -> Listing:
        """Titles of every live article and the facet labels, from one generation."""
        gen = self.generation()
        searcher = gen.searcher()
        display, paths = gen.column("display"), gen.column("path")
        titles = []
        for docnum in searcher.reader().all_doc_ids():
            path = paths[docnum]
            title, url = display[docnum] or (path, "")
            titles.append(TitleRecord(path, title, url or ""))
        return Listing(gen.name, gen.analyzer, titles, gen.labels(searcher))

    def stats(self) -> dict:
        gen = self.generation()
        return {"documents": gen.meta.get("documents", 0), "updated": gen.meta.get("updated"),
                "generation": gen.name}

    def stored(self, path: str) -> dict | None:
        """Stored fields of one indexed article, or None if not indexed."""
        gen = self.generation()
        return gen.searcher().document(path=path)


def search(index: Engine | Path | str, query: str, *, page: int = 1, per_page: int = 10,
           filters: Filters | None = None, sort: str = "relevance",
           ranking: qbuild.Ranking = qbuild.DEFAULT_RANKING) -> ResultPage:
    """Run ``query`` and return one page of ranked, highlighted results."""
    t0 = time.perf_counter()
    engine = index if isinstance(index, Engine) else Engine(index)
    page = min(max(1, int(page)), MAX_PAGE)
    per_page = min(max(1, int(per_page)), MAX_PER_PAGE)
    gen = engine.generation()
    synonyms = engine.synonyms(gen)
    curation = engine.curation(gen)
    key = None
    if ranking is qbuild.DEFAULT_RANKING and gen.results.limit > 0:
        key = (query, page, per_page, sort, id(synonyms), id(curation), filters or Filters())
        cached = gen.results.get(key)
        if cached is not None:
            page_copy = copy.deepcopy(cached[1])  # callers may change what they get
            page_copy.took_ms = _ms(t0)
            return page_copy
    result = _search(gen, synonyms, query, page, per_page, filters, sort, ranking, t0, curation)
    if key is not None and TIMED_OUT_NOTE not in (result.note or ""):
        # (synonyms, curation): the objects whose ids are in the key stay alive, so the ids stay unique
        gen.results.put(key, ((synonyms, curation), copy.deepcopy(result)))
    return result


def _search(gen: _Generation, synonyms: Synonyms, query: str, page: int, per_page: int,
            filters: Filters | None, sort: str, ranking: qbuild.Ranking, t0: float,
            curation: Curation | None = None) -> ResultPage:
    pq = syntax.parse(query or "")
    if filters:
        _apply_filters(pq, filters)
    searcher = gen.searcher()
    built = qbuild.build(pq, gen.analyzer, ranking, synonyms, gen.lexicon(searcher))
    result = ResultPage(query=pq.cleaned, total=0, page=page, per_page=per_page, took_ms=0.0)
    notes = list(pq.notes)

    q = built.query
    if q is None:
        if built.filter is None:
            result.took_ms = _ms(t0)
            result.note = " ".join(notes) or None
            return result
        q = Q.Every()
        if sort == "relevance":
            sort = "date"  # nothing to rank by: newest first

    deadline = time.perf_counter() + TIME_LIMIT_S
    evs = gen.evaluators(searcher, deadline)
    # the owner's pins and hides for this query (search.curation)
    curated = curation.applied(query, gen.analyzer, gen.name, searcher) if curation else NOTHING
    sizes = [ev.n for ev in evs]
    restrict = curated.restrict(sizes, _restriction(evs, built))
    main = _evaluate(evs, q, restrict)
    strict_total = total = int(main.mask.sum())
    facet_mask = main.mask
    pool = main  # the candidates and their scores
    if total < ranking.backfill_below and built.relaxed is not None and time.perf_counter() >= deadline:
        for ev in evs:
            ev.cut = True  # no time left for the "most words" pass
    elif total < ranking.backfill_below and built.relaxed is not None:
        # "Most words": too few articles have every word, so those with most
        # of them join in: after the all-words ones for two words, ranked
        # with them for three or more (Ranking.pool_min_units), so a long
        # question still finds the article that words it differently.
        relaxed = _evaluate(evs, built.relaxed, restrict)
        more = int(relaxed.mask.sum())
        if more > total:
            typed = [c.text for g in pq.groups for c in g]
            if len(typed) == 1 and not built.question:
                # one word as typed, which jieba cut: "all the keywords" would
                # puzzle whoever typed it, and the first results have it whole
                # (a question typed without spaces is several words)
                if total == 0:
                    notes.append(f"没有文章包含完整的“{typed[0]}”，以下结果只包含其中的部分词语。")
            elif total == 0:
                notes.append("没有同时包含所有关键词的文章，以下结果只包含部分关键词。")
            elif (len(built.units) < ranking.pool_min_units and not built.question) or sort == "date":
                notes.append(f"只有 {total} 篇文章包含所有关键词，其后的结果只包含部分关键词。")
            else:
                notes.append(f"只有 {total} 篇文章包含所有关键词，其余结果只包含部分关键词，按相关度排列。")
            pool = _Scores(relaxed.mask, np.where(main.mask, main.score, relaxed.score))
            total = more
            facet_mask = relaxed.mask

    limit = page * per_page
    if sort == "date":
        ranked = _by_date(gen, main.mask)
        if pool is not main:  # all the words first, then most of them
            seen = set(ranked)
            ranked += [d for d in _by_date(gen, pool.mask) if d not in seen]
        scores = pool.score
    else:
        weights = unit_weights(built.unit_dfs, searcher.doc_count())
        cover, typed_cover = _coverage(evs, built, restrict, weights)
        scores = pool.score
        partial = None
        if pool is not main and len(built.units) < ranking.pool_min_units and not built.question:
            partial = ~main.mask  # two words: an article with both comes before one with either
        elif pool is not main and cover is not None and ranking.coverage_power:
            scores = scores * cover ** ranking.coverage_power
        tiers = _tiers(evs, built, restrict, cover, typed_cover, partial)
        depth = max(limit + len(curated.pins), ranking.rerank_depth)
        ranked = _by_score(_Scores(pool.mask, scores), tiers, depth)
        if ranking.rerank_depth and ranked:
            repeated = gen.repeated(searcher) if ranking.repeated_docs else None
            ranked, scores = rerank.rerank(lambda d: gen.stored.text(searcher, d, repeated), ranked, scores, tiers,
                                           built.prepared, unit_weights(built.term_dfs, searcher.doc_count()),
                                           ranking, ranking.rerank_depth)
        ranked, total, facet_mask = curated.pin(ranked, total, facet_mask, sizes, restrict)
    if any(ev.cut for ev in evs) and TIMED_OUT_NOTE not in notes:
        notes.append(TIMED_OUT_NOTE)

    result.total = total
    terms = built.prepared
    for docnum in ranked[(page - 1) * per_page:limit]:
        result.hits.append(_make_hit(searcher, docnum, float(scores[docnum]), terms, gen,
                                     gen.stored.get(searcher, docnum)))
    result.facets = _facets(gen, searcher, evs, facet_mask)

    if built.latin_words and strict_total < 3:
        result.suggestion = _suggest(pq.cleaned, built.latin_words, gen, searcher, strict_total)
    result.note = " ".join(notes) or None
    result.took_ms = _ms(t0)
    return result


def highlight_terms(index: Engine | Path | str, query: str) -> list[list[str]]:
    """The folded words a query marks, per query unit, best form first —
    exactly what snippets mark, so an article page can mark the same."""
    engine = index if isinstance(index, Engine) else Engine(index)
    gen = engine.generation()
    return qbuild.build(syntax.parse(query or ""), gen.analyzer, qbuild.DEFAULT_RANKING, engine.synonyms(),
                        gen.lexicon(gen.searcher())).highlight_terms


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


def _apply_filters(pq: syntax.ParsedQuery, filters: Filters) -> None:
    pq.tags.extend(filters.tags)
    pq.categories.extend(filters.categories)
    if filters.date:
        rng = syntax.parse_date_range(filters.date)
        if rng:
            pq.date_range = rng


@dataclass
class _Scores:
    """Over the whole index (global document numbers)."""

    mask: np.ndarray
    score: np.ndarray


def _evaluate(evs: list[vector.SegmentEvaluator], q, restrict: list[np.ndarray | None],
              need_score: bool = True) -> _Scores:
    masks, scores = [], []
    for ev, keep in zip(evs, restrict):
        node = ev.evaluate(q, need_score)
        mask = node.mask if keep is None else node.mask & keep
        masks.append(mask)
        scores.append(node.score * mask if need_score else np.zeros(ev.n))
    if len(masks) == 1:
        return _Scores(masks[0], scores[0])
    if not masks:  # no segments: an index of no articles
        return _Scores(np.zeros(0, dtype=bool), np.zeros(0))
    return _Scores(np.concatenate(masks), np.concatenate(scores))


def _restriction(evs: list[vector.SegmentEvaluator], built) -> list[np.ndarray | None]:
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


def _coverage(evs: list[vector.SegmentEvaluator], built, restrict: list[np.ndarray | None],
              weights: list[float]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Per document: the IDF-weighted share of the required clauses it
    matches, and the share it matches with the words as typed (None when
    there is one clause, or nothing but the typed words)."""
    if len(built.units) < 2 and built.typed_units is None:
        return None, None
    total = sum(weights) or 1.0
    cover = typed = None
    for i, w in enumerate(weights):
        m = _evaluate(evs, built.units[i], restrict, need_score=False).mask
        cover = m * (w / total) if cover is None else cover + m * (w / total)
        if built.typed_units is not None:
            t = _evaluate(evs, built.typed_units[i], restrict, need_score=False).mask
            typed = t * (w / total) if typed is None else typed + t * (w / total)
    return cover, typed


def _tiers(evs: list[vector.SegmentEvaluator], built, restrict: list[np.ndarray | None],
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
            return _evaluate(evs, Q.And(qs) if len(qs) > 1 else qs[0], restrict, need_score=False).mask
        exact, near = all_of("exact"), all_of("near")
        tier = np.where(exact, 0, np.where(near, 1, 2))
    if partial is not None:
        tier = partial.astype(np.int64) if tier is None else tier * 2 + partial
    untyped = None
    if typed_cover is not None and cover is not None:
        untyped = (typed_cover < cover - 1e-9).astype(np.int64)
    elif built.typed is not None:
        untyped = (~_evaluate(evs, built.typed, restrict, need_score=False).mask).astype(np.int64)
    if untyped is not None:
        tier = untyped if tier is None else tier * 2 + untyped
    return tier


def _by_score(s: _Scores, tiers: np.ndarray | None, limit: int) -> list[int]:
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


def _by_date(gen: _Generation, mask: np.ndarray) -> list[int]:
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


NO_CURATION = Curation()

#: The date column's value for an article without a date (Whoosh's default
#: for a missing unsigned 64-bit value).
_NO_DATE = typecode_max["Q"]


def _make_hit(searcher, docnum: int, score: float, terms: Prepared, gen: _Generation,
              stored: dict | None = None) -> Hit:
    """``stored``: the article's stored fields when the caller has read them already."""
    stored = stored if stored is not None else searcher.stored_fields(docnum)
    title = bounds.title(stored.get("title_text") or stored.get("path", ""))
    sections = stored.get("sections") or []
    snippets = make_snippets(sections, terms, gen.analyzer.fold, fallback=stored.get("description_text") or "",
                             limit=SECTIONS_PER_HIT, doc=gen.stored.joined(searcher, docnum))
    snippet = snippets[0]
    tags = gen.column("tags")[docnum] or []
    cats = gen.column("categories")[docnum] or []
    date = stored.get("date")
    return bounds.hit(Hit(
        path=stored["path"], title=title, url=stored.get("url") or "",
        date=date.isoformat() if date else None, tags=list(tags), categories=list(cats),
        score=round(score, 4),
        title_html=highlight(title, terms, gen.analyzer.fold), snippet_html=snippet.html,
        section=snippet.section, anchor=snippet.anchor,
        sections=[SectionHit(s.section, s.heading_html, s.anchor, s.html) for s in snippets if s.units],
    ))


def _facets(gen: _Generation, searcher, evs: list[vector.SegmentEvaluator], mask: np.ndarray) -> Facets:
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


def _suggest(cleaned: str, words: list[str], gen: _Generation, searcher, matched: int) -> str | None:
    """Pinyin rescue first (``canshu`` → 参数) when little matched, then —
    only when nothing matched — Latin typo correction."""
    vocab = gen.vocabulary(searcher)
    plain = " ".join(words)
    if looks_like_pinyin(plain) and not any(vocab.df.get(w, 0) >= 3 for w in words):
        chinese = gen.pinyin(searcher).suggest(plain)
        if chinese:
            return chinese
    if matched:
        return None
    suggestion = cleaned
    changed = False
    for w in words:
        fix = vocab.correct(w)
        if fix and fix != w:
            suggestion = re.sub(re.escape(w), fix, suggestion, count=1, flags=re.I)
            changed = True
    return suggestion if changed else None
