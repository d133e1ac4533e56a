"""Sentences a site repeats across many of its articles.

Tutorial sites copy the same sentences into every article: "首先 pip 换源加速
下载并安装依赖包", "梯度累加，如果你的显存比较小……", a "MySQL 兼容性" note under
every SQL statement page.  Such a sentence puts the query's words together in
each of those articles, so passage evidence (``search.rerank``) would read
every one of them as being about the words.  A sentence is *repeated* when
its Han characters — Latin words (a model's or a statement's name) and
punctuation left out, since templates differ there — form a sentence of at
least ``Ranking.repeated_docs`` articles (5; 3 measured worse on both
collections: a few articles may quote one sentence); passage evidence then
leaves it out.

The counts are made per index generation from the stored sections (one pass
over them: ~0.3 s per 500 articles, 1–2 s for the 2,690 of the development
corpus on a loaded 2-core machine) and kept with the generation
(``generation.Generation.repeated``).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter

from indexer.stored import FoldFn, folded_text

from .chars import HAN_CLASS, SENTENCE_ENDS

_SENTENCE = re.compile(f"[^{SENTENCE_ENDS}]+")
_NOT_HAN = re.compile(f"[^{HAN_CLASS}]+")
#: everything but Han characters and sentence breaks: one pass over a whole text
_NOT_HAN_OR_BREAK = re.compile(f"[^{HAN_CLASS}{SENTENCE_ENDS}]+")
_BREAK = re.compile(f"[{SENTENCE_ENDS}]")
#: Sentences of fewer Han characters are phrases ("输出结果如下"), which any
#: articles may share without being copies of one another.
MIN_CHARS = 8


def sentence_keys(text: str) -> list[tuple[int, int, int]]:
    """``(start, end, key)`` of the sentences of folded ``text`` long enough to count."""
    out = []
    for m in _SENTENCE.finditer(text):
        han = _NOT_HAN.sub("", m.group())
        if len(han) >= MIN_CHARS:
            out.append((m.start(), m.end(), zlib.crc32(han.encode("utf-8"))))
    return out


def _keys(text: str) -> set[int]:
    """The keys of :func:`sentence_keys`, without where they stand (the Han
    characters of each sentence are the same either way), in two passes over
    the text instead of one per sentence: every article is read this way."""
    return {zlib.crc32(han.encode("utf-8")) for han in _BREAK.split(_NOT_HAN_OR_BREAK.sub("", text))
            if len(han) >= MIN_CHARS}


def document_counts(reader, fold: FoldFn) -> dict[int, int]:
    """For each sentence key found in two articles or more: in how many.
    ``fold``: the index's (``Analyzer.fold``), for sections stored unfolded."""
    counts: Counter[int] = Counter()
    for docnum in reader.all_doc_ids():
        fields = reader.stored_fields(docnum)
        keys: set[int] = set()
        for sec in fields.get("sections") or ():
            if sec[2]:
                keys |= _keys(folded_text(sec, fold)[0])
        counts.update(keys)
    return {k: c for k, c in counts.items() if c > 1}
