"""The text field of the schema: :class:`InterningText`.

It takes the tokens an :class:`indexer.analysis.Analyzer` made, not text,
and its postings share equal term and short position objects, which the
writer's posting pool (:mod:`indexer.pool`) holds until the segment is
written: ~1.8 million postings per writer process on the development corpus.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from whoosh.fields import TEXT
from whoosh.system import pack_uint

from .analysis import TermPositions
from .positions import ONE_POSITION, CompactPositions


class InterningText(TEXT):
    """``TEXT`` fed with the tokens of an :class:`indexer.analysis.Analyzer`
    instead of text, whose postings share equal term and short value objects
    within one writer process.

    The tokens come from the analyzer that owns the index (tuples that begin
    ``(text, position, …)``), so the schema pickled into the index holds no
    analysis at all.  Sharing: the tables are not pickled along with the
    schema, and die with the writer's fields.
    """

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_shared", None)
        return state

    def index(self, value, **kwargs):
        """``(term bytes, frequency, weight, value)`` per word of ``value``
        (Whoosh's field API; :meth:`columns` says what ``value`` may be)."""
        return zip(*self.columns(value), strict=True)

    def columns(self, value) -> tuple[list[bytes], list[int], list[float], list[bytes]]:
        """The postings of one document's field as four parallel lists: term
        bytes, frequency, weight, value.  ``value`` is word → positions
        (``Analyzer.indexed_words``), a :class:`~indexer.analysis.TermPositions`
        (``Analyzer.indexed_bigrams``) or tokens that begin ``(text,
        position)``; for a field without positions, plain words
        (``Analyzer.code_words``).  Lists, not a generator of tuples: this runs
        for every posting the indexer writes."""
        if isinstance(value, str):
            raise TypeError(f"{type(self).__name__} indexes the tokens of an indexer.analysis.Analyzer, "
                            "not text (see indexer.document.article_fields)")
        shared = self.__dict__.get("_shared")
        if shared is None:
            shared = self.__dict__["_shared"] = (_TermBytes(), {})
        terms, values = shared  # word → its bytes; value → the one equal bytes object
        fmt = self.format
        fb = fmt.field_boost
        if not isinstance(fmt, CompactPositions):  # counts only
            counts = Counter(t if isinstance(t, str) else t[0] for t in value)
            freqs = list(counts.values())
            vbytes = []
            for n in freqs:
                v = values.get(n)
                if v is None:
                    v = values[n] = pack_uint(n)
                vbytes.append(v)
            return list(map(terms.__getitem__, counts)), freqs, [n * fb for n in freqs], vbytes
        if isinstance(value, TermPositions):
            return self._grouped_columns(value, terms, values)
        if isinstance(value, dict):  # word → positions (Analyzer.indexed_words)
            grouped = value
        else:  # tokens that begin (text, position)
            grouped = {}
            for tok in value:
                got = grouped.get(tok[0])
                if got is None:
                    grouped[tok[0]] = [tok[1]]
                else:
                    got.append(tok[1])
        plists = list(grouped.values())
        freqs = list(map(len, plists))
        encode, one = fmt.encode, ONE_POSITION
        vbytes = [one[p[0]] if len(p) == 1 and p[0] <= 0xFFFF else _shared_value(values, encode(p))
                  for p in plists]
        return list(map(terms.__getitem__, grouped)), freqs, [n * fb for n in freqs], vbytes

    def _grouped_columns(self, value: TermPositions, terms: dict, values: dict):
        """:meth:`columns` of postings already grouped by term (numpy
        positions): the same values ``CompactPositions.encode`` makes,
        without a loop over positions."""
        pos = value.positions
        bounds = value.bounds
        gaps = pos.copy()
        gaps[1:] -= pos[:-1]
        firsts = np.asarray(bounds[:-1], dtype=np.int64)
        gaps[firsts] = pos[firsts]  # each term's first position is absolute
        wide = np.maximum.reduceat(gaps, firsts) > 0xFFFF if len(firsts) else np.zeros(0, dtype=bool)
        narrow_bytes = gaps.astype("<u2").tobytes()
        wide_bytes = gaps.astype("<u4").tobytes() if wide.any() else b""
        wide = wide.tolist()
        first_pos = pos[firsts].tolist()
        freqs = np.diff(bounds).tolist()
        one = ONE_POSITION
        vbytes = []
        for k, n in enumerate(freqs):
            if wide[k]:
                vbytes.append(b"\x04" + wide_bytes[4 * bounds[k]:4 * bounds[k + 1]])
            elif n == 1:
                vbytes.append(one[first_pos[k]])
            else:
                v = b"\x02" + narrow_bytes[2 * bounds[k]:2 * bounds[k + 1]]
                vbytes.append(values.setdefault(v, v) if n <= 2 else v)
        fb = self.format.field_boost
        return list(map(terms.__getitem__, value.terms)), freqs, [n * fb for n in freqs], vbytes


def _shared_value(values: dict, v: bytes) -> bytes:
    """A short value as the one equal object already filed (positions repeat)."""
    return values.setdefault(v, v) if len(v) <= 5 else v


class _TermBytes(dict):
    """``word → word.encode("utf-8")``, one bytes object per word."""

    def __missing__(self, word: str) -> bytes:
        b = self[word] = word.encode("utf-8")
        return b

