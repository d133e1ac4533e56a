"""Evaluating a query over whole posting lists at once, with numpy.

Whoosh evaluates a query document by document through a tree of matcher
objects: every ``next``/``skip_to``/``score`` call walks the tree in
Python.  The queries :mod:`search.query` builds are wide (each unit a
person typed is a word in six fields, its looser forms and a bigram
phrase), so that walk was three quarters of a search's time (cProfile in
bench/README.md).  Here each node is evaluated for all documents of a
segment at once: a term is a dense array of BM25F scores computed from its
posting arrays, ``Or``/``And``/``AndMaybe``/``AndNot`` are array
operations, and only phrases look at positions — and only for documents
that contain every word of the phrase.

The scores are Whoosh's own, term for term: the same BM25F formula,
statistics (``searcher.idf``, ``avg_field_length``) and quantised field
lengths, boosts applied where Whoosh applies them (including that a
compound query of one subquery ignores its boost), phrase semantics of
``SpanNear2`` (each next word 1..slop positions after the previous one)
and phrase scores as the sum of their words' scores.  Ranking is by score,
then document number, like Whoosh's top-N collector; a test compares whole
result lists with Whoosh's collector on the same queries.

Query types this module does not know (date ranges, say) are evaluated by
their Whoosh matcher, so any query still works.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from whoosh import query as Q

from indexer import whoosh_compat
from indexer.once import BuiltOnce
from indexer.postings import Decoded

from .lru import LRU

#: Entries at most in a table derived per segment or generation and keyed by
#: what people type (a version's prefix walk, its IDF term): made-up queries
#: must not grow it for as long as the index lives.
QUERY_KEYED_LIMIT = 4096


class SegmentArrays:
    """What scoring needs of one segment that only changes with the segment:
    which documents are live and each scored field's length per document."""

    def __init__(self, reader) -> None:
        self.n = reader.doc_count_all()
        live = np.ones(self.n, dtype=bool)
        if reader.has_deletions():
            live[:] = False
            live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True  # the undeleted ones
        self.live = live
        self._lengths: BuiltOnce[str, np.ndarray] = BuiltOnce()
        self._facets: BuiltOnce[str, tuple[np.ndarray, np.ndarray, list[str]]] = BuiltOnce()
        self._memo: BuiltOnce[tuple, object] = BuiltOnce(QUERY_KEYED_LIMIT)  # keyed by what was typed

    def memo(self, key: tuple, load):
        """Anything derived from this segment alone (the terms a prefix walk
        finds, say): computed once per generation, shared by threads."""
        return self._memo.get(key, load)

    def lengths(self, reader, fieldname: str) -> np.ndarray:
        """Each document's length of the field as Whoosh scores with it (the
        stored byte, decoded: lengths are quantised).  ``reader`` is the
        calling thread's reader of this segment: readers are not shared
        between threads."""
        def build() -> np.ndarray:
            length = reader.doc_field_length  # None when the document has no such text
            return np.array([length(i, fieldname, 0) or 0 for i in range(self.n)], dtype=np.float64)

        return self._lengths.get(fieldname, build)

    def facet(self, reader, fieldname: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """For counting a tag or category facet over any set of documents:
        (document of each entry, value id of each entry, the values), read
        once per segment from the field's posting lists.

        Whoosh's overlapping ``FieldFacet`` walked every term and posting list
        of the field for every query (~4 ms per facet and segment, a fifth of
        a query's time once); a result set's counts are now one ``bincount``.
        ``reader``: the calling thread's reader of this segment."""
        def build() -> tuple[np.ndarray, np.ndarray, list[str]]:
            field = reader.schema[fieldname]
            docs: list[np.ndarray] = []
            vals: list[np.ndarray] = []
            values: list[str] = []
            for btext in field.sortable_terms(reader, fieldname):
                ids = np.fromiter(reader.postings(fieldname, btext).all_ids(), dtype=np.int64)
                docs.append(ids)
                vals.append(np.full(len(ids), len(values), dtype=np.int64))
                values.append(field.from_bytes(btext))
            if not values:
                return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), values
            return np.concatenate(docs), np.concatenate(vals), values

        return self._facets.get(fieldname, build)


