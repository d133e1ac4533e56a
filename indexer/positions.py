"""How a posting's positions are stored: :class:`CompactPositions`.

Whoosh's ``Positions`` format writes each posting's positions as a 4-byte
count plus a pickled list.  Ours writes one byte for the width of the gaps,
then the gaps between positions as little-endian unsigned 16-bit integers
(32-bit when a gap is larger); most postings have one position, whose value
is made once per position (:data:`ONE_POSITION`).  The word and bigram fields
of the schema (:mod:`indexer.schema`) use it; the text field
(:mod:`indexer.textfield`) encodes values the same way; :mod:`search.vector`
decodes many at once (:meth:`CompactPositions.decode_many`).
"""

from __future__ import annotations

import sys
from array import array
from collections import defaultdict
from itertools import accumulate, pairwise

import numpy as np
from whoosh import formats

_BIG_ENDIAN = sys.byteorder == "big"


class _OnePosition(dict):
    """``position → b"\\x02" + 2 bytes``: the value of most postings, made once."""

    def __missing__(self, pos: int) -> bytes:
        value = self[pos] = b"\x02" + pos.to_bytes(2, "little")
        return value


ONE_POSITION = _OnePosition()


class CompactPositions(formats.Positions):
    """Positions stored as a machine array of gaps instead of a pickled list.

    Whoosh's ``Positions`` writes each posting's positions as a 4-byte count
    plus a pickled list: ~12 bytes of framing around one or two positions,
    for each of the ~3.3 million (word, article) pairs that keep positions
    on the development corpus.  Here a posting is one byte for the width,
    then the gaps as unsigned 16-bit integers (32-bit when a gap is larger):
    both ways are C-speed ``array`` conversions (little-endian on disk).
    """

    def word_values(self, value, analyzer, **kwargs):
        """As ``Positions.word_values``, less per-token work: our tokenizers
        give every token a boost of 1, so a word's weight is its count."""
        fb = self.field_boost
        poses: defaultdict[str, list[int]] = defaultdict(list)
        kwargs["positions"] = True
        for t in formats.tokens(value, analyzer, kwargs):
            poses[t.text].append(t.pos)
        encode = self.encode
        for word, poslist in poses.items():
            yield word, len(poslist), len(poslist) * fb, encode(poslist)

    def encode(self, poslist) -> bytes:
        if len(poslist) == 1 and poslist[0] <= 0xFFFF:  # most postings: one position
            return ONE_POSITION[poslist[0]]
        gaps = [b - a for a, b in pairwise([0, *poslist])]
        wide = bool(gaps) and max(gaps) > 0xFFFF
        arr = array("I" if wide else "H", gaps)
        if _BIG_ENDIAN:
            arr.byteswap()
        return (b"\x04" if wide else b"\x02") + arr.tobytes()

    def decode_positions(self, valuestring: bytes) -> list[int]:
        gaps = array("H" if valuestring[:1] == b"\x02" else "I")
        gaps.frombytes(valuestring[1:])
        if _BIG_ENDIAN:
            gaps.byteswap()
        return list(accumulate(gaps))

    def decode_frequency(self, valuestring: bytes) -> int:
        return (len(valuestring) - 1) // valuestring[0]

    @staticmethod
    def decode_many(data: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Many postings' positions at once: ``data`` is their values one
        after the other (uint8), ``offsets`` the n + 1 bounds.  Returns
        (positions per posting, every position in posting order, int64)."""
        n = len(offsets) - 1
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        heads = data[offsets[:-1]].astype(np.int64)  # bytes per gap: 2 or 4
        keep = np.ones(len(data), dtype=bool)
        keep[offsets[:-1]] = False
        payload = data[keep]
        lens = (offsets[1:] - offsets[:-1] - 1)
        counts = lens // heads
        if (heads == 2).all():
            gaps = payload.view("<u2").astype(np.int64)
        elif (heads == 4).all():
            gaps = payload.view("<u4").astype(np.int64)
        else:  # both widths: each posting on its own
            pstart = np.concatenate(([0], np.cumsum(lens)))
            gaps = np.concatenate([payload[pstart[i]:pstart[i + 1]].view("<u2" if heads[i] == 2 else "<u4")
                                   for i in range(n)]).astype(np.int64)
        positions = np.cumsum(gaps)
        ends = np.cumsum(counts)
        before = np.concatenate(([0], positions[ends[:-1] - 1])) if n > 1 else np.zeros(1, dtype=np.int64)
        positions -= np.repeat(before, counts)  # gaps restart at each posting
        return counts, positions

    def decode_weight(self, valuestring: bytes) -> float:
        return self.decode_frequency(valuestring) * self.field_boost
