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
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import query as Q
from whoosh import sorting
from whoosh.collectors import WrappingCollector
from whoosh.searching import TimeLimit

from indexer import analysis, store
from indexer.analysis import fold_label

from . import query as qbuild
from . import syntax
from .facets import CachedOverlapFacet, SegmentTermLists
from .models import FacetValue, Facets, Hit, ResultPage
from .snippets import highlight_title, make_snippet
from .pinyin import PinyinIndex, looks_like_pinyin
from .spelling import Vocabulary
from .synonyms import SynonymFile, Synonyms

log = logging.getLogger(__name__)

MAX_PER_PAGE = 100
MAX_PAGE = 1000
FACET_LIMIT = 30
#: A query is cut off after this long and partial results are shown.
TIME_LIMIT_S = 5.0
TIMED_OUT_NOTE = "查询耗时过长，只显示了部分结果。"
#: Result pages an engine keeps per generation (see :class:`ResultCache`).
RESULT_CACHE_SIZE = 1024


class ResultCache:
    """Recently served result pages of one generation, least recently used
    dropped first.

    Searches on a site repeat: the same popular queries, the same page
    reloaded, the next page of the same query.  A page depends only on the
    generation, the request and the synonyms in force, so it is kept on the
    generation (a new generation starts empty) and keyed by the synonyms
    object (a reloaded synonyms file makes new keys).  Pages cut short by
    the time limit are not kept.  Benchmarks of the engine itself turn it
    off (``Engine(cache_size=0)``).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[tuple, tuple[object, ResultPage]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> ResultPage | None:
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            self._pages.move_to_end(key)
        return copy.deepcopy(entry[1])  # callers may change what they get

    def put(self, key: tuple, keep_alive: object, page: ResultPage) -> None:
        if self.size <= 0:
            return
        page = copy.deepcopy(page)
        with self._lock:
            self._pages[key] = (keep_alive, page)  # keep_alive: ids in the key stay unique
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)


@dataclass
class _Generation:
    name: str
    ix: object
    meta: dict
    local: threading.local = field(default_factory=threading.local)
    _labels: dict | None = None
    _vocab: Vocabulary | None = None
    _pinyin: PinyinIndex | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    results: ResultCache = field(default_factory=lambda: ResultCache(RESULT_CACHE_SIZE))
    term_lists: SegmentTermLists = field(default_factory=SegmentTermLists)

    def searcher(self):
        s = getattr(self.local, "searcher", None)
        if s is None:
            s = self.ix.searcher()
            self.local.searcher = s
            self.local.columns = {}
        return s

    def column(self, name: str):
        """This thread's reader of a column (opening one costs an offsets read)."""
        cols = self.local.columns
        cr = cols.get(name)
        if cr is None:
            cr = cols[name] = self.searcher().reader().column_reader(name)
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
                    for docnum in r.all_doc_ids():
                        for v in cr[docnum] or ():
                            c = counts.setdefault(fold_label(v), {})
                            c[v] = c.get(v, 0) + 1
                    labels[col] = {k: (max(v, key=v.get), sum(v.values())) for k, v in counts.items()}
                self._labels = labels
            return self._labels

    def pinyin(self, searcher) -> PinyinIndex:
        with self.lock:
            if self._pinyin is None:
                self._pinyin = PinyinIndex(searcher.reader())
            return self._pinyin

    def vocabulary(self, searcher) -> Vocabulary:
        with self.lock:
            if self._vocab is None:
                self._vocab = Vocabulary(searcher.reader())
            return self._vocab


class Engine:
    """Searches the live generation of an index directory."""

    def __init__(self, index_dir: Path | str, synonyms: Path | str | None = None, *,
                 cache_size: int = RESULT_CACHE_SIZE) -> None:
        """``synonyms``: the synonyms file; by default ``synonyms.txt`` in the
        corpus folder the index was built from.  ``cache_size``: result pages
        kept per generation (0: none)."""
        self.index_dir = Path(index_dir)
        self.cache_size = cache_size
        self._gen: _Generation | None = None
        self._lock = threading.Lock()
        self._synonyms_path = Path(synonyms) if synonyms else None
        self._synonyms: SynonymFile | None = None

    def synonyms(self) -> Synonyms:
        if self._synonyms is None:
            path = self._synonyms_path
            if path is None:
                corpus = self.generation().meta.get("corpus")
                path = Path(corpus) / "synonyms.txt" if corpus else None
            self._synonyms = SynonymFile(path)
        return self._synonyms.get()

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
                ud = cur.path / store.USERDICT
                analysis.configure(cache_dir=store.jieba_cache_dir(self.index_dir),
                                   userdict=ud if ud.is_file() else None)
                log.info("opened index generation %s (%s documents)", cur.name, cur.meta.get("documents"))
                self._gen = _Generation(cur.name, ix, cur.meta, results=ResultCache(self.cache_size))
            return self._gen

    def stats(self) -> dict:
        gen = self.generation()
        return {"documents": gen.meta.get("documents", 0), "updated": gen.meta.get("updated"),
                "generation": gen.name}

    def stored(self, path: str) -> dict | None:
        """Stored fields of one indexed article, or None if not indexed."""
        gen = self.generation()
        return gen.searcher().document(path=path)