@dataclass
class Postings:
    """One term's postings in one segment."""

    decoded: Decoded  # the list as read: IDs, weights, per-document values (positions)
    fmt: object  # the field's format, to decode the values

    @property
    def ids(self) -> np.ndarray:  # ascending document numbers
        return self.decoded.ids

    @property
    def weights(self) -> np.ndarray:  # term frequency per document (float64)
        return self.decoded.weights

    def positions(self, docnum: int) -> list[int]:
        value = self.decoded.value(int(np.searchsorted(self.decoded.ids, docnum)))
        return self.fmt.decode_positions(value) if value else []

    def keys_in(self, docs: np.ndarray) -> np.ndarray:
        """Where the term stands in the documents ``docs`` (a boolean mask
        over the segment), as sorted ``document << 32 | position`` keys."""
        sel = np.flatnonzero(docs[self.decoded.ids])
        data, offsets = self.decoded.value_arrays(sel)
        counts, positions = self.fmt.decode_many(data, offsets)
        return np.repeat(self.decoded.ids[sel] << 32, counts) | positions


def read_postings(reader, fieldname: str, btext: bytes) -> Postings | None:
    """All postings of a term, as arrays, straight from our codec's terms
    reader (no matcher; deletions are masked by the caller)."""
    terms = whoosh_compat.terms_reader(reader)  # Whoosh's EmptyReader (no segments) has none
    d = None if terms is None else terms.decoded(fieldname, btext)
    return None if d is None else Postings(d, reader.schema[fieldname].format)


def postings_cache(max_bytes: int) -> LRU[tuple, Postings | None]:
    """Decoded posting lists of one generation, least recently used dropped
    first once their estimated size passes ``max_bytes``.

    With Whoosh's posting blocks, reading a list (unpickling and inflating
    them in Python) was a third of a search's time; our own lists decode in
    C, and the cache now buys ~10 % at p50 and ~15 % at p99 (bench/README.md:
    7.2 / 22.1 ms with it, 7.9 / 26.1 ms without).  The words people search
    for repeat (a Zipf law), so their decoded lists are kept.  Entries never
    change once made; a new generation starts with a new cache.
    """
    return LRU(max_bytes, size=lambda p: 64 if p is None else 200 + p.decoded.nbytes)


@dataclass
class Node:
    """A query node evaluated over one segment: which documents match, and
    their scores.  A node of another module that evaluates itself
    (``evaluate_vector``, as ``search.versions.VersionQuery``) returns one."""

    mask: np.ndarray
    score: np.ndarray | None  # zero outside ``mask``; None when only the mask was asked for


