""""Did you mean" for Latin-script words, from the index's own vocabulary.

Only Latin words are corrected: a Chinese word missing from the index is
usually a segmentation or vocabulary matter, not a typo, and guessing there
does more harm than good.
"""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np

_VOCAB_FIELDS = ("title", "keywords", "headings", "description", "body")
_LATIN_TERM = re.compile(r"^[a-z][a-z0-9]{2,29}$")


class Vocabulary:
    """Latin terms of one index generation with their document frequency."""

    def __init__(self, reader) -> None:
        df: dict[str, int] = defaultdict(int)
        for fieldname in _VOCAB_FIELDS:
            # terms are sorted by their UTF-8 bytes: Latin words come before all Han ones
            for term, n in term_counts(reader, fieldname, _LATIN_TERM, start="a", last=b"z").items():
                df[term] = max(df[term], n)
        self.df = dict(df)
        by_len: dict[int, list[str]] = defaultdict(list)
        for term in sorted(self.df):
            by_len[len(term)].append(term)
        #: per length: the terms, their letters as an (N, length) array, how
        #: often each of a-z0-9 occurs in each, and their frequencies
        self._buckets = {}
        for n, terms in by_len.items():
            letters = np.frombuffer("".join(terms).encode("ascii"), dtype=np.uint8).reshape(len(terms), n)
            self._buckets[n] = (terms, letters, _letter_counts(letters), np.array([self.df[t] for t in terms]))

    def __contains__(self, term: str) -> bool:
        return term in self.df

    def correct(self, word: str) -> str | None:
        """The most frequent known word within edit distance of ``word``
        (1 for words of up to 4 letters, else 2; ties: more articles, then
        alphabetical).  Every candidate of a near length is measured at once
        with array operations: a few milliseconds where a loop over the
        vocabulary took ~100 ms."""
        if word in self.df or not _LATIN_TERM.match(word):
            return None
        maxd = 1 if len(word) <= 4 else 2
        q = np.frombuffer(word.encode("ascii"), dtype=np.uint8)
        q_counts = _letter_counts(q[None, :])[0]
        best: tuple[int, int, str] | None = None
        for n in range(len(word) - maxd, len(word) + maxd + 1):
            bucket = self._buckets.get(n)
            if bucket is None:
                continue
            terms, letters, counts, dfs = bucket
            # an edit supplies at most one of the word's letters a candidate
            # lacks (a swap none): only candidates lacking at most maxd are measured
            near = np.flatnonzero(np.maximum(q_counts - counts, 0).sum(axis=1) <= maxd)
            if not len(near):
                continue
            dist = osa_distances(q, letters[near], maxd)
            for k in np.flatnonzero(dist <= maxd).tolist():
                i = int(near[k])
                key = (int(dist[k]), -int(dfs[i]), terms[i])
                if best is None or key < best:
                    best = key
        return best[2] if best else None


def correct(text: str, words: list[str], vocab: Vocabulary) -> str | None:
    """``text`` with each of its Latin ``words`` that ``vocab`` would correct
    replaced — the first occurrence of the whole word, whatever its case — or
    None when none is.  Whole words only: ``chatgp cha`` is ``chatgpt chat``,
    not ``chattgpt cha`` (``cha`` inside the ``chatgpt`` just put there)."""
    fixed, changed = text, False
    for w in words:
        fix = vocab.correct(w)
        if fix and fix != w:
            fixed = re.sub(rf"(?<![a-z0-9]){re.escape(w)}(?![a-z0-9])", fix, fixed, count=1, flags=re.I)
            changed = True
    return fixed if changed else None


def term_counts(reader, fieldname: str, keep: re.Pattern, start: str, last: bytes | None = None) -> dict[str, int]:
    """The terms of a field that ``keep`` matches, from ``start`` on (and,
    with ``last``, up to the first whose first byte comes after it), with
    the number of articles that have each.  Read segment by segment: a
    merged multi-segment term list costs a hash lookup per term."""
    counts: dict[str, int] = defaultdict(int)
    if fieldname not in reader.schema:
        return counts
    for leaf, _offset in reader.leaf_readers():
        for btext, info in leaf.iter_field(fieldname, start):
            if last is not None and btext[:1] > last:
                break
            term = btext.decode("utf-8", "replace")
            if keep.match(term):
                counts[term] += info.doc_frequency()
    return counts


_ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz0123456789", dtype=np.uint8)


def _letter_counts(letters: np.ndarray) -> np.ndarray:
    """(N, 36): how often each of a-z0-9 occurs in each row."""
    return (letters[:, :, None] == _ALPHABET).sum(axis=1, dtype=np.int16)


def osa_distances(q: np.ndarray, cands: np.ndarray, limit: int) -> np.ndarray:
    """Optimal string alignment distance (adjacent swaps cost 1) from ``q`` to
    every row of ``cands`` (all rows of one length), capped at ``limit + 1``,
    one array operation per cell."""
    n_rows, n = cands.shape
    cap = limit + 1
    prev2 = None
    prev = np.tile(np.arange(n + 1, dtype=np.int16), (n_rows, 1))
    for i in range(1, len(q) + 1):
        cur = np.empty_like(prev)
        cur[:, 0] = i
        qi = q[i - 1]
        for j in range(1, n + 1):
            cost = (cands[:, j - 1] != qi).astype(np.int16)
            v = np.minimum(np.minimum(prev[:, j] + 1, cur[:, j - 1] + 1), prev[:, j - 1] + cost)
            if prev2 is not None and j > 1:
                swap = (cands[:, j - 2] == qi) & (cands[:, j - 1] == q[i - 2])
                v = np.where(swap, np.minimum(v, prev2[:, j - 2] + 1), v)
            cur[:, j] = v
        if cur.min() > limit:  # every row is already past the limit
            return np.full(n_rows, cap, dtype=np.int16)
        prev2, prev = prev, cur
    return np.minimum(prev[:, n], cap)
