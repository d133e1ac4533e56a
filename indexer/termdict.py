"""A sorted, front-coded term dictionary: key bytes → value bytes.

Whoosh's W3 term dictionary is a hash file: every entry pays ~36 bytes of
record and hash-table framing plus a 35-byte term info, ~137 bytes per entry
on the development corpus and half of the whole index (bench/README.md,
"Index size").  Keys arrive sorted (Whoosh's writer sorts its postings), so
here they are stored as Lucene and Tantivy store theirs:

* entries in blocks of ``BLOCK_SIZE``; inside a block each key keeps only
  what differs from the key before it (a prefix length and a suffix);
* an entry is ``prefix length, suffix length, value length`` (one byte
  each; a suffix of 255 bytes or more escapes to four more bytes, since a
  front-matter tag may be that long), the suffix, the value;
* an index of the blocks (first key, file offset, and a number the writer
  attaches to the block: ``base``, see ``codec``) at the end of the file,
  then its offset and a magic string.

A lookup bisects the in-memory list of first keys, then reads one block
(at most ``BLOCK_SIZE`` entries).  The file is read through a buffer
(``mmap`` or ``memoryview``): lookups never seek, so threads may share it.
"""

from __future__ import annotations

import json
import struct
from bisect import bisect_right
from collections.abc import Iterator
from itertools import pairwise

import numpy as np

#: Entries per block: a lookup scans at most this many.
BLOCK_SIZE = 16

MAGIC = b"ZHTDICT1"
_TAIL = struct.Struct("<Q8s")
_HEAD = struct.Struct("<IQI")  # blocks, entries, length of the extras (JSON)
_LONG_SUFFIX = struct.Struct("<I")  # after a suffix length byte of 255


def _common_prefix(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b), 255)
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class TermDictWriter:
    """Writes entries, in strictly increasing key order, to a Whoosh file."""

    def __init__(self, dbfile, block_size: int = BLOCK_SIZE) -> None:
        self._file = dbfile
        self._block_size = block_size
        self._block = bytearray()
        self._in_block = 0
        self._prev: bytes | None = None
        self._written = 0
        self._first_keys: list[bytes] = []
        self._offsets: list[int] = []
        self._bases: list[int] = []
        self._count = 0
        self.extras: dict = {}

    def starts_block(self) -> bool:
        """Whether the next :meth:`add` begins a block (and so records its base)."""
        return self._in_block == 0 or self._in_block == self._block_size

    def add(self, key: bytes, value: bytes, base: int = 0) -> None:
        prev = self._prev
        if prev is not None and key <= prev:
            raise ValueError(f"term dictionary keys out of order: {prev!r} then {key!r}")
        if len(value) > 255:
            raise ValueError(f"term dictionary value of {len(value)} bytes (at most 255)")
        if self._in_block == self._block_size:
            self._flush()
        if self._in_block == 0:
            self._first_keys.append(key)
            self._offsets.append(self._written)
            self._bases.append(base)
            prefix = 0
        else:
            prefix = _common_prefix(prev, key)
        suffix = key[prefix:]
        block = self._block
        if len(suffix) < 255:
            block += bytes((prefix, len(suffix), len(value)))
        else:
            block += bytes((prefix, 255, len(value))) + _LONG_SUFFIX.pack(len(suffix))
        block += suffix
        block += value
        self._in_block += 1
        self._count += 1
        self._prev = key

    def _flush(self) -> None:
        if self._block:
            self._file.write(bytes(self._block))
            self._written += len(self._block)
        self._block = bytearray()
        self._in_block = 0

    def close(self) -> None:
        self._flush()
        index_pos = self._written
        extras = json.dumps(self.extras, ensure_ascii=False).encode("utf-8")
        key_offsets = np.zeros(len(self._first_keys) + 1, dtype="<u4")
        np.cumsum([len(k) for k in self._first_keys], out=key_offsets[1:])
        parts = [
            _HEAD.pack(len(self._first_keys), self._count, len(extras)), extras,
            np.array(self._offsets + [index_pos], dtype="<u8").tobytes(),
            np.array(self._bases, dtype="<u8").tobytes(),
            key_offsets.tobytes(),
            b"".join(self._first_keys),
        ]
        self._file.write(b"".join(parts) + _TAIL.pack(index_pos, MAGIC))
        self._file.close()


class TermDictReader:
    """Reads a dictionary written by :class:`TermDictWriter` from a buffer."""

    def __init__(self, buf) -> None:
        self._buf = buf
        self.buffer = buf  # what it reads from (a memory-mapped file, when opened from one)
        end = len(buf)
        index_pos, magic = _TAIL.unpack(bytes(buf[end - _TAIL.size: end]))
        if magic != MAGIC:
            raise ValueError("not a zhsearch term dictionary (bad magic)")
        nblocks, self.count, extras_len = _HEAD.unpack(bytes(buf[index_pos: index_pos + _HEAD.size]))
        pos = index_pos + _HEAD.size
        self.extras = json.loads(bytes(buf[pos: pos + extras_len]).decode("utf-8"))
        pos += extras_len
        self._offsets = np.frombuffer(buf, dtype="<u8", count=nblocks + 1, offset=pos).tolist()
        pos += 8 * (nblocks + 1)
        self._bases = np.frombuffer(buf, dtype="<u8", count=nblocks, offset=pos).tolist()
        pos += 8 * nblocks
        key_offsets = np.frombuffer(buf, dtype="<u4", count=nblocks + 1, offset=pos).tolist()
        pos += 4 * (nblocks + 1)
        keys = bytes(buf[pos: pos + key_offsets[-1]])
        self._first_keys = [keys[a:b] for a, b in pairwise(key_offsets)]

    def __len__(self) -> int:
        return self.count

    def _block_bytes(self, i: int) -> bytes:
        return bytes(self._buf[self._offsets[i]: self._offsets[i + 1]])

    def find(self, key: bytes) -> tuple[bytes, int] | None:
        """The value stored for ``key`` and its block's base, or None."""
        i = bisect_right(self._first_keys, key) - 1
        if i < 0:
            return None
        for k, value in self._entries(i):
            if k >= key:
                return (value, self._bases[i]) if k == key else None
        return None

    def _entries(self, i: int) -> Iterator[tuple[bytes, bytes]]:
        block = self._block_bytes(i)
        end = len(block)
        pos = 0
        current = b""
        while pos < end:
            prefix, slen, vlen = block[pos], block[pos + 1], block[pos + 2]
            pos += 3
            if slen == 255:
                slen = _LONG_SUFFIX.unpack_from(block, pos)[0]
                pos += _LONG_SUFFIX.size
            current = current[:prefix] + block[pos: pos + slen]
            pos += slen
            yield current, block[pos: pos + vlen]
            pos += vlen

    def items_from(self, key: bytes = b"") -> Iterator[tuple[bytes, bytes, int]]:
        """``(key, value, base)`` for every entry whose key is ``key`` or later."""
        i = max(bisect_right(self._first_keys, key) - 1, 0)
        for b in range(i, len(self._first_keys)):
            base = self._bases[b]
            for k, v in self._entries(b):
                if k >= key:
                    yield k, v, base