def search(index: Engine | Path | str, query: str, *, page: int = 1, per_page: int = 10,
           filters: dict | None = None, sort: str = "relevance",
           ranking: qbuild.Ranking = qbuild.DEFAULT_RANKING) -> ResultPage:
    """Run ``query`` and return one page of ranked, highlighted results."""
    t0 = time.perf_counter()
    engine = index if isinstance(index, Engine) else Engine(index)
    page = min(max(1, int(page)), MAX_PAGE)
    per_page = min(max(1, int(per_page)), MAX_PER_PAGE)
    gen = engine.generation()  # applies the index's jieba dictionary before analysis
    synonyms = engine.synonyms()
    key = None
    if ranking is qbuild.DEFAULT_RANKING and gen.results.size > 0:
        key = (query, page, per_page, sort, id(synonyms),
               tuple(sorted((str(k), tuple(v) if isinstance(v, (list, tuple)) else v)
                            for k, v in (filters or {}).items())))
        try:
            cached = gen.results.get(key)
        except TypeError:  # an unhashable filter value: not cacheable
            key = cached = None
        if cached is not None:
            cached.took_ms = _ms(t0)
            return cached
    result = _search(gen, synonyms, query, page, per_page, filters, sort, ranking, t0)
    if key is not None and TIMED_OUT_NOTE not in (result.note or ""):
        gen.results.put(key, synonyms, result)
    return result


def _search(gen: _Generation, synonyms: Synonyms, query: str, page: int, per_page: int,
            filters: dict | None, sort: str, ranking: qbuild.Ranking, t0: float) -> ResultPage:
    pq = syntax.parse(query or "")
    _apply_filters(pq, filters or {})
    built = qbuild.build(pq, ranking, synonyms)
    result = ResultPage(query=pq.cleaned, total=0, page=page, per_page=per_page, took_ms=0.0)
    notes = list(pq.notes)

    searcher = gen.searcher()

    q = built.query
    if q is None:
        if built.filter is None:
            result.took_ms = _ms(t0)
            result.note = " ".join(notes) or None
            return result
        q = Q.Every()
        if sort == "relevance":
            sort = "date"  # nothing to rank by: newest first

    limit = page * per_page
    deadline = time.perf_counter() + TIME_LIMIT_S
    ranked: list = []
    seen: set[int] = set()

    def add(hits) -> None:
        for h in hits:
            if h.docnum not in seen:
                seen.add(h.docnum)
                ranked.append(h)

    if built.has_alts and sort == "relevance":
        # Articles with the words as typed come before synonym-only ones: a
        # rare synonym's higher IDF must not push them down.
        typed = qbuild.build(pq, ranking, None, with_alts=False).query
        if typed is not None:
            add(_run(gen, searcher, Q.And([q, Q.ConstantScoreQuery(typed, 0.0)]), built, limit, sort, notes,
                     deadline))
    results = _run(gen, searcher, q, built, limit + len(seen), sort, notes, deadline)
    add(results)
    total = strict_total = len(results)
    facet_source = results
    if total < ranking.backfill_below and built.relaxed is not None and time.perf_counter() >= deadline:
        if TIMED_OUT_NOTE not in notes:  # no time left for the "most words" pass
            notes.append(TIMED_OUT_NOTE)
    elif total < ranking.backfill_below and built.relaxed is not None:
        # "Most words": articles with all the words first, then those with
        # most of them, so a long question still finds its article.
        relaxed = _run(gen, searcher, built.relaxed, built, limit + total, sort, notes, deadline)
        if len(relaxed) > total:
            add(relaxed)
            if total == 0:
                notes.append("没有同时包含所有关键词的文章，以下结果只包含部分关键词。")
            else:
                notes.append(f"只有 {total} 篇文章包含所有关键词，其后的结果只包含部分关键词。")
            total = len(relaxed)
            facet_source = relaxed

    result.total = total
    terms = built.highlight_terms
    for hit in ranked[(page - 1) * per_page:page * per_page]:
        result.hits.append(_make_hit(hit, terms, gen))
    result.facets = _facets(facet_source, gen, searcher)

    if built.latin_words and strict_total < 3:
        result.suggestion = _suggest(pq.cleaned, built.latin_words, gen, searcher, strict_total)
    result.note = " ".join(notes) or None
    result.took_ms = _ms(t0)
    return result


