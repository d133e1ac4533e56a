"""One term's posting list as a compact byte string, and back.

Whoosh's W3 format frames every block of postings with ~100 bytes of
header and pickles short lists; on the development corpus most terms are
character bigrams found in one or two articles, so framing was most of the
index (bench/README.md, "Index size").  Here a list is:

* one flags byte: the width of the ID gaps, how weights are kept, the width
  of the value lengths;
* the document numbers as gaps (the first one absolute), each 1, 2 or 4
  bytes as the largest needs;
* the weights: nothing when all are 1, else 1- or 2-byte integers, else
  doubles;
* the values (a posting's encoded positions, see ``positions.CompactPositions``):
  nothing when all are empty, else their lengths (1, 2 or 4 bytes each) and
  then the values one after the other.

The count of postings is not stored: it is the term's document frequency,
which the term dictionary keeps.  Arrays are little-endian on disk and are
decoded in C (``numpy.frombuffer``), never posting by posting in Python.
"""

from __future__ import annotations

import struct
import sys
from array import array
from itertools import pairwise

import numpy as np

_WIDTH_CODES = ("B", "H", "I")  # array typecodes for widths 1, 2, 4
_WIDTH_BYTES = (1, 2, 4)
_DTYPES = (np.dtype("<u1"), np.dtype("<u2"), np.dtype("<u4"))
_BIG_ENDIAN = sys.byteorder == "big"
_LE_DOUBLE = struct.Struct("<d")

# weights modes (bits 2-3 of the flags byte)
_W_ONES, _W_U8, _W_U16, _W_F64 = 0, 1, 2, 3
# values modes (bits 4-5): none, or the width code of the lengths plus one
_V_NONE = 0


def _width(largest: int) -> int:
    return 0 if largest < 0x100 else 1 if largest < 0x10000 else 2


def _packed(code: int, numbers) -> bytes:
    arr = array(_WIDTH_CODES[code], numbers)
    if _BIG_ENDIAN and code:
        arr.byteswap()
    return arr.tobytes()


def encode(ids: list[int], weights: list[float], values: list[bytes]) -> bytes:
    """The bytes of one posting list (``ids`` ascending, all lists equally long)."""
    if len(ids) == 1:  # most terms (bigrams of one article): the same bytes, less work
        return encode_one(ids[0], weights[0], values[0])
    gaps = [ids[0], *map(int.__sub__, ids[1:], ids[:-1])]
    id_code = _width(max(gaps))
    parts = [b"", _packed(id_code, gaps)]

    low, high = min(weights), max(weights)
    if low == high == 1:
        w_mode = _W_ONES
    elif low >= 0 and high < 0x10000 and all(map(float.is_integer, map(float, weights))):
        w_mode = _W_U8 if max(weights) < 0x100 else _W_U16
        parts.append(_packed(w_mode - 1, [int(w) for w in weights]))
    else:
        w_mode = _W_F64
        arr = array("d", weights)
        if _BIG_ENDIAN:
            arr.byteswap()
        parts.append(arr.tobytes())

    lengths = list(map(len, values))
    longest = max(lengths)
    if longest == 0:
        v_mode = _V_NONE
    else:
        len_code = _width(longest)
        v_mode = len_code + 1
        parts.append(_packed(len_code, lengths))
        parts.append(b"".join(values))

    parts[0] = bytes((id_code | w_mode << 2 | v_mode << 4,))
    return b"".join(parts)


def encode_one(docnum: int, weight: float, value: bytes) -> bytes:
    """:func:`encode` of a list of one posting."""
    id_code = _width(docnum)
    parts = [b"", docnum.to_bytes(_WIDTH_BYTES[id_code], "little")]
    if weight == 1:
        w_mode = _W_ONES
    elif weight == int(weight) and 0 <= weight < 0x10000:
        w_mode = _W_U8 if weight < 0x100 else _W_U16
        parts.append(int(weight).to_bytes(_WIDTH_BYTES[w_mode - 1], "little"))
    else:
        w_mode = _W_F64
        parts.append(_LE_DOUBLE.pack(weight))
    if not value:
        v_mode = _V_NONE
    else:
        len_code = _width(len(value))
        v_mode = len_code + 1
        parts.append(len(value).to_bytes(_WIDTH_BYTES[len_code], "little"))
        parts.append(value)
    parts[0] = bytes((id_code | w_mode << 2 | v_mode << 4,))
    return b"".join(parts)


class Decoded:
    """A decoded posting list: arrays of IDs and weights, values on demand."""

    __slots__ = ("ids", "weights", "_buf", "_starts")

    def __init__(self, ids: np.ndarray, weights: np.ndarray, buf, starts: np.ndarray | None) -> None:
        self.ids = ids  # int64, ascending
        self.weights = weights  # float64
        self._buf = buf  # the values, one after the other
        self._starts = starts  # n + 1 offsets into _buf, or None when no values

    def value(self, i: int) -> bytes | None:
        if self._starts is None:  # None, as Whoosh's matchers give for no values
            return None
        return bytes(self._buf[int(self._starts[i]): int(self._starts[i + 1])])

    def values(self) -> list[bytes | None]:
        if self._starts is None:
            return [None] * len(self.ids)
        buf, starts = self._buf, self._starts.tolist()
        return [bytes(buf[a:b]) for a, b in pairwise(starts)]

    def value_arrays(self, sel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The values of postings ``sel`` (indexes into ``ids``, ascending) as
        ``(bytes of all of them, one after the other, as uint8; n + 1 offsets)``."""
        if self._starts is None:
            return np.zeros(0, dtype=np.uint8), np.zeros(len(sel) + 1, dtype=np.int64)
        starts = self._starts
        a, b = starts[sel], starts[sel + 1]
        lens = b - a
        offsets = np.zeros(len(sel) + 1, dtype=np.int64)
        np.cumsum(lens, out=offsets[1:])
        total = int(offsets[-1])
        idx = np.arange(total, dtype=np.int64) + np.repeat(a - offsets[:-1], lens)
        return np.frombuffer(self._buf, dtype=np.uint8)[idx], offsets

    @property
    def nbytes(self) -> int:
        extra = 0 if self._starts is None else len(self._buf) + self._starts.nbytes
        return self.ids.nbytes + self.weights.nbytes + extra


def decode(blob, n: int) -> Decoded:
    """Decode ``n`` postings from ``blob`` (bytes or a memoryview)."""
    flags = blob[0]
    id_code, w_mode, v_mode = flags & 3, flags >> 2 & 3, flags >> 4 & 3
    pos = 1
    gaps = np.frombuffer(blob, dtype=_DTYPES[id_code], count=n, offset=pos)
    ids = np.cumsum(gaps, dtype=np.int64)
    pos += n * _WIDTH_BYTES[id_code]

    if w_mode == _W_ONES:
        weights = np.ones(n, dtype=np.float64)
    elif w_mode == _W_F64:
        weights = np.frombuffer(blob, dtype="<f8", count=n, offset=pos).astype(np.float64)
        pos += n * 8
    else:
        weights = np.frombuffer(blob, dtype=_DTYPES[w_mode - 1], count=n, offset=pos).astype(np.float64)
        pos += n * _WIDTH_BYTES[w_mode - 1]

    if v_mode == _V_NONE:
        return Decoded(ids, weights, b"", None)
    len_code = v_mode - 1
    lengths = np.frombuffer(blob, dtype=_DTYPES[len_code], count=n, offset=pos)
    pos += n * _WIDTH_BYTES[len_code]
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    return Decoded(ids, weights, bytes(blob[pos: pos + int(starts[-1])]), starts)
