"""Versioned tokens mean that version.

``GPT-4``, ``Qwen2``, ``TiDB 8.5`` and ``Spring AI 1.0`` ask for one version
of a product.  The index cannot tell that by itself: the analyzer emits a
compound whole *and* as its parts, so the text ``Qwen2.5`` also yields the
term ``qwen2`` and ``GPT-4.1`` yields the parts ``gpt`` ``4`` that the loose
form of ``GPT-4`` matched.  Here a mention is classified by what follows the
asked version inside the written token:

* **exact** — nothing, a separate size or flavour suffix (``Qwen2-7B``,
  ``Qwen2-7B-Instruct``, ``X-4-9B-Chat``, ``GPT-4-0613``), or, when the
  version has a minor number, a patch (``TiDB 8.5.1`` for ``8.5``);
* **sibling** — a modality suffix (``Qwen2-VL``, ``Qwen2-Audio``): another
  model of the same release, ranked below the exact version;
* **other** — a dot and digits (``GPT-4.1``, ``Qwen2.5``) or letters or
  digits glued to the number (``GPT-4o``, ``GPT-40``, ``X-4.1V``): another
  version, which only matches as the family name, ranked last.

The terms that start with the asked version are found in each segment's term
dictionary (a prefix walk, kept per segment for the generation), so nothing
is re-indexed.  A :class:`VersionQuery` is evaluated by :mod:`search.vector`
(it implements ``evaluate_vector``): per field, the exact, sibling and other
term frequencies of each document, corrected for the parts the analyzer
emitted (``tf(qwen2) - tf(qwen2.5) - ...``), scored with the same BM25F as
any term.  Through Whoosh's own matchers it degrades to an ``Or`` of the
exact terms.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

import numpy as np
from whoosh import query as Q

from indexer.analysis import QueryUnit

from .units import Unit
from .vector import Node


class Version(IntEnum):
    """How a document mentions an asked version; lower is better."""

    EXACT = 0
    SIBLING = 1
    OTHER = 2
    NONE = 3  # does not mention it (or only in a way not counted)


#: Suffix words that make another model of the same release (a sibling), not
#: a size or flavour of the same model.
MODALITIES = frozenset("""
vl vision visual audio omni video image speech voice tts asr ocr mm mllm
embedding embeddings embed reranker rerank coder code math
""".split())

#: At most this many index terms per form and field are read: a form that
#: prefixes more words than this is not a product version.
MAX_TERMS = 256

_ALNUM = re.compile(r"[a-z0-9]")
_DOTTED = re.compile(r"\d+(?:\.\d+)+")
_PLAIN = re.compile(r"[a-z0-9]+")
_LETTER_DIGIT = re.compile(r"[a-z]+|[0-9]+")


@dataclass(frozen=True)
class VersionSpec:
    """One asked version and the forms it may be written in."""

    text: str  # the unit as folded: "gpt-4", "qwen2", "8.5"
    forms: tuple[str, ...]  # index terms a mention starts with: "gpt-4", "gpt4"; "8.5", "v8.5"
    spaced: tuple[str, ...]  # "gpt", "4": written apart ("GPT 4"), matched as a phrase; or ()
    has_minor: bool  # "8.5": a patch (8.5.1) is the same version


def spec_of(unit: Unit | QueryUnit, after_latin: bool = False) -> VersionSpec | None:
    """The version a query unit asks for, or None if it is not versioned.

    A Latin token or compound with letters and digits (``gpt-4``, ``qwen2``,
    ``es6``, ``qwen2.5-vl``) is versioned; so is a dotted number that follows a
    Latin word in the query (``tidb 8.5``, ``spring ai 1.0``)."""
    text = unit.text
    if unit.kind not in ("latin", "compound") or not any(c.isdigit() for c in text):
        return None
    if any(not (c.isascii()) for c in text):
        return None  # 5000亿: a number with a Chinese unit
    if not any(c.isalpha() for c in text):
        if not (after_latin and _DOTTED.fullmatch(text)):
            return None
        return VersionSpec(text, (text, "v" + text), (), True)
    pieces = _LETTER_DIGIT.findall(text)
    forms = [text]
    if _PLAIN.fullmatch(text):
        if len(pieces) > 1 and pieces[-1].isdigit():  # qwen2 is also written qwen-2
            forms.append("-".join(["".join(pieces[:-1]), pieces[-1]]))
    else:
        joined = "".join(_PLAIN.findall(text))
        if joined != text:
            forms.append(joined)  # gpt-4 is also written gpt4
    spaced = tuple(_PLAIN.findall(text)) if len(_PLAIN.findall(text)) > 1 else ()
    if not spaced and len(pieces) > 1:
        spaced = tuple(pieces)  # qwen2 written "qwen 2"
    last = re.split(r"[^a-z0-9]+", text)[-1]
    has_minor = bool(re.search(r"\d\.\d+$", text)) and not last.isalpha()
    return VersionSpec(text, tuple(dict.fromkeys(forms)), spaced, has_minor)


def specs_of(units: Sequence[Unit | QueryUnit]) -> list[VersionSpec | None]:
    """:func:`spec_of` for each unit of a query, in the order typed."""
    out: list[VersionSpec | None] = []
    prev_latin = False
    for u in units:
        out.append(spec_of(u, prev_latin))
        prev_latin = u.kind in ("latin", "compound") and any(c.isalpha() for c in u.text)
    return out


def continuation_class(rest: str, has_minor: bool) -> Version:
    """What the characters written right after a version make of the mention."""
    if not rest:
        return Version.EXACT
    c = rest[0]
    if _ALNUM.match(c):
        return Version.OTHER  # glued: gpt-4o, gpt-40, qwen2vl
    if c == "." and rest[1:2].isdigit():
        return Version.EXACT if has_minor else Version.OTHER  # 8.5.1 of 8.5; gpt-4.1
    m = re.match(r"[^a-z0-9]+([a-z0-9]+)", rest)
    if m and m.group(1) in MODALITIES:
        return Version.SIBLING
    return Version.EXACT  # -7b, -instruct, -0613, .js (a file name)


@lru_cache(maxsize=65536)
def mentions(term: str, form: str, has_minor: bool) -> tuple[int, int, int, int]:
    """Mentions of ``form`` inside the index term ``term`` that starts with it:
    ``(exact, sibling, other, other_parts)`` where ``other_parts`` counts the
    non-exact mentions the analyzer also emitted as the part ``form`` (those
    inflate the plain term's frequency: ``qwen2.5`` emits ``qwen2``)."""
    counts = [0, 0, 0, 0]
    n = len(form)
    start = term.find(form)
    while start != -1:
        if start == 0 or not _ALNUM.match(term[start - 1]):
            rest = term[start + n:]
            cls = continuation_class(rest, has_minor)
            counts[cls] += 1
            if cls != Version.EXACT and not (rest and _ALNUM.match(rest[0])):
                counts[3] += 1
        start = term.find(form, start + 1)
    return counts[0], counts[1], counts[2], counts[3]


@dataclass
class _Mentions:
    """Per field of one segment: term frequencies of the three kinds (dense)
    and the term whose statistics stand for the version (its idf)."""

    exact: np.ndarray
    sibling: np.ndarray
    other: np.ndarray
    idf_term: str | None


class VersionQuery(Q.Query):
    """All the ways one versioned unit may match, classified (see module doc).

    ``want`` selects what the node matches: ``"any"`` (exact, sibling or other,
    scored in that order of weight), ``"exact"`` or ``"near"`` (exact or
    sibling; for the engine's version tiers, unscored)."""

    def __init__(self, spec: VersionSpec, fields: dict[str, float], *, exact_boost: float = 1.5,
                 sibling_weight: float = 0.6, other_weight: float = 0.25, loose_weight: float = 0.5,
                 want: str = "any", boost: float = 1.0) -> None:
        self.spec = spec
        self.fields = dict(fields)
        self.exact_boost = exact_boost
        self.sibling_weight = sibling_weight
        self.other_weight = other_weight
        self.loose_weight = loose_weight
        self.want = want
        self.boost = boost

    def _key(self) -> tuple:
        return (self.spec, tuple(sorted(self.fields.items())), self.exact_boost, self.sibling_weight,
                self.other_weight, self.loose_weight, self.want, self.boost)

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"VersionQuery({self.spec.text!r}, want={self.want!r}, boost={self.boost})"

    def __unicode__(self) -> str:
        return f"version:{self.spec.text}"

    __str__ = __unicode__

    def with_want(self, want: str) -> VersionQuery:
        q = self.copy()
        q.want = want
        return q

    # -- Whoosh's own matchers: an Or of the terms of exact mentions ---------

    def _whoosh_equivalent(self, reader) -> Q.Query:
        subs: list[Q.Query] = []
        for f, w in self.fields.items():
            for form in self.spec.forms:
                for term in _prefix_terms(reader, f, form):
                    e, _s, _o, _p = mentions(term, form, self.spec.has_minor)
                    if e:
                        subs.append(Q.Term(f, term, boost=w))
        return Q.Or(subs, boost=self.boost) if subs else Q.NullQuery

    def matcher(self, searcher, context=None):
        return self._whoosh_equivalent(searcher.reader()).matcher(searcher, context)

    def estimate_size(self, ixreader) -> int:
        return ixreader.doc_count_all()

    # -- the numpy evaluator (search.vector) -------------------------------

    def evaluate_vector(self, ev, need_score: bool):
        """(mask, score) of this node over one segment; ``ev`` is a
        :class:`search.vector.SegmentEvaluator`."""
        per_field = {f: field_mentions(ev, f, self.spec) for f in self.fields}
        n = ev.n
        exact = np.zeros(n, dtype=bool)
        near = np.zeros(n, dtype=bool)
        anyv = np.zeros(n, dtype=bool)
        for m in per_field.values():
            exact |= m.exact > 0
            near |= m.sibling > 0
            anyv |= m.other > 0
        near |= exact
        anyv |= near
        loose = self._spaced_mask(ev) & ~anyv if self.spec.spaced else None
        if loose is not None:
            exact |= loose
            near |= loose
            anyv |= loose
        mask = {"exact": exact, "near": near}.get(self.want, anyv)
        if not need_score:
            return Node(mask, None)
        score = np.zeros(n)
        if self.want == "any":
            for f, w in self.fields.items():
                m = per_field[f]
                if m.idf_term is None:
                    continue
                idf = ev.top.idf(f, m.idf_term)
                for tf, weight in ((m.exact, self.exact_boost), (m.sibling, self.sibling_weight),
                                   (m.other, self.other_weight)):
                    ids = np.flatnonzero(tf)
                    if len(ids) and weight:
                        score[ids] += w * weight * ev.bm25(f, ids, tf[ids], idf)
            if loose is not None and loose.any():
                score += self._spaced_score(ev) * loose * self.loose_weight
        else:
            score = mask.astype(np.float64)
        return Node(mask, score * mask)

    def _spaced_phrases(self) -> Q.Query:
        return Q.Or([Q.Phrase(f, list(self.spec.spaced), slop=1, boost=w)
                     for f, w in self.fields.items() if f != "code"])

    def _spaced_mask(self, ev) -> np.ndarray:
        return ev.evaluate(self._spaced_phrases(), need_score=False).mask

    def _spaced_score(self, ev) -> np.ndarray:
        return ev.evaluate(self._spaced_phrases(), need_score=True).score


def _prefix_terms(reader, fieldname: str, form: str) -> list[str]:
    if fieldname not in reader.schema:
        return []
    out: list[str] = []
    try:
        for t in reader.expand_prefix(fieldname, form):
            out.append(t.decode("utf-8") if isinstance(t, bytes) else t)
            if len(out) > MAX_TERMS:
                return []  # a prefix of a whole vocabulary, not a version
    except (KeyError, ValueError):  # pragma: no cover - field without a term dictionary
        return []
    return out


def field_mentions(ev, fieldname: str, spec: VersionSpec) -> _Mentions:
    """Exact / sibling / other term frequencies of ``spec`` in one field of
    the evaluator's segment, memoised for the request."""
    key = ("version", fieldname, spec)
    got = ev.memo.get(key)
    if got is not None:
        return got
    n = ev.n
    exact = np.zeros(n)
    sibling = np.zeros(n)
    other = np.zeros(n)
    for form in spec.forms:
        terms = ev.segment_memo(("prefix", fieldname, form), lambda f=form: _prefix_terms(ev.reader, fieldname, f))
        plain = bool(_PLAIN.fullmatch(form))
        for term in terms:
            p = ev.postings(fieldname, term)
            if p is None or not len(p.ids):
                continue
            tf = p.weights
            if term == form:
                exact[p.ids] += tf
                e = 1
            else:
                e, s, o, parts = mentions(term, form, spec.has_minor)
                if not plain:
                    parts = 0  # "gpt-4" is never emitted as a part of a longer token
                if e and not plain:
                    exact[p.ids] += e * tf
                if parts:
                    exact[p.ids] -= parts * tf  # qwen2.5 also emitted the part qwen2
                if s:
                    sibling[p.ids] += s * tf
                if o:
                    other[p.ids] += o * tf
    got = _Mentions(exact, sibling, other, _idf_term(ev, fieldname, spec))
    ev.memo[key] = got
    return got


def _idf_term(ev, fieldname: str, spec: VersionSpec) -> str | None:
    """The term whose IDF scores the mentions of ``spec`` in ``fieldname``:
    the exact form the most articles use, else any form that occurs.

    Chosen over the whole index, not the segment: an article's score must
    not depend on which segment a build happened to write it to (a choice
    per segment gave an article two scores in two builds of one corpus).
    So it is chosen once per generation, not once per segment and query."""
    return ev.generation_memo(("version-idf", fieldname, spec), lambda: _choose_idf_term(ev.top, fieldname, spec))


def _choose_idf_term(top, fieldname: str, spec: VersionSpec) -> str | None:
    reader = top.reader()
    best: tuple[int, str] | None = None
    fallback = None
    for form in spec.forms:
        for term in _prefix_terms(reader, fieldname, form):
            fallback = fallback or term
            if term == form or mentions(term, form, spec.has_minor)[0]:
                df = top.doc_frequency(fieldname, term)
                if best is None or df > best[0]:
                    best = (df, term)
    return best[1] if best else fallback

