"""Width, case and script folding with exact offsets.

Text is folded character by character (NFKC, lower case, then traditional →
simplified with OpenCC's ``TSCharacters`` table) through a translation table,
so ``ＧＰＴ－４`` and ``GPT-4`` are the same token and, in the overwhelmingly
common case, every folded character maps to exactly one original character:
token offsets then point into the *original* text and highlights land
exactly on the characters the article has.

Region vocabulary (記憶體 → 内存, 執行緒 → 线程, 分散式 → 分布式, OpenCC's
``TWPhrasesRev`` and ``HKVariantsRevPhrases``) changes length, so it is never
applied to indexed text; queries get it as ranked-lower alternatives.

OpenCC (the pure-Python ``opencc-python-reimplemented``) rather than zhconv:
its character table and its region phrase table are separate, so the
length-preserving part can go to the index and the length-changing part to
queries only.

A :class:`Folding` belongs to an :class:`indexer.analysis.Analyzer`; its
table grows as new characters are seen (a memo of a pure function, so two
analyzers never disagree), and nothing here is module-level state.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import cached_property
from importlib import resources

from .han import has_han

log = logging.getLogger(__name__)

#: Invisible format characters folded to nothing, so they never split a
#: word: text pasted from web pages carries them (``向\u200b量``,
#: ``Kuber\u00adnetes``, ``Red\u200dis``).  Zero-width space, (non-)joiners
#: and marks, the word joiner and invisible operators, the BOM (anywhere,
#: not only at the start), the soft hyphen, the combining grapheme joiner,
#: the Mongolian vowel separator, variation selectors, tag characters, and
#: the bidi controls (embeddings, overrides, isolates: they reorder what is
#: shown, never what is meant).  Offsets into the original text are kept
#: (see :meth:`Folding.fold`), so a highlight still lands on the word.
INVISIBLE = ("\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
             "\ufe00-\ufe0f\ufeff\U000e0000-\U000e007f\U000e0100-\U000e01ef")
_INVISIBLE_RE = re.compile(f"[{INVISIBLE}]")
#: Embeddings, overrides and isolates: an RLO in a title shows ``反向戊exe.png``
#: reversed; shown text never keeps them (see :func:`strip_bidi`).
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_BIDI_RE = re.compile(f"[{BIDI_CONTROLS}]")


def strip_bidi(text: str) -> str:
    """``text`` without bidi embedding, override and isolate controls, so it
    shows in the order it was written whatever surrounds it."""
    return _BIDI_RE.sub("", text) if text and _BIDI_RE.search(text) else text
_LABEL_SPACE_RE = re.compile(r"[\s,]+")


def opencc_lines(name: str) -> list[list[str]]:
    """Tab-separated lines of one of OpenCC's dictionary files."""
    try:
        text = (resources.files("opencc") / "dictionary" / name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):  # pragma: no cover - dependency missing
        log.warning("OpenCC table %s not found: traditional Chinese is not folded", name)
        return []
    return [line.split("\t") for line in text.splitlines() if "\t" in line]


def _ts_characters() -> dict[str, str]:
    """Traditional → simplified, one character to one character."""
    table: dict[str, str] = {}
    # TSCharacters only: the variant tables also rewrite characters that
    # simplified text uses (著→着, 參→蔘).  A character listed as its own
    # simplified candidate (乾, 於) is left alone for the same reason.
    for src, dst in opencc_lines("TSCharacters.txt"):
        cands = dst.split()
        if len(src) == 1 and cands and src not in cands and len(cands[0]) == 1:
            table[src] = cands[0]
    return table


class _FoldTable(dict):
    """A ``str.translate`` table that folds a character when it first meets it."""

    def __init__(self, folding: Folding) -> None:
        super().__init__()
        self.folding = folding

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        f = self.folding.fold_char(ch)
        if not f:
            self.folding._vanishing.add(ch)
        self[code] = f  # the same value whichever thread makes it
        return f


class Folding:
    """The folding tables of one analyzer (see the module docstring)."""

    def __init__(self) -> None:
        self._ts = _ts_characters()
        #: code point → its fold; a character is folded the first time a text has it
        self._table = _FoldTable(self)
        self._vanishing: set[str] = set()  # characters that fold to nothing

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_table"] = dict(self._table)
        return state

    def __setstate__(self, state: dict) -> None:
        table = state.pop("_table")
        self.__dict__.update(state)
        self._table = _FoldTable(self)
        self._table.update(table)

    def fold_char(self, ch: str) -> str:
        """NFKC, lower case, then traditional → simplified (one char to one);
        nothing for an :data:`INVISIBLE` character."""
        if _INVISIBLE_RE.match(ch):
            return ""
        ts = self._ts
        return "".join(ts.get(c, c) for c in unicodedata.normalize("NFKC", ch).lower())

    def fold(self, text: str) -> tuple[str, list[int] | None]:
        """Width-, case- and script-fold ``text``.

        Returns ``(folded, offsets)``.  When every character folds to exactly
        one character ``offsets`` is ``None`` and folded index *i* is original
        index *i*.  Otherwise ``offsets[i]`` is the original index of folded
        character *i*, plus a final sentinel entry equal to ``len(text)``.  The
        per-character Python work is paid once per distinct character.
        """
        folded = text.translate(self._table)  # new characters are folded on first sight
        # every character folds to one unless the length changed, or a
        # character that folds to nothing hides an expansion
        if len(folded) == len(text) and (not self._vanishing or self._vanishing.isdisjoint(text)):
            return folded, None
        table = self._table
        offsets: list[int] = []
        for i, c in enumerate(text):
            offsets.extend([i] * len(table[ord(c)]))
        offsets.append(len(text))
        return folded, offsets

    def fold_query(self, text: str) -> str:
        """Fold a query string the same way as indexed text."""
        return self.fold(text)[0]

    def fold_label(self, label: str) -> str:
        """The key of a tag or category: folded, without spaces or commas, so
        ``Java 并发``, ``java并发`` and ``ＪＡＶＡ并发`` are one facet value."""
        return _LABEL_SPACE_RE.sub("", self.fold(label)[0])

    @cached_property
    def region_table(self) -> dict[str, str]:
        """Folded Taiwan/Hong Kong word → folded mainland word (記憶體 → 内存).

        Used as query-time alternatives, never as rewrites: a simplified word
        can be a region key too (向量 → 矢量), and then what was typed must
        still win.
        """
        table: dict[str, str] = {}
        for name in ("TWPhrasesRev.txt", "HKVariantsRevPhrases.txt"):
            for src, dst in opencc_lines(name):
                cands = dst.split()
                if not src or not cands:
                    continue
                key, value = self.fold_query(src), self.fold_query(cands[0])
                if key != value and len(key) >= 2 and has_han(key):
                    table.setdefault(key, value)
        return table
