""""Did you mean" for Latin-script words, from the index's own vocabulary.

Only Latin words are corrected: a Chinese word missing from the index is
usually a segmentation or vocabulary matter, not a typo, and guessing there
does more harm than good.
"""

from __future__ import annotations

import re
from collections import defaultdict

_VOCAB_FIELDS = ("title", "keywords", "headings", "description", "body")
_LATIN_TERM = re.compile(r"^[a-z][a-z0-9]{2,29}$")


class Vocabulary:
    """Latin terms of one index generation with their document frequency."""

    def __init__(self, reader) -> None:
        df: dict[str, int] = defaultdict(int)
        # Per segment (a merged multi-segment lexicon costs a hash lookup per
        # term); terms are sorted by their UTF-8 bytes, so Latin words come
        # before all Han ones and iteration stops at the first non-ASCII term.
        for fieldname in _VOCAB_FIELDS:
            if fieldname not in reader.schema:
                continue
            field_df: dict[str, int] = defaultdict(int)
            for leaf, _offset in reader.leaf_readers():
                for btext, info in leaf.iter_field(fieldname, "a"):
                    if btext[:1] > b"z":
                        break
                    term = btext.decode("ascii", "replace")
                    if _LATIN_TERM.match(term):
                        field_df[term] += info.doc_frequency()
            for term, n in field_df.items():
                df[term] = max(df[term], n)
        self.df = dict(df)
        self._by_len: dict[int, list[str]] = defaultdict(list)
        for term in self.df:
            self._by_len[len(term)].append(term)

    def __contains__(self, term: str) -> bool:
        return term in self.df

    def correct(self, word: str) -> str | None:
        """The most frequent known word within edit distance of ``word``."""
        if word in self.df or not _LATIN_TERM.match(word):
            return None
        maxd = 1 if len(word) <= 4 else 2
        best: tuple[int, int, str] | None = None
        for n in range(len(word) - maxd, len(word) + maxd + 1):
            for cand in self._by_len.get(n, ()):
                d = osa_distance(word, cand, maxd)
                if d <= maxd:
                    key = (d, -self.df[cand], cand)
                    if best is None or key < best:
                        best = key
        return best[2] if best else None


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (adjacent swaps cost 1), capped."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        row_min = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            row_min = min(row_min, v)
        if row_min > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]