class SegmentEvaluator:
    """Evaluates query trees against one segment (one leaf searcher)."""

    def __init__(self, top_searcher, leaf_searcher, arrays: SegmentArrays, deadline: float,
                 cache: LRU[tuple, Postings | None] | None = None, segment_key: object = None,
                 generation_memo: BuiltOnce[tuple, object] | None = None) -> None:
        self.top = top_searcher
        self.leaf = leaf_searcher
        self.reader = leaf_searcher.reader()
        self.arrays = arrays
        self.n = arrays.n
        self.deadline = deadline
        self.cut = False
        self._cache = cache
        self._segment_key = segment_key
        self._bm25f = whoosh_compat.bm25f_parameters(top_searcher.weighting)
        self._postings: dict[tuple[str, str], Postings | None] = {}
        self._term_scores: dict[tuple[str, str], Node] = {}
        self._phrases: dict[tuple, np.ndarray] = {}
        #: per-request scratch space of query nodes that evaluate themselves
        #: (``evaluate_vector``, e.g. ``search.versions.VersionQuery``)
        self.memo: dict[tuple, object] = {}
        self._generation_memo = generation_memo if generation_memo is not None else BuiltOnce(QUERY_KEYED_LIMIT)

    def segment_memo(self, key: tuple, load):
        """See :meth:`SegmentArrays.memo`."""
        return self.arrays.memo(key, load)

    def generation_memo(self, key: tuple, load):
        """A value that depends on the whole index (all its segments, read
        through ``self.top``), built once per index generation and shared by
        its evaluators; ``load()`` builds it.  Without a generation's table
        (an evaluator made on its own), once per evaluator."""
        return self._generation_memo.get(key, load)

    # -- leaves ----------------------------------------------------------

    def postings(self, fieldname: str, text: str) -> Postings | None:
        key = (fieldname, text)
        if key not in self._postings:
            schema = self.reader.schema
            p = None
            if fieldname in schema:
                try:
                    btext = schema[fieldname].to_bytes(text)
                except ValueError:
                    btext = None
                if btext is not None:
                    if self._cache is None:
                        p = read_postings(self.reader, fieldname, btext)
                    else:
                        p = self._cache.get_or_make((self._segment_key, fieldname, btext),
                                                    lambda: read_postings(self.reader, fieldname, btext))
            self._postings[key] = p
        return self._postings[key]

    def _empty(self, need_score: bool) -> Node:
        return Node(np.zeros(self.n, dtype=bool), np.zeros(self.n) if need_score else None)

    def term(self, fieldname: str, text: str, need_score: bool) -> Node:
        key = (fieldname, text)
        node = self._term_scores.get(key)
        if node is not None and (node.score is not None or not need_score):
            return node
        p = self.postings(fieldname, text)
        if p is None or not len(p.ids):
            return self._empty(need_score)
        mask = np.zeros(self.n, dtype=bool)
        mask[p.ids] = True
        score = None
        if need_score:
            score = np.zeros(self.n)
            if self.reader.schema[fieldname].scorable:
                score[p.ids] = self._bm25(fieldname, text, p)
            else:
                score[p.ids] = p.weights
        node = Node(mask, score)
        self._term_scores[key] = node
        return node

    def _bm25(self, fieldname: str, text: str, p: Postings) -> np.ndarray:
        return self.bm25(fieldname, p.ids, p.weights, self.top.idf(fieldname, text))

    def bm25(self, fieldname: str, ids: np.ndarray, tf: np.ndarray, idf: float) -> np.ndarray:
        """Whoosh's BM25F of term frequencies ``tf`` in documents ``ids``."""
        avgfl = self.top.avg_field_length(fieldname) or 1
        B = self._bm25f.b_for(fieldname)
        K1 = self._bm25f.k1
        fl = self.arrays.lengths(self.reader, fieldname)[ids]
        return idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))

    def phrase(self, q: Q.Phrase, need_score: bool) -> Node:
        words = list(q.words)
        fieldname = q.fieldname
        terms = [self.term(fieldname, w, need_score) for w in words]
        mask = self._phrase_mask(fieldname, words, q.slop, terms)
        score = None
        if need_score:
            score = np.zeros(self.n)
            for t in terms:
                score += t.score
            score *= mask
        return Node(mask, score)

    def _phrase_mask(self, fieldname: str, words: list[str], slop: int, terms: list[Node]) -> np.ndarray:
        key = (fieldname, tuple(words), slop)
        got = self._phrases.get(key)
        if got is not None:
            return got
        cand = terms[0].mask.copy()
        for t in terms[1:]:
            cand &= t.mask
        cand &= self.arrays.live
        mask = np.zeros(self.n, dtype=bool)
        if cand.any():
            if time.perf_counter() >= self.deadline:
                self.cut = True  # no time left: counts as not matching
            else:
                ends = _chain((self.postings(fieldname, w).keys_in(cand) for w in words), slop)
                mask[np.unique(ends >> 32)] = True
        self._phrases[key] = mask
        return mask

    def generic(self, q: Q.Query, need_score: bool) -> Node:
        """Any other query, through its Whoosh matcher."""
        node = self._empty(need_score)
        m = q.matcher(self.leaf, self.leaf.context())
        while m.is_active():
            d = m.id()
            node.mask[d] = True
            if need_score:
                try:
                    node.score[d] = m.score()
                except Exception:  # unscorable leaves (filters): they only select
                    node.score[d] = 0.0
            m.next()
        return node

    # -- the tree --------------------------------------------------------

    def evaluate(self, q: Q.Query | None, need_score: bool = True) -> Node:
        if q is None or whoosh_compat.is_null_query(q):
            return self._empty(need_score)
        node = self._eval(q, need_score)
        mask = node.mask & self.arrays.live
        score = node.score * mask if need_score else None
        return Node(mask, score)

    def _eval(self, q: Q.Query, need_score: bool) -> Node:
        if isinstance(q, Q.Term):
            node = self.term(q.fieldname, q.text, need_score)
            return self._boosted(node, q.boost, need_score)
        if isinstance(q, Q.Phrase):
            return self._boosted(self.phrase(q, need_score), q.boost, need_score)
        if isinstance(q, Q.DisjunctionMax) or _is_sum_compound(q):
            return self._compound(q, need_score)
        if isinstance(q, Q.AndMaybe):
            a = self._eval(q.a, need_score)
            if not need_score:
                return a
            if time.perf_counter() >= self.deadline:
                self.cut = True  # the optional part only adds score: skip it
                return a
            b = self._eval(q.b, True)
            score = a.score + b.score * a.mask
            return self._boosted(Node(a.mask, score), q.boost, need_score)
        if isinstance(q, Q.AndNot):
            a = self._eval(q.a, need_score)
            b = self._eval(q.b, False)
            mask = a.mask & ~b.mask
            score = a.score * mask if need_score else None
            return self._boosted(Node(mask, score), q.boost, need_score)
        if isinstance(q, Q.ConstantScoreQuery):
            child = self._eval(q.child, False)
            score = child.mask * float(q.score) if need_score else None
            return Node(child.mask, score)
        if isinstance(q, Q.Every):
            mask = self.arrays.live.copy()
            return Node(mask, mask.astype(np.float64) if need_score else None)
        own = getattr(q, "evaluate_vector", None)
        if own is not None:  # a node of ours that knows how to evaluate itself
            return self._boosted(own(self, need_score), q.boost, need_score)
        return self.generic(q, need_score)

    def _compound(self, q: Q.Query, need_score: bool) -> Node:
        """``And`` and ``Or`` (scores add up) and ``DisjunctionMax`` (the best
        sub-score: Whoosh's matcher ignores its tiebreak)."""
        subs = q.subqueries
        if not subs:
            return self._empty(need_score)
        if len(subs) == 1:  # Whoosh returns the child's matcher: the boost is lost
            return self._eval(subs[0], need_score)
        nodes = [self._eval(s, need_score) for s in subs]
        both = isinstance(q, Q.And)
        mask = nodes[0].mask.copy()
        for nd in nodes[1:]:
            if both:
                mask &= nd.mask
            else:
                mask |= nd.mask
        score = None
        if need_score and isinstance(q, Q.DisjunctionMax):
            score = nodes[0].score.copy()
            for nd in nodes[1:]:
                np.maximum(score, nd.score, out=score)
        elif need_score:
            score = _tree_sum([nd.score for nd in nodes])
            if both:
                score *= mask
        return self._boosted(Node(mask, score), q.boost, need_score)

    @staticmethod
    def _boosted(node: Node, boost: float, need_score: bool) -> Node:
        if need_score and boost != 1.0:
            return Node(node.mask, node.score * boost)
        return node


