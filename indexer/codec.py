"""How postings are laid out on disk: Whoosh's W3 codec, made smaller.

Two changes, both measured on the development corpus (bench/README.md):

* :class:`CompactPositions`: a posting's positions as a machine array of
  gaps instead of a 4-byte count plus a pickled list.
* :class:`ZhCodec`: posting lists of up to ``INLINE_LIMIT`` documents are
  kept inside the term dictionary entry, as W3 means to do ("inlinelimit"),
  instead of in a block of their own: about 100 bytes of block framing for
  a list of one posting, and most bigram terms occur in one or two articles.
  Whoosh's W3 writer cannot inline at all — it compares with ``<`` (so its
  default limit of 1 inlines only empty lists) and then calls a misspelt
  ``set_inline`` — so the writer is fixed here.

Segments remember their codec, so an index written this way is read with
the same classes; reading needs nothing else.

:class:`InterningText` is about the writer's memory, not the disk: Whoosh's
posting pool holds one tuple per (term, article) pair until the segment is
written — a fresh bytes object for the term, a float for the weight and
bytes for the positions in every tuple, ~1.8 million tuples per writer
process on the development corpus.  Sharing equal objects brings the build's
peak memory down (bench/README.md).
"""

from __future__ import annotations

import sys
from array import array
from collections import defaultdict
from itertools import accumulate

from whoosh import formats
from whoosh.fields import TEXT
from whoosh.codec.whoosh3 import W3Codec, W3PostingsWriter

#: Posting lists this long or shorter are inlined into the term dictionary.
INLINE_LIMIT = 3

_BIG_ENDIAN = sys.byteorder == "big"


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
            return b"\x02" + poslist[0].to_bytes(2, "little")
        gaps = [b - a for a, b in zip([0, *poslist[:-1]], poslist)]
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

    def decode_weight(self, valuestring: bytes) -> float:
        return self.decode_frequency(valuestring) * self.field_boost


class _InliningPostingsWriter(W3PostingsWriter):
    def finish_postings(self):
        terminfo = self._terminfo
        if not self.written() and len(self) <= self._inlinelimit:
            terminfo.add_block(self)
            terminfo.set_inlined(self._ids, self._weights, self._values)
            self._terminfo = None
            return terminfo
        return super().finish_postings()


class ZhCodec(W3Codec):
    """W3 with short posting lists inlined into the term dictionary."""

    def __init__(self, blocklimit: int = 128, compression: int = 3, inlinelimit: int = INLINE_LIMIT) -> None:
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def postings_writer(self, dbfile, byteids=False):
        return _InliningPostingsWriter(dbfile, blocklimit=self._blocklimit, byteids=byteids,
                                       compression=self._compression, inlinelimit=self._inlinelimit)


class InterningText(TEXT):
    """``TEXT`` whose postings share equal term, weight and short value
    objects, within one writer process (the table is not pickled along with
    the schema, and dies with the writer's fields)."""

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_shared", None)
        return state

    def index(self, value, **kwargs):
        # FieldType.index with the sharing folded in (no extra generator layer:
        # this runs once per posting)
        shared = self.__dict__.get("_shared")
        if shared is None:
            shared = self.__dict__["_shared"] = {}
        keep = shared.setdefault
        kwargs.setdefault("mode", "index")
        for word, freq, weight, vbytes in self.format.word_values(value, self.analyzer, **kwargs):
            tbytes = word.encode("utf-8")
            yield (keep(tbytes, tbytes), freq, keep(weight, weight),
                   keep(vbytes, vbytes) if vbytes is not None and len(vbytes) <= 5 else vbytes)
