"""Passage evidence: rank by where the query words meet.

BM25 sees an article as a bag of words: a deployment tutorial that names
GPT-4 once in its introduction and says 参数 twenty times in its setup steps
outscores the article that says "GPT-4 … 拥有超过5000亿参数" in one sentence.
The engine therefore re-ranks its best candidates with what the stored
sections (``indexer.stored``: heading, anchor, folded text) say about them:

* **together** — the largest share of the informative query units (weighted
  by IDF) that one sentence, one paragraph and one section hold (a section's
  heading counts as part of it);
* **headings** — the share found in the title or in a heading, where a word
  inside a compound counts (蒸馏 in 知识蒸馏, 量化 in 模型量化);
* **spread** — the share of the article's text that lies in sections
  mentioning the units: an article *about* a word mentions it throughout,
  one that mentions it in passing has it in one section;
* **present** — the share of the units found at all (the coverage that
  ranks "most words" candidates of long questions).

Sentences a site copies into many articles (a setup step in every
tutorial) are left out of all of these (``search.boilerplate``).

No jieba at query time: the query's folded terms (the same the snippets
mark, version-aware, prepared once per query: ``BuiltQuery.prepared``) are
found by substring search in the folded section texts, and weighed by how
rare they are (``search.weights``).  The stored fields read here are kept
per generation (``generation.StoredArticles``), so the page's own snippets
read them once.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from indexer.stored import FoldFn

from .boilerplate import sentence_keys
from .chars import SENTENCE_ENDS
from .snippets import Joined, Prepared, find_folded

#: in running text a Latin full stop before a space ends a sentence too
_SENTENCE_END = re.compile(f"[{re.escape(SENTENCE_ENDS)}]|\\.(?=\\s)")
_PATH_SEP = re.compile(r"[/_\-.]+")


@dataclass
class Evidence:
    """What one article's text says about the query (each in [0, 1]).

    ``sentence``, ``paragraph`` and ``section`` say how many of the query's
    informative units meet in one passage of that size: 0 when no two do, 1
    when all do ((k - 1) / (n - 1) for k of n units; always 0 for a one-word
    query).  Counting units rather than weighing them keeps a rare word alone
    in a sentence (GPT-4 in an introduction) from passing for the meeting of
    all of them."""

    sentence: float = 0.0
    paragraph: float = 0.0
    section: float = 0.0
    heading: float = 0.0
    spread: float = 0.0
    present: float = 0.0
    path: float = 0.0


@dataclass(frozen=True)
class DocText:
    """An article's folded text as passage evidence reads it, independent of
    any query (so it is kept with the article's stored fields): its section
    texts joined by line breaks and where each starts, its title and section
    headings likewise, its text length and its path folded into words."""

    joined: str
    starts: tuple[int, ...]
    lengths: tuple[int, ...]
    heads: str  # the title, then the heading of each section
    head_starts: tuple[int, ...]
    path: str  # folded, separators made spaces, no suffix: "docs ai rag rag vector store"
    name: str  # the file name, lower case: "readme.md"
    #: sentences of ``joined`` other articles repeat: (start, end, articles)
    repeated: tuple[tuple[int, int, int], ...] = ()
    #: mostly a list of links (``indexer.article.Article.overview``)
    overview: bool = False

    @classmethod
    def of(cls, fields: dict, fold: FoldFn, counts: dict[int, int] | None = None) -> DocText:
        # the texts and headings as snippets read them (DocText is a snippets.Joined too)
        j = Joined.of(fields.get("sections") or (), fold, fields.get("title_text") or "")
        path = fields.get("path") or ""
        return cls(j.joined, j.starts, j.lengths, j.heads, j.head_starts,
                   fold(_PATH_SEP.sub(" ", path.rsplit(".", 1)[0]))[0] if path else "",
                   path.rsplit("/", 1)[-1].lower(),
                   _repeated(j.joined, counts), bool(fields.get("overview")))


def _repeated(text: str, counts: dict[int, int] | None) -> tuple[tuple[int, int, int], ...]:
    if not counts or not text:
        return ()
    return tuple((s, e, counts[k]) for s, e, k in sentence_keys(text) if k in counts)


def _drop_repeated(matches: list, spans: tuple[tuple[int, int, int], ...], min_docs: int) -> list:
    """``matches`` without those inside a sentence ``min_docs`` articles or more have."""
    spans = tuple((s, e) for s, e, n in spans if n >= min_docs)
    if not spans:
        return matches
    starts = [s for s, _e in spans]
    out = []
    for m in matches:
        i = bisect_right(starts, m.start) - 1
        if i < 0 or m.start >= spans[i][1]:
            out.append(m)
    return out


def evidence(doc: DocText, prepared: Prepared, weights: list[float], repeated_docs: int = 0) -> Evidence:
    """Passage evidence of one article: see the module docstring.

    The article's folded section texts are searched as one string (one pass
    per query term, in C), and its headings likewise; matches are then told
    apart by section, paragraph and sentence with bisection."""
    total = sum(weights)
    if total <= 0:
        return Evidence()
    span = max(1, len(weights) - 1)
    head_units: dict[int, set[int]] = {}  # 0: the title, i + 1: heading of section i
    for m in find_folded(doc.heads, None, prepared):
        head_units.setdefault(bisect_right(doc.head_starts, m.start) - 1, set()).add(m.unit)
    in_heading = set().union(*head_units.values()) if head_units else set()
    best = max((len(u) for u in head_units.values()), default=1)  # a heading is a passage too
    best_sent = best_para = best_sec = max(1, best)

    joined = doc.joined
    matches = find_folded(joined, None, prepared) if joined else []
    if repeated_docs and doc.repeated:
        matches = _drop_repeated(matches, doc.repeated, repeated_docs)
    by_sec: dict[int, set[int]] = {}
    for m in matches:
        by_sec.setdefault(bisect_right(doc.starts, m.start) - 1, set()).add(m.unit)
    if any(len(u) > 1 for u in by_sec.values()):
        # walk the matches in text order: a line break between two closes the
        # paragraph (and the sentence), a full stop the sentence
        sent: set[int] = set()
        para: set[int] = set()
        prev_end = -1
        for m in matches:
            if prev_end >= 0 and m.start > prev_end:
                if joined.find("\n", prev_end, m.start) != -1:
                    best_para = max(best_para, len(para))
                    para = set()
                    best_sent = max(best_sent, len(sent))
                    sent = set()
                elif _SENTENCE_END.search(joined, prev_end, m.start):
                    best_sent = max(best_sent, len(sent))
                    sent = set()
            sent.add(m.unit)
            para.add(m.unit)
            prev_end = m.end
        best_sent = max(best_sent, len(sent))
        best_para = max(best_para, len(para))
    found = set(in_heading)
    spread_len = 0.0
    for i, units in by_sec.items():
        found |= units
        spread_len += doc.lengths[i] * sum(weights[u] for u in units) / total
        best_sec = max(best_sec, len(units | head_units.get(i + 1, set())))
    text_len = sum(doc.lengths)
    in_path = {m.unit for m in find_folded(doc.path, None, prepared)} if doc.path else set()
    return Evidence(
        sentence=(best_sent - 1) / span, paragraph=(best_para - 1) / span, section=(best_sec - 1) / span,
        heading=sum(weights[u] for u in in_heading) / total,
        spread=spread_len / text_len if text_len else 0.0,
        present=sum(weights[u] for u in found) / total,
        path=sum(weights[u] for u in in_path) / total)


#: File names of a folder's index page in VuePress / Hugo / GitHub folders:
#: a list of the folder's articles, naming every topic of the folder in passing.
#: (A Hugo page bundle's ``index.md`` is the article itself.)
INDEX_PAGES = frozenset({"readme.md", "_index.md"})


def is_index_page(doc: DocText, r) -> bool:
    """A folder's index page by its name, or any page that is mostly a list
    of links (``r.overview_pages``): it names its topics in passing."""
    return doc.name in INDEX_PAGES or (r.overview_pages and doc.overview)


def factor(ev: Evidence, r, index_page: bool = False) -> float:
    """How much the evidence lifts an article's score (``r``: a ``Ranking``)."""
    f = (1.0 + r.passage_sentence * ev.sentence + r.passage_paragraph * ev.paragraph
         + r.passage_section * ev.section + r.passage_heading * ev.heading + r.passage_spread * ev.spread
         + r.passage_path * ev.path)
    return f * r.index_page_weight if index_page else f


def rerank(load, ranked: list[int], scores, tiers, prepared: Prepared, weights: list[float], r,
           depth: int):
    """Re-rank the first ``depth`` of ``ranked`` (best first, tiers kept) by
    their scores times the passage evidence factor.

    ``load(docnum)`` gives an article's :class:`DocText`; ``prepared``: the
    query's terms; ``weights``: each term group's informativeness
    (``search.weights``).  Returns ``(ranked, scores)``: the new order (the
    rest after the first ``depth`` unchanged) and the scores with the
    re-ranked ones replaced (a copy)."""
    head = ranked[:depth]
    new = scores.copy()
    if weights:
        for d in head:
            doc = load(d)
            new[d] = scores[d] * factor(evidence(doc, prepared, weights, r.repeated_docs), r, is_index_page(doc, r))
    if tiers is None:
        head.sort(key=lambda d: (-new[d], d))
    else:
        head.sort(key=lambda d: (tiers[d], -new[d], d))
    return head + ranked[depth:], new