def _is_sum_compound(q: Q.Query) -> bool:
    """``And`` and plain ``Or`` (any matcher type): the score is the sum of
    the matching subqueries' scores."""
    if type(q) is Q.And:
        return True
    return (isinstance(q, Q.Or) and not isinstance(q, Q.DisjunctionMax)
            and getattr(q, "scale", None) is None and not getattr(q, "minmatch", 0))


def _tree_sum(arrays: list[np.ndarray]) -> np.ndarray:
    """Sum in the order of Whoosh's binary matcher tree (halves, recursively)."""
    if len(arrays) == 1:
        return arrays[0].copy()
    half = len(arrays) // 2
    return _tree_sum(arrays[:half]) + _tree_sum(arrays[half:])


def _chain(word_keys, slop: int) -> np.ndarray:
    """Where phrases end, as ``document << 32 | position`` keys: each word
    1..slop positions after the previous one (``SpanNear2``, ordered,
    ``mindist=1``), in every candidate document at once."""
    keys = iter(word_keys)
    ends = next(keys)
    steps = np.arange(1, slop + 1, dtype=np.int64)
    for nxt in keys:
        # the positions the next word may take, met with where it stands
        ends = np.intersect1d((ends[:, None] + steps).ravel(), nxt)
        if not len(ends):
            break
    return ends