def highlight_terms(index: Engine | Path | str, query: str) -> list[list[str]]:
    """The folded words a query marks, per query unit, best form first —
    exactly what snippets mark, so an article page can mark the same."""
    engine = index if isinstance(index, Engine) else Engine(index)
    return qbuild.build(syntax.parse(query or ""), qbuild.DEFAULT_RANKING, engine.synonyms()).highlight_terms


def _ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1000, 2)


def _apply_filters(pq: syntax.ParsedQuery, filters: dict) -> None:
    for key, target in (("tag", pq.tags), ("tags", pq.tags), ("category", pq.categories),
                        ("categories", pq.categories)):
        v = filters.get(key)
        if not v:
            continue
        target.extend([v] if isinstance(v, str) else [x for x in v if x])
    d = filters.get("date")
    if d:
        rng = syntax.parse_date_range(str(d))
        if rng:
            pq.date_range = rng


class DeadlineCollector(WrappingCollector):
    """Stops collecting with :class:`TimeLimit` once ``time.perf_counter()``
    passes an absolute deadline, checked before every matched document.

    Whoosh's own ``TimeLimitCollector`` sets a flag from a timer thread,
    which only runs when the searching thread gives up the GIL: a search of
    a few milliseconds could outrun a limit it had already passed, so
    whether a query was cut depended on thread scheduling.  Reading the
    clock per document costs well under a microsecond and makes the cut
    exact; it also spares a thread start per search.  Like Whoosh's
    collector it cannot interrupt a matcher between two matches, and the
    documents collected so far stay available from :meth:`results`.
    """

    def __init__(self, child, deadline: float):
        super().__init__(child)
        self.deadline = deadline

    def collect_matches(self) -> None:
        child = self.child
        deadline = self.deadline
        clock = time.perf_counter
        for sub_docnum in child.matches():
            if clock() >= deadline:
                raise TimeLimit
            child.collect(sub_docnum)


def _run(gen: _Generation, searcher, q, built, limit: int, sort: str, notes: list[str], deadline: float):
    # Filters and exclusions go into the query itself: a wrapping collector
    # (ours, like Whoosh's TimeLimitCollector) bypasses a wrapped
    # FilterCollector's filtering.
    if built.filter is not None:
        q = Q.And([q, Q.ConstantScoreQuery(built.filter, 0.0)])
    if built.exclude is not None:
        q = Q.AndNot(q, built.exclude)
    # Facet grouping also switches off Whoosh's block-quality pruning, whose
    # top-k with our boosted fields measurably differs from exhaustive ranking.
    kwargs: dict = dict(limit=limit, groupedby={
        "tags": CachedOverlapFacet("tag", gen.term_lists),
        "categories": CachedOverlapFacet("category", gen.term_lists)})
    if sort == "date":
        kwargs["sortedby"] = sorting.MultiFacet([sorting.FieldFacet("date", reverse=True),
                                                 sorting.FieldFacet("path")])
    timed = DeadlineCollector(searcher.collector(**kwargs), deadline)
    try:
        searcher.search_with_collector(q, timed)
    except TimeLimit:
        if TIMED_OUT_NOTE not in notes:
            notes.append(TIMED_OUT_NOTE)
    return timed.results()


def _make_hit(hit, terms: list[list[str]], gen: _Generation) -> Hit:
    stored = hit.fields()
    title = stored.get("title_text") or stored.get("path", "")
    sections = stored.get("sections") or []
    snippet = make_snippet(sections, terms, fallback=stored.get("description_text") or "")
    tags = gen.column("tags")[hit.docnum] or []
    cats = gen.column("categories")[hit.docnum] or []
    date = stored.get("date")
    return Hit(
        path=stored["path"], title=title, url=stored.get("url") or "",
        date=date.isoformat() if date else None, tags=list(tags), categories=list(cats),
        score=round(hit.score, 4) if isinstance(hit.score, (int, float)) else 0.0,
        title_html=highlight_title(title, terms), snippet_html=snippet.html,
        section=snippet.section, anchor=snippet.anchor,
    )


def _facets(results, gen: _Generation, searcher) -> Facets:
    labels = gen.labels(searcher)
    out = Facets()
    for key in ("tags", "categories"):
        try:
            groups = results.groups(key)
        except (KeyError, ValueError):
            continue
        values = [FacetValue(labels[key].get(k, (k, 0))[0], n) for k, n in groups.items() if k and n]
        values.sort(key=lambda f: (-f.count, f.value))
        setattr(out, key, values[:FACET_LIMIT])
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
