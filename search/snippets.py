"""Choosing the passage to show and marking the query words in it.

No jieba and, for sections, no folding at query time: the indexer stores
section texts already folded (``indexer.stored``) and the query's folded
terms are found there by substring search; only the passage shown is
restored to the article's own characters.  Titles and headings are short
and folded here with the same character table.  Latin terms must sit on word
boundaries, so ``gpt-4`` never marks inside ``gpt-4o`` and ``lora`` never
inside ``explorable``.  At each position the longest term wins, so a whole
compound (``GPT-4``) is marked rather than ``GPT`` followed by ``-4``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from indexer.stored import FoldFn, folded_text, original_text

SNIPPET_TARGET = 120  # characters, within the 80–160 asked for
SNIPPET_MAX = 160
SNIPPET_MIN = 80
_SENTENCE_END = "。！？；!?;\n"
_SOFT_BREAK = "，、,：:）)"
_LATIN_CHAR = re.compile(r"[a-z0-9]")
_MINOR = re.compile(r"\d\.\d+$")


@dataclass
class Match:
    start: int
    end: int
    unit: int  # index of the query unit it belongs to


@dataclass
class Snippet:
    html: str
    section: str | None
    anchor: str | None
    units: int  # distinct query units shown


class Prepared:
    """The query terms as :func:`find_folded` looks for them: one regular
    expression, longest term first, so a text is scanned once whatever the
    number of terms (a long question with its region words and synonyms has
    twenty).  A term that starts or ends with a Latin letter or digit must
    sit on a word edge there; a term naming a version without a minor number
    (``gpt-4``, ``qwen2``) does not match inside another version (``GPT-4.1``,
    ``Qwen2.5``: ``search.versions``), while ``8.5`` still matches its patch
    ``8.5.1``."""

    def __init__(self, terms: list[list[str]]) -> None:
        self.unit_of: dict[str, int] = {}
        for ui, alternatives in enumerate(terms):
            for t in alternatives:
                if t:
                    self.unit_of.setdefault(t, ui)  # a term two units share is the first one's
        patterns = []
        for t in sorted(self.unit_of, key=len, reverse=True):
            # every branch starts with its first character (a word-edge check
            # comes right after it), so the engine skips ahead to the
            # positions where some branch can start instead of trying them all
            p = re.escape(t[0])
            if _LATIN_CHAR.match(t[0]):
                p += "(?<![a-z0-9].)"
            p += re.escape(t[1:])
            if _LATIN_CHAR.match(t[-1]):
                p += "(?![a-z0-9])"
                if t[-1].isdigit() and not _MINOR.search(t):
                    p += r"(?!\.\d)"
            patterns.append(p)
        self.regex = re.compile("|".join(patterns)) if patterns else None


def find_matches(text: str, terms: list[list[str]] | Prepared, fold: FoldFn) -> list[Match]:
    """Non-overlapping matches of the query terms in ``text`` (original offsets);
    ``fold`` is the index's (``Analyzer.fold``)."""
    folded, offsets = fold(text)
    return find_folded(folded, offsets, terms)


def find_folded(folded: str, offsets: list[int] | None, terms: list[list[str]] | Prepared) -> list[Match]:
    """As :func:`find_matches`, in already folded text (``offsets`` as
    ``Analyzer.fold`` returns them)."""
    if not isinstance(terms, Prepared):
        terms = Prepared(terms)
    if terms.regex is None:
        return []
    unit_of = terms.unit_of
    # leftmost first, the longest term there, never overlapping
    if offsets is None:
        return [Match(m.start(), m.end(), unit_of[m.group()]) for m in terms.regex.finditer(folded)]
    return [Match(offsets[m.start()], offsets[m.end() - 1] + 1, unit_of[m.group()])
            for m in terms.regex.finditer(folded)]


def mark(text: str, matches: list[Match], start: int = 0, end: int | None = None) -> str:
    """HTML-escape ``text[start:end]`` with ``<mark>`` around the matches."""
    end = len(text) if end is None else end
    parts: list[str] = []
    pos = start
    for m in matches:
        if m.end <= start or m.start >= end:
            continue
        a, b = max(m.start, start), min(m.end, end)
        parts.append(escape(text[pos:a], quote=False))
        parts.append("<mark>" + escape(text[a:b], quote=False) + "</mark>")
        pos = b
    parts.append(escape(text[pos:end], quote=False))
    return "".join(parts)


