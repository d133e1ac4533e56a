"""The engine a long-lived process keeps, and the entry points of a search.

An :class:`Engine` is what the web server, the command line and the
benchmarks keep: it notices when ``zhsearch index`` publishes a new
generation and switches to it (``search.generation``: each thread its own
Whoosh searcher, per-generation caches and tables), and it keeps the
synonyms and curation files in force.  :func:`search` is the one entry
point: it answers from the generation's result cache or runs the request
(``search.pipeline``: candidates → order → page).
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from pathlib import Path

from indexer import store
from indexer.analysis import ANALYSIS_VERSION, Analyzer
from indexer.anchors import DEFAULT_STYLE, AnchorStyle
from indexer.schema import versions

from . import glossary, pipeline, syntax, vector
from . import query as qbuild
from .curation import Curation, CurationFile
from .generation import Generation
from .lru import LRU, RESULT_CACHE_SIZE
from .models import Filters, Listing, ResultPage, TitleRecord
from .pipeline import SearchRequest
from .semantic import Semantic
from .synonyms import SynonymFile, Synonyms

log = logging.getLogger(__name__)

MAX_PER_PAGE = 100
MAX_PAGE = 1000
#: A query is cut off after this long and partial results are shown
#: (read at each search, so a test may change it).
TIME_LIMIT_S = 5.0
#: Decoded posting lists kept per generation and process (``vector.postings_cache``).
POSTINGS_CACHE_MB = 64
#: Unpickled stored fields kept per generation and process (``generation.StoredArticles``).
STORED_CACHE_MB = 32

#: The curation of an engine made with ``curation=False``: none.
NO_CURATION = Curation()


def _warn_if_outdated(name: str, meta: dict) -> None:
    """Say so when a generation was built by another version of the index
    format or of the analysis: ``serve`` and ``search`` read it as it is (only
    ``zhsearch index`` rebuilds), so what a newer version stores or reads
    differently (overview pages, say) is missing until then."""
    identity = meta.get("identity") or {}
    current = {**versions(), "analysis": ANALYSIS_VERSION}
    stale = {k: identity.get(k) for k, v in current.items() if identity.get(k) != v}
    if stale:
        log.warning("index generation %s was built with %s (this zhsearch: %s): run `zhsearch index` to rebuild it",
                    name, ", ".join(f"{k} version {v}" for k, v in stale.items()),
                    ", ".join(f"{k} version {current[k]}" for k in stale))


class Engine:
    """Searches the live generation of an index directory."""

    def __init__(self, index_dir: Path | str, synonyms: Path | str | None = None, *,
                 cache_size: int = RESULT_CACHE_SIZE, postings_cache_mb: int = POSTINGS_CACHE_MB,
                 curation: bool = True, semantic: bool = True) -> None:
        """``synonyms``: the synonyms file; by default ``synonyms.txt`` in the
        corpus folder the index was built from.  ``cache_size``: result pages
        kept per generation (0: none).  ``postings_cache_mb``: decoded posting
        lists kept per generation (0: none; see ``vector.postings_cache``).
        ``curation``: apply the corpus's ``curation.yml`` (pins, hides and
        synonym groups; ``zhsearch eval`` turns it off, see ``search.curation``).
        ``semantic``: re-order questions by passage vectors when the
        zhsearch[embeddings] extra is installed (``search.semantic``)."""
        self.index_dir = Path(index_dir)
        self.cache_size = cache_size
        self.postings_cache_mb = postings_cache_mb
        self._gen: Generation | None = None
        self._lock = threading.Lock()
        self._synonyms_path = Path(synonyms) if synonyms else None
        self._synonyms: SynonymFile | None = None
        self.use_curation = curation
        self._curation: CurationFile | None = None
        self._merged: tuple[Synonyms, Synonyms, Synonyms] | None = None
        #: passage vectors for questions, when the zhsearch[embeddings] extra is installed
        #: (``semantic``: False turns them off)
        self.semantic = Semantic.of(self.index_dir) if semantic else None

    def synonyms(self, gen: Generation | None = None, curation: Curation | None = None) -> Synonyms:
        """The synonyms in force, segmented by the live generation's analyzer:
        the synonyms file's and the curation file's groups (one object while
        neither changes: it keys cached pages).  ``gen``: the live generation,
        when the caller has it (finding it reads the ``CURRENT`` pointer);
        ``curation``: ``self.curation(gen)``, when the caller has it."""
        gen = gen or self.generation()
        if self._synonyms is None:
            path = self._synonyms_path
            if path is None:
                corpus = gen.meta.get("corpus")
                path = Path(corpus) / "synonyms.txt" if corpus else None
            self._synonyms = SynonymFile(path, glossary.builtin_text())
        own = self._synonyms.get(gen.analyzer)
        extra = (curation if curation is not None else self.curation(gen)).synonyms
        merged = self._merged
        if merged is None or merged[0] is not own or merged[1] is not extra:
            merged = self._merged = (own, extra, own.merged(extra))
        return merged[2]

    def curation(self, gen: Generation | None = None) -> Curation:
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

    def generation(self) -> Generation:
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
                _warn_if_outdated(cur.name, cur.meta)
                self._gen = Generation(cur.name, ix, cur.meta, analyzer, results=LRU(self.cache_size),
                                       postings=vector.postings_cache(self.postings_cache_mb << 20),
                                       stored_bytes=STORED_CACHE_MB << 20, previous=self._gen,
                                       semantic=self.semantic)
            return self._gen

    def prepare_rescue(self) -> None:
        """Build what "did you mean" and pinyin rescue need for the live
        generation now, so the first query that finds nothing does not wait
        for it (later generations start from these; see :meth:`generation`)."""
        gen = self.generation()
        searcher = gen.searcher()
        gen.vocabulary(searcher)
        gen.pinyin(searcher)

    def prepare_semantic(self) -> None:
        """Load the sentence encoder now (about a second), if questions will
        use it, so the first question does not wait for it."""
        if self.semantic is not None and self.semantic.vectors.exists():
            self.semantic.query_vector("预热")

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
    curation = engine.curation(gen)  # looked up once: it also gives synonyms (and a reload mid-search cannot split them)
    request = SearchRequest(query, page, per_page, sort, filters or Filters(), engine.synonyms(gen, curation),
                            curation, ranking)
    cached = ranking is qbuild.DEFAULT_RANKING and gen.results.limit > 0
    if cached and (kept := gen.results.get(request)) is not None:
        result = copy.deepcopy(kept)  # callers may change what they get
    else:
        result = pipeline.run(gen, request, TIME_LIMIT_S)
        if cached and not result.timed_out:
            gen.results.put(request, copy.deepcopy(result))
    result.took_ms = round((time.perf_counter() - t0) * 1000, 2)
    return result


def highlight_terms(index: Engine | Path | str, query: str) -> list[list[str]]:
    """The folded words a query marks, per query unit, best form first —
    exactly what snippets mark, so an article page can mark the same."""
    engine = index if isinstance(index, Engine) else Engine(index)
    gen = engine.generation()
    return qbuild.build(syntax.parse(query or ""), gen.analyzer, qbuild.DEFAULT_RANKING, engine.synonyms(gen),
                        gen.counts(gen.searcher())).highlight_terms
