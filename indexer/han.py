"""What zhsearch counts as a Han (Chinese) character: the one definition.

A Han character is one of the CJK Unified Ideographs (U+4E00–U+9FFF), their
Extension A (U+3400–U+4DBF), the CJK Compatibility Ideographs (U+F900–U+FAFF)
and the Supplementary and Tertiary Ideographic Planes (U+20000–U+2FFFF:
Extensions B–F and the compatibility supplement).  Runs of them go to the
word segmenter and make the bigram field; everything else is Latin words,
numbers, punctuation or space.

Kana, Hangul, Yi, radicals and CJK punctuation are not Han characters here.
jieba has a narrower idea of its own (U+4E00–U+9FD5, see
:mod:`indexer.segmenter`), which only decides how a run is cut.

:mod:`indexer.analysis` re-exports these names: import them from there.
"""

from __future__ import annotations

import re

#: The Han blocks as inclusive code point ranges.
HAN_RANGES: tuple[tuple[int, int], ...] = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
                                           (0x20000, 0x2FFFF))
#: The same ranges as the body of a regular-expression character class
#: (``f"[{HAN_CLASS}]+"``).
HAN_CLASS = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in HAN_RANGES)
#: A run of Han characters.
HAN_RUN_RE = re.compile(f"[{HAN_CLASS}]+")
_HAN_CHAR_RE = re.compile(f"[{HAN_CLASS}]")


def has_han(text: str) -> bool:
    """Whether ``text`` holds at least one Han character."""
    return _HAN_CHAR_RE.search(text) is not None


__all__ = ["HAN_CLASS", "HAN_RANGES", "HAN_RUN_RE", "has_han"]
