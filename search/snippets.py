"""Choosing the passage to show and marking the query words in it.

No jieba and, for sections, no folding at query time: the indexer stores
section texts already folded (``indexer.stored``) and the query's folded
terms are found there by substring search; only the passage shown is
restored to the article's own characters.  Titles and headings are short
and folded here with the same character table.  Latin terms must sit on word
boundaries, so ``gpt-4`` never marks inside ``gpt-4o`` and ``lora`` never
inside ``explorable``.  At each position the longest term wins, so a whole
compound (``GPT-4``) is marked rather than ``GPT`` followed by ``-4``.

What is shown is not always what was matched: the marks of one typed word
that jieba splits (``事务隔离级别`` → 事务, 隔离, 级别) are joined into one
``<mark>``, so the reader sees the word typed, not the segmenter's cuts
(:func:`chips`).  Choosing passages never depends on that.

Besides the best passage, :func:`make_snippets` gives the article's other
best matching sections (the search box lists them under the article, each
linking to its heading, as DocSearch does).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from html import escape
from typing import NamedTuple

from indexer.stored import FoldFn, folded_text, original_slice

from . import bounds
from .chars import FULL_STOPS, HAN_CLASS, SENTENCE_ENDS

SNIPPET_TARGET = 120  # characters, within the 80–160 asked for
SNIPPET_MAX = 160
SNIPPET_MIN = 80
_SOFT_BREAK = "，、,：:）)"
_LATIN_CHAR = re.compile(r"[a-z0-9]")
_MINOR = re.compile(r"\d\.\d+$")
_HAN_WORD = re.compile(f"[{HAN_CLASS}]{{2,}}")


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
    heading_html: str | None = None  # ``section`` escaped, the query words marked


class Prepared:
    """The query terms as :func:`find_folded` looks for them: one regular
    expression, longest term first, so a text is scanned once whatever the
    number of terms (a long question with its region words and synonyms has
    twenty).  A term that starts or ends with a Latin letter or digit must
    sit on a word edge there; a term naming a version without a minor number
    (``gpt-4``, ``qwen2``) does not match inside another version (``GPT-4.1``,
    ``Qwen2.5``: ``search.versions``), while ``8.5`` still matches its patch
    ``8.5.1``.

    ``words`` (``BuiltQuery.highlight_words``): for each unit, the word as
    typed that it comes from; only :func:`chips` reads it (without it every
    unit is a word of its own)."""

    def __init__(self, terms: list[list[str]], words: list[str] | None = None) -> None:
        self.word_of: list[object] = list(words) if words and len(words) == len(terms) else list(range(len(terms)))
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
        # Han words typed whole that are not a term themselves (jieba split
        # them): shown as one mark wherever they occur whole
        whole = {w for w in self.word_of if isinstance(w, str) and w not in self.unit_of and _HAN_WORD.fullmatch(w)}
        self.whole_of = {w: self.word_of.index(w) for w in whole}  # word -> its first unit
        self.whole = (re.compile("|".join(re.escape(w) for w in sorted(whole, key=len, reverse=True)))
                      if whole else None)


def chips(folded: str, offsets: list[int] | None, matches: list[Match], prepared: Prepared) -> list[Match]:
    """The marks to show for ``matches`` (from :func:`find_folded` on
    ``folded``): adjacent matches of one typed word become one, and so does
    a whole occurrence of a Han word jieba split (``微服务架构``, whose 微 is
    not a term of its own).  Overlapping spans are joined."""
    extra: list[Match] = []
    if prepared.whole is not None:
        for m in prepared.whole.finditer(folded):
            unit = prepared.whole_of[m.group()]
            if offsets is None:
                extra.append(Match(m.start(), m.end(), unit))
            else:
                extra.append(Match(offsets[m.start()], offsets[m.end() - 1] + 1, unit))
    if len(matches) + len(extra) < 2:
        return matches + extra
    spans = sorted(matches + extra, key=lambda m: (m.start, -m.end)) if extra else matches
    word_of = prepared.word_of
    out = [Match(spans[0].start, spans[0].end, spans[0].unit)]
    for m in spans[1:]:
        last = out[-1]
        if m.start < last.end or (m.start == last.end and word_of[m.unit] == word_of[last.unit]):
            last.end = max(last.end, m.end)
        else:
            out.append(Match(m.start, m.end, m.unit))
    return out


def _prepared(terms: list[list[str]] | Prepared) -> Prepared:
    return terms if isinstance(terms, Prepared) else Prepared(terms)


def find_matches(text: str, terms: list[list[str]] | Prepared, fold: FoldFn) -> list[Match]:
    """Non-overlapping matches of the query terms in ``text`` (original offsets);
    ``fold`` is the index's (``Analyzer.fold``)."""
    folded, offsets = fold(text)
    return find_folded(folded, offsets, terms)


