"""What the query side counts as a Han character and as the end of a sentence.

One definition of each for all of ``search/``, so that snippets, passage
evidence, repeated sentences, phrase queries and the analytics offers agree
on where Chinese text is and where a sentence stops.

:data:`HAN_CLASS`, :data:`HAN_RUN_RE` and :func:`has_han` are the analyzer's
own (``indexer.analysis``, defined once in ``indexer.han``): the ranges whose
runs the segmenter and the bigram field see.  Anything the query side calls
Chinese must be what the index calls Chinese, or a term would be looked for
in text that was never indexed as such.
"""

from __future__ import annotations

import re

from indexer.analysis import HAN_CLASS, HAN_RUN_RE, has_han

#: The CJK Unified Ideographs block alone: the characters a pinyin input
#: method types and pypinyin reads, so the only ones pinyin rescue
#: (``search.pinyin``) proposes words of.
COMMON_HAN_CLASS = "\u4e00-\u9fff"

HAN_RE = re.compile(f"[{HAN_CLASS}]")

#: Characters that end a sentence in folded text: Chinese and Latin full
#: stops of questions, exclamations and semicolons, and a line break.  (A
#: Latin ``.`` is left out: it is a decimal point, a version's or a file
#: name's dot as often as a full stop.)
SENTENCE_ENDS = "。！？；!?;\n"
#: Those of :data:`SENTENCE_ENDS` that close a sentence for good: a passage
#: cut after one needs no "…".
FULL_STOPS = "。！？!?"


def is_han_char(ch: str) -> bool:
    """Is ``ch`` (one character) a Han character?"""
    return len(ch) == 1 and HAN_RE.match(ch) is not None


def all_han(text: str) -> bool:
    """Is ``text`` Han characters only (and not empty)?"""
    return HAN_RUN_RE.fullmatch(text) is not None


__all__ = ["COMMON_HAN_CLASS", "FULL_STOPS", "HAN_CLASS", "HAN_RE", "HAN_RUN_RE", "SENTENCE_ENDS", "all_han",
           "has_han", "is_han_char"]
