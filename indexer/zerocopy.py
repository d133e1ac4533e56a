"""Read compound segments straight from the mmap, without a private copy.

Whoosh opens each sub-file of a memory-mapped compound segment (``.seg``)
as ``BufferFile(memoryview)``, and ``BufferFile`` wraps the view in
``io.BytesIO``, which *copies* it.  Every reader therefore held its own copy
of the postings, term index and stored fields: ~160 MB per searcher on the
development corpus, and ``search.Engine`` keeps one searcher per server
thread, so 8 waitress threads held ~1.3 GB that the page cache already had
(measured with ``bench/load.py``; see docs/RELIABILITY.md).

:class:`MemoryViewFile` gives ``StructFile`` the file interface it uses
(read, seek, tell) over the view itself: a read copies only the bytes asked
for.  Whoosh's compound storage is pointed at it by
``indexer.whoosh_compat.install`` (``ZeroCopyBufferFile``), called when an
index generation is opened or written.
"""

from __future__ import annotations

import io

#: Bytes handed to ``pickle.load`` per ``peek``: most pickles Whoosh reads
#: from segment files are far smaller.
PEEK_WINDOW = 512


class MemoryViewFile(io.RawIOBase):
    """A read-only, seekable file over a ``memoryview`` that never copies it whole."""

    def __init__(self, buf: memoryview) -> None:
        super().__init__()
        self._buf = buf
        self._pos = 0
        self._len = len(buf)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        start = self._pos
        end = self._len if size is None or size < 0 else min(self._len, start + size)
        self._pos = max(start, end)
        return bytes(self._buf[start:end])

    def peek(self, size: int = 0) -> bytes:
        """Lets ``pickle.load`` (Whoosh's ``read_pickle``) take the next bytes
        in one call instead of ~20 small reads; a short window is enough,
        the unpickler asks again when it needs more."""
        start = self._pos
        return bytes(self._buf[start: min(self._len, start + min(max(size, 1), PEEK_WINDOW))])

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._len + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def tell(self) -> int:
        return self._pos
