"""Passage evidence: rank by where the query words meet (issue 12, point 1).

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

No jieba at query time: the query's folded terms (the same the snippets
mark, version-aware) are found by substring search in the folded section
texts.  The stored fields read here are handed on to the result page, so
the page's own snippets cost nothing more.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from dataclasses import dataclass

from indexer.analysis import fold
from indexer.stored import folded_text

from .snippets import Prepared, find_folded

_SENTENCE_END = re.compile(r"[。！？；!?;\n]|\.(?=\s)")
_PATH_SEP = re.compile(r"[/_\-.]+")
#: a line of running text, not a list entry or a table cell: a full sentence
#: or at least this many characters
PROSE_LINE = 60


def _is_prose(line: str) -> bool:
    return len(line) >= PROSE_LINE or "。" in line


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
    prose: float = 1.0


def unit_weights(searcher, terms: list[list[str]]) -> list[float]:
    """IDF of each informative unit (its first form) in the body, Robertson-style:
    a unit the index has never seen counts as rare."""
    n = max(1, searcher.doc_count())
    out = []
    for alternatives in terms:
        word = alternatives[0] if alternatives else ""
        df = 0
        for form in alternatives[:1] + [a for a in alternatives[1:] if " " not in a][:2]:
            try:
                df = max(df, searcher.doc_frequency("body", form))
            except (KeyError, ValueError):  # pragma: no cover - odd terms
                pass
        if not word:
            out.append(0.0)
            continue
        out.append(math.log(1 + (n - df + 0.5) / (df + 0.5)))
    return out


def evidence(sections, title: str, prepared: Prepared, weights: list[float], path: str = "") -> Evidence:
    """Passage evidence of one article: see the module docstring."""
    total = sum(weights)
    if total <= 0:
        return Evidence()
    span = max(1, len(weights) - 1)
    best_sent = best_para = best_sec = 1
    found: set[int] = set()
    in_heading: set[int] = set()
    if title:  # a title or a heading that holds the words is the best passage of all
        t_folded, t_off = fold(title)
        in_heading.update(m.unit for m in find_folded(t_folded, t_off, prepared))
        best_sent = best_para = best_sec = max(1, len(in_heading))
    text_len = 0
    spread_len = 0.0
    prose_len = 0
    for section in sections or ():
        heading, text = section[0], section[2]
        units_here: set[int] = set()
        if heading:
            h_folded, h_off = fold(heading)
            head_units = {m.unit for m in find_folded(h_folded, h_off, prepared)}
            in_heading |= head_units
            units_here |= head_units
            best_sent = max(best_sent, len(head_units))
            best_para = max(best_para, len(head_units))
        if text:
            folded, offsets = folded_text(section)
            text_len += len(folded)
            prose_len += sum(len(line) for line in folded.split("\n") if _is_prose(line))
            matches = find_folded(folded, offsets, prepared)
            if matches:
                text_units = {m.unit for m in matches}
                units_here |= text_units
                if len(text_units) > 1 and len(text_units) > best_sent:
                    sent, para = _together(folded, matches)
                    best_sent = max(best_sent, sent)
                    best_para = max(best_para, para)
                spread_len += len(folded) * sum(weights[u] for u in text_units) / total
        if units_here:
            found |= units_here
            best_sec = max(best_sec, len(units_here))
    found |= in_heading
    in_path: set[int] = set()
    if path:
        p_folded, _ = fold(_PATH_SEP.sub(" ", path.rsplit(".", 1)[0]))
        in_path = {m.unit for m in find_folded(p_folded, None, prepared)}
    return Evidence(
        path=sum(weights[u] for u in in_path) / total,
        prose=prose_len / text_len if text_len else 0.0,
        sentence=(best_sent - 1) / span, paragraph=(best_para - 1) / span, section=(best_sec - 1) / span,
        heading=sum(weights[u] for u in in_heading) / total,
        spread=spread_len / text_len if text_len else 0.0,
        present=sum(weights[u] for u in found) / total)


def _together(folded: str, matches) -> tuple[int, int]:
    """Most distinct units within one sentence, and within one paragraph."""
    ends = [m.start() for m in _SENTENCE_END.finditer(folded)]
    paras = [i for i, c in enumerate(folded) if c == "\n"] if "\n" in folded else []
    by_sent: dict[int, set[int]] = {}
    by_para: dict[int, set[int]] = {}
    for m in matches:
        by_sent.setdefault(bisect_right(ends, m.start), set()).add(m.unit)
        by_para.setdefault(bisect_right(paras, m.start), set()).add(m.unit)
    return max(len(us) for us in by_sent.values()), max(len(us) for us in by_para.values())


#: File names of a folder's index page in VuePress / Hugo / GitHub folders:
#: a list of the folder's articles, naming every topic of the folder in passing.
INDEX_PAGES = frozenset({"readme.md", "_index.md"})


def is_index_page(path: str) -> bool:
    return path.rsplit("/", 1)[-1].lower() in INDEX_PAGES


def factor(ev: Evidence, r, path: str = "") -> float:
    """How much the evidence lifts an article's score (``r``: a ``Ranking``)."""
    f = (1.0 + r.passage_sentence * ev.sentence + r.passage_paragraph * ev.paragraph
         + r.passage_section * ev.section + r.passage_heading * ev.heading + r.passage_spread * ev.spread
         + r.passage_path * ev.path)
    return f * r.index_page_weight if is_index_page(path) else f


def rerank(searcher, ranked: list[int], scores, tiers, terms: list[list[str]], r, depth: int):
    """Re-rank the first ``depth`` of ``ranked`` (best first, tiers kept) by
    their scores times the passage evidence factor.

    Returns ``(ranked, scores, stored)``: the new order (the rest after the
    first ``depth`` unchanged), the scores with the re-ranked ones replaced
    (a copy), and the stored fields read, by document number."""
    head = ranked[:depth]
    stored: dict[int, dict] = {}
    new = scores.copy()
    if terms:
        prepared = Prepared(terms)
        weights = unit_weights(searcher, terms)
        for d in head:
            st = searcher.stored_fields(d)
            stored[d] = st
            path = st.get("path") or ""
            ev = evidence(st.get("sections") or (), st.get("title_text") or "", prepared, weights, path)
            new[d] = scores[d] * factor(ev, r, path)
    if tiers is None:
        head.sort(key=lambda d: (-new[d], d))
    else:
        head.sort(key=lambda d: (tiers[d], -new[d], d))
    return head + ranked[depth:], new, stored
