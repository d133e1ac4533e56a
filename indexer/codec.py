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
"""

from __future__ import annotations

import sys
from array import array
from itertools import accumulate

from whoosh import formats
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

    def encode(self, poslist) -> bytes:
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