def highlight_title(title: str, terms: list[list[str]], fold: FoldFn) -> str:
    return mark(title, find_matches(title, terms, fold))


def _best_window(text: str, matches: list[Match], width: int) -> tuple[tuple, int, int]:
    """Best window of at most ``width`` characters inside one paragraph.

    Ranked by distinct query units, then tightness, then match count: the
    passage where the asked-for words stand together, not merely the one
    where they are most frequent.
    """
    best_key: tuple | None = None
    best = (0, 0)
    j = 0
    for i in range(len(matches)):
        while j < i and (matches[j].start < matches[i].end - width
                         or "\n" in text[matches[j].start:matches[i].start]):
            j += 1
        window = matches[j:i + 1]
        units = len({m.unit for m in window})
        span = matches[i].end - matches[j].start
        key = (units, -span if units > 1 else 0, len(window), -matches[j].start)
        if best_key is None or key > best_key:
            best_key, best = key, (matches[j].start, matches[i].end)
    return best_key or (0, 0, 0, 0), best[0], best[1]


def _expand(text: str, a: int, b: int) -> tuple[int, int]:
    """Grow [a, b) to about SNIPPET_TARGET characters, preferring sentence edges."""
    n = len(text)
    room = max(0, SNIPPET_TARGET - (b - a))
    # start: back to the previous sentence end if it is close enough
    lo = max(0, a - max(room // 2, 20))
    start = a
    for k in range(a - 1, lo - 1, -1):
        if text[k] in _SENTENCE_END:
            start = k + 1
            break
    else:
        start = lo
        if lo > 0:
            for k in range(lo, a):
                if text[k] in _SOFT_BREAK:
                    start = k + 1
                    break
    # end: forward to a sentence end within the maximum length
    limit = min(n, start + SNIPPET_MAX)
    end = max(b, min(n, start + SNIPPET_TARGET))
    for k in range(b, limit):
        if text[k] in _SENTENCE_END:
            end = k + 1
            if end - start >= SNIPPET_MIN:
                break
    end = min(max(end, b), max(limit, b))
    return start, end


def _render(text: str, start: int, end: int, matches: list[Match]) -> str:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    body = mark(text, matches, start, end).replace("\n", " ")
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) and text[end - 1] not in "。！？!?" else ""
    return prefix + body + suffix


def make_snippet(sections: list, terms: list[list[str]], fold: FoldFn, fallback: str = "") -> Snippet:
    """The passage with the most distinct query units close together.

    ``sections`` are stored sections (``indexer.stored``): searched folded,
    and only the chosen one is restored to its original characters."""
    best: tuple | None = None
    prepared = Prepared(terms)
    for si, section in enumerate(sections):
        heading, text = section[0], section[2]
        if not text:
            continue
        folded, offsets = folded_text(section, fold)
        matches = find_folded(folded, offsets, prepared)
        if not matches:
            continue
        # Windows and sentence edges are found in the folded text: folding keeps
        # line breaks and maps full-width punctuation to forms also listed.
        wkey, a, b = _best_window(folded, matches, SNIPPET_TARGET)
        if best is not None and wkey[0] < best[0][0]:
            continue  # fewer query units than the best: its heading cannot lift it
        heading_units = {m.unit for m in find_matches(heading, prepared, fold)} if heading else set()
        key = (wkey[0], len(heading_units), wkey[1], wkey[2], -si)
        if best is None or key > best[0]:
            best = (key, si, a, b, matches)
    if best is None:
        for section in sections:
            if section[2]:
                text = original_text(section)
                start, end = _expand(text, 0, 0)
                return Snippet(_render(text, 0, end, []), section[0] or None, section[1] or None, 0)
        text = fallback
        end = min(len(text), SNIPPET_TARGET)
        return Snippet(_render(text, 0, end, find_matches(text, terms, fold)), None, None, 0)
    key, si, a, b, matches = best
    units = key[0]
    heading, anchor = sections[si][0], sections[si][1]
    text = original_text(sections[si])
    start, end = _expand(text, a, b)
    return Snippet(_render(text, start, end, matches), heading or None, anchor or None, units)
