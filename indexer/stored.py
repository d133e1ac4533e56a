"""How an article's section texts are stored: folded, plus what folding changed.

Snippets look for the query's folded words in the folded text (what the
index matched), then show the original characters.  Folding every section
of every hit at query time was half of a search's remaining time (cProfile
in bench/README.md), so the indexer stores each section already folded,
with the runs of characters folding changed (upper-case letters,
full-width forms, traditional characters): enough to restore the original
of the one passage shown.  Folding keeps the length in the overwhelmingly
common case; a text where it does not (ligatures, some compatibility
characters) is stored as written, marked, and folded at query time.

A stored section is ``(heading, anchor, text, runs)``: ``runs`` is a tuple
of ``(start, original characters)`` and ``text`` is folded, or ``runs`` is
``None`` and ``text`` is the original.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator

import numpy as np

StoredSection = tuple[str, str, str, tuple[tuple[int, str], ...] | None]
#: ``Analyzer.fold``: text → (folded text, offsets or None)
FoldFn = Callable[[str], tuple[str, list[int] | None]]


def encode(heading: str, anchor: str, text: str, folded: tuple[str, list[int] | None]) -> StoredSection:
    """A section for storage; ``folded`` is ``Analyzer.fold(text)``."""
    folded, offsets = folded
    if offsets is not None:  # folding changed the length: keep the original
        return heading, anchor, text, None
    if folded == text:
        return heading, anchor, folded, ()
    a = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    b = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32)
    diff = np.flatnonzero(a != b)  # not empty: the texts differ, at equal length
    # the differing positions as runs of consecutive positions: [start, end]
    breaks = np.flatnonzero(np.diff(diff) != 1) + 1
    starts = np.concatenate((diff[:1], diff[breaks])).tolist()
    ends = np.concatenate((diff[breaks - 1], diff[-1:])).tolist()
    runs = tuple((a, text[a:b + 1]) for a, b in zip(starts, ends, strict=True))
    return heading, anchor, folded, runs


def folded_text(section: StoredSection, fold: FoldFn) -> tuple[str, list[int] | None]:
    """The folded text and, when its offsets differ from the original's, the
    original offset of each folded character (as ``Analyzer.fold``)."""
    _h, _a, text, runs = section
    if runs is None:
        return fold(text)
    return text, None


def original_text(section: StoredSection) -> str:
    """The section's text as the article has it."""
    _h, _a, text, runs = section
    if not runs:
        return text
    parts: list[str] = []
    pos = 0
    for start, orig in runs:
        parts.append(text[pos:start])
        parts.append(orig)
        pos = start + len(orig)
    parts.append(text[pos:])
    return "".join(parts)


def original_slice(section: StoredSection, lo: int, hi: int) -> str:
    """``original_text(section)[lo:hi]``, restoring only the runs there: a
    snippet shows a hundred characters of sections that run to thousands."""
    _h, _a, text, runs = section
    if not runs:  # stored as written, or folding changed nothing
        return text[lo:hi]
    i = bisect_left(runs, (lo,))  # the first run starting at lo or after
    if i and runs[i - 1][0] + len(runs[i - 1][1]) > lo:
        i -= 1  # a run that starts before lo and reaches into it
    parts: list[str] = []
    pos = lo
    while i < len(runs) and runs[i][0] < hi:
        start, orig = runs[i]
        if start > pos:
            parts.append(text[pos:start])
            pos = start
        end = min(start + len(orig), hi)
        parts.append(orig[pos - start:end - start])
        pos = end
        i += 1
    if pos < hi:
        parts.append(text[pos:hi])
    return "".join(parts)


def sections_as_written(sections) -> Iterator[tuple[str, str, str]]:
    """``(heading, anchor, original text)`` of stored sections."""
    for s in sections or ():
        yield s[0], s[1], original_text(s)