def find_folded(folded: str, offsets: list[int] | None, terms: list[list[str]] | Prepared) -> list[Match]:
    """As :func:`find_matches`, in already folded text (``offsets`` as
    ``Analyzer.fold`` returns them)."""
    terms = _prepared(terms)
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


def highlight(text: str, terms: list[list[str]] | Prepared, fold: FoldFn) -> str:
    """``text`` HTML-escaped, the query words marked as they are shown."""
    prepared = _prepared(terms)
    folded, offsets = fold(text)
    return mark(text, chips(folded, offsets, find_folded(folded, offsets, prepared), prepared))


highlight_title = highlight


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
        if text[k] in SENTENCE_ENDS:
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
        if text[k] in SENTENCE_ENDS:
            end = k + 1
            if end - start >= SNIPPET_MIN:
                break
    end = min(max(end, b), max(limit, b))
    return start, end


def _render(text: str, start: int, end: int, matches: list[Match], n: int | None = None,
            before: bool = False) -> str:
    """``text[start:end]`` marked, with "…" where it is cut; ``n`` and
    ``before``: the text's length and whether there is more before it, when
    ``text`` is a slice (:func:`_passage`)."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    body = mark(text, matches, start, end).replace("\n", " ")
    prefix = "…" if start > 0 or before else ""
    suffix = "…" if end < (len(text) if n is None else n) and text[end - 1] not in FULL_STOPS else ""
    return prefix + body + suffix


def _passage(section, a: int, b: int, matches: list[Match]) -> str:
    """The snippet around [a, b) of a stored section (original offsets;
    ``matches`` as shown), restoring only the characters it shows.

    A section stored folded has the original's length, and its sentence
    edges and spaces where the original has them (folding keeps line breaks
    and maps full-width punctuation and spaces to forms :func:`_expand` also
    knows), so the passage is measured out in the folded text."""
    text, runs = section[2], section[3]
    start, end = _expand(text, a, b)
    if runs is None:  # stored as written: the text is the original
        return _render(text, start, end, matches)
    shown = [Match(m.start - start, m.end - start, m.unit) for m in matches if m.end > start and m.start < end]
    return _render(original_slice(section, start, end), 0, end - start, shown, len(text) - start, start > 0)


def make_snippet(sections: list, terms: list[list[str]] | Prepared, fold: FoldFn, fallback: str = "") -> Snippet:
    """The passage with the most distinct query units close together.

    ``sections`` are stored sections (``indexer.stored``): searched folded,
    and only the chosen one is restored to its original characters."""
    return make_snippets(sections, terms, fold, fallback)[0]


class Joined(NamedTuple):
    """An article's folded section texts joined by line breaks, where each
    starts and how long it is, and its title and section headings likewise
    (title first): one string to search instead of one per section, and
    sections stored as written (``indexer.stored``) folded once.
    ``search.rerank.DocText`` has these fields; the engine keeps one per
    article (``generation.StoredArticles``) and passes it."""

    joined: str
    starts: tuple[int, ...]
    lengths: tuple[int, ...]
    heads: str
    head_starts: tuple[int, ...]

    @classmethod
    def of(cls, sections, fold: FoldFn, title: str = "") -> Joined:
        texts = [folded_text(sec, fold)[0] if sec[2] else "" for sec in sections]
        heads = [title] + [sec[0] or "" for sec in sections]
        return cls("\n".join(texts), _starts(texts), tuple(len(t) for t in texts),
                   fold("\n".join(heads))[0], _starts(heads))


def _starts(parts: list[str]) -> tuple[int, ...]:
    out = []
    pos = 0
    for t in parts:
        out.append(pos)
        pos += len(t) + 1
    return tuple(out)


def make_snippets(sections: list, terms: list[list[str]] | Prepared, fold: FoldFn, fallback: str = "",
                  limit: int = 1, doc: Joined | None = None) -> list[Snippet]:
    """The best passage (as :func:`make_snippet`), then up to ``limit - 1``
    other sections that match, best first, one passage each.

    A section is ranked by the distinct query units in its best window, then
    by the units its heading holds, then by how tight and how many the
    matches are, then by its place in the article.  Another section is
    listed only if it holds at least half as many units as the best one, so
    a three-word query does not list every section that says one of them.

    ``doc``: the sections as :class:`Joined` (made here when not given)."""
    prepared = _prepared(terms)
    doc = doc if doc is not None else Joined.of(sections, fold)
    joined, starts = doc.joined, doc.starts
    by_section: dict[int, list[Match]] = {}
    for m in find_folded(joined, None, prepared):
        by_section.setdefault(bisect_right(starts, m.start) - 1, []).append(m)
    if not by_section:
        return [_unmatched(sections, prepared, fold, fallback)]
    head_units: dict[int, set[int]] = {}  # section index -> units its heading holds (-1: the title)
    for m in find_folded(doc.heads, None, prepared):
        head_units.setdefault(bisect_right(doc.head_starts, m.start) - 2, set()).add(m.unit)
    ranked = []
    for si, matches in by_section.items():
        # Windows and sentence edges are found in the folded text: folding keeps
        # line breaks and maps full-width punctuation to forms also listed.
        wkey, a, b = _best_window(joined, matches, SNIPPET_TARGET)
        key = (wkey[0], len(head_units.get(si, ())), wkey[1], wkey[2], -si)
        ranked.append((key, si, a, b, matches))
    ranked.sort(key=lambda c: c[0], reverse=True)
    best_units = ranked[0][0][0]
    out = []
    for key, si, a, b, matches in ranked[:limit]:
        if out and 2 * key[0] < best_units:
            break
        section = sections[si]
        base = starts[si]
        if section[3] is None:  # stored as written, folding changes its length: original offsets needed
            folded, offsets = fold(section[2])
            shown = find_folded(folded, offsets, prepared)
            if offsets is not None:
                a, b = offsets[a - base], offsets[b - base - 1] + 1
            else:
                a, b = a - base, b - base
        else:
            folded, offsets = section[2], None  # stored folded: the text searched in ``joined``
            shown = [Match(m.start - base, m.end - base, m.unit) for m in matches]
            a, b = a - base, b - base
        heading = bounds.cut(section[0], bounds.MAX_SECTION_CHARS)  # cut before it is marked
        out.append(Snippet(_passage(section, a, b, chips(folded, offsets, shown, prepared)),
                           heading or None, section[1] or None, key[0],
                           highlight(heading, prepared, fold) if heading else None))
    return out


def _unmatched(sections: list, prepared: Prepared, fold: FoldFn, fallback: str) -> Snippet:
    """No section text holds a query word (the title or tags matched): the
    article's first text, else ``fallback`` (its description)."""
    for section in sections:
        if section[2]:
            heading = section[0] or None
            return Snippet(_passage(section, 0, 0, []), heading, section[1] or None, 0,
                           highlight(heading, prepared, fold) if heading else None)
    text = fallback
    end = min(len(text), SNIPPET_TARGET)
    folded, offsets = fold(text)
    matches = chips(folded, offsets, find_folded(folded, offsets, prepared), prepared)
    return Snippet(_render(text, 0, end, matches), None, None, 0)
