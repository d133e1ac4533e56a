"""Everything zhsearch does to Whoosh beyond its public API, in one place.

zhsearch extends Whoosh through its public extension points (a codec,
field types, tokenizers, query subclasses) and otherwise uses its public
API.  A few things need its internals: one patch, one fixed class and some
private attributes read.  Internals change without notice between releases,
so they live here, and :func:`install` refuses a Whoosh it was not written
for (``Whoosh-Reloaded==2.7.5``, pinned in ``pyproject.toml``) with a message
that says what to do, instead of failing somewhere deep in a search.

The patch, applied by :func:`install` (explicitly, by the code paths that open
or write an index: ``indexer.store.open_current`` and
``indexer.build.update_index``; importing this module changes nothing):

* ``whoosh.filedb.compound.BufferFile`` becomes :class:`ZeroCopyBufferFile`:
  sub-files of a memory-mapped compound segment are read from the mapping
  instead of a private ``BytesIO`` copy per reader (``indexer.zerocopy``).

Used by our own code, never patched into Whoosh:

* :class:`TermListMatcher`, the matcher of our codec's posting lists
  (``indexer.codec``): Whoosh's ``ListMatcher`` with two bugs fixed.

Private state, read through functions so no other module touches it:

* :func:`terms_reader`, :func:`segment_files`: ``SegmentReader._terms`` and
  ``_perdoc``;
* :func:`file_buffer`: ``BufferFile._buf``;
* :func:`bm25f_parameters`: ``BM25F._field_B``;
* :func:`is_null_query`: ``whoosh.query.qcore._NullQuery``.

A segment writer built on ``SegmentWriter``'s private state, for the
writers of ``indexer.segwriter`` and ``indexer.mpwrite``:

* :class:`PoolSegmentWriter`: a ``SegmentWriter`` with a posting pool of
  the caller's, whose ``add_document`` lets a subclass file a field's
  postings itself (:meth:`~PoolSegmentWriter.index_field`), which can be
  opened without the index's write lock (a worker process whose parent
  holds it: the private ``_lk``), and which calls the private steps of
  ``SegmentWriter.commit`` one by one, as Whoosh's own multi-process writer
  does: :meth:`~PoolSegmentWriter.finish_segment` (a worker's segment,
  written but not committed) and :meth:`~PoolSegmentWriter.commit_with`
  (one commit of a writer plus such segments).

Whoosh's own test suite runs against all of this (``tests/test_whoosh_suite.py``).
"""

from __future__ import annotations

from typing import NamedTuple

import whoosh
from whoosh import query as Q
from whoosh.filedb import compound
from whoosh.filedb.structfile import BufferFile, StructFile
from whoosh.matching import ListMatcher
from whoosh.writing import SegmentWriter

from .zerocopy import MemoryViewFile

#: The Whoosh versions whose internals this module was written against.
SUPPORTED_VERSIONS = frozenset({(2, 7, 5)})
DISTRIBUTION = "Whoosh-Reloaded"


class UnsupportedWhooshVersion(RuntimeError):
    """The installed Whoosh is not one this module knows the internals of."""


def _version_string(version: tuple) -> str:
    return ".".join(str(p) for p in version)


def check_version(version: tuple | None = None) -> None:
    """Raise :class:`UnsupportedWhooshVersion` unless ``version`` (default:
    the imported ``whoosh``'s) is one of :data:`SUPPORTED_VERSIONS`."""
    found = tuple(whoosh.__version__ if version is None else version)
    if found in SUPPORTED_VERSIONS:
        return
    wanted = " or ".join(f"{DISTRIBUTION}=={_version_string(v)}" for v in sorted(SUPPORTED_VERSIONS))
    raise UnsupportedWhooshVersion(
        f"zhsearch needs {wanted}, but Whoosh {_version_string(found)} is installed "
        f"(imported from {getattr(whoosh, '__file__', '?')}). zhsearch's codec and patches "
        f"(indexer/whoosh_compat.py) depend on that version's internals; install it with "
        f"`pip install '{wanted}'`, or port indexer/whoosh_compat.py and run Whoosh's own "
        f"test suite against it (tests/test_whoosh_suite.py)."
    )


def install() -> None:
    """Check the Whoosh version, then apply the patch (idempotent).

    Raises :class:`UnsupportedWhooshVersion` on an unknown Whoosh, before
    changing anything."""
    check_version()
    compound.BufferFile = ZeroCopyBufferFile


def installed() -> bool:
    """Whether :func:`install` has patched Whoosh in this process."""
    return compound.BufferFile is ZeroCopyBufferFile


# ------------------------------------------------------------------ patch

class ZeroCopyBufferFile(BufferFile):
    """``BufferFile`` whose file is the view itself rather than a BytesIO copy.

    Whoosh's ``CompoundStorage.open_file`` wraps each sub-file of a
    memory-mapped segment in ``BufferFile(memoryview)``, whose ``BytesIO``
    copies the view: ~160 MB per reader on the development corpus, and the
    engine keeps one reader per server thread (docs/RELIABILITY.md)."""

    def __init__(self, buf, name=None, onclose=None):
        super().__init__(b"", name=name, onclose=onclose)
        self._buf = buf
        self.file = MemoryViewFile(memoryview(buf))

    def subset(self, position, length, name=None):
        return ZeroCopyBufferFile(memoryview(self._buf)[position: position + length],
                                  name=name or self._name)


# --------------------------------------------------------- fixed matcher

class TermListMatcher(ListMatcher):
    """Whoosh's ``ListMatcher`` for a whole posting list held in memory, fixed.

    * ``replace(minquality)`` asked the scorer for the list's quality even
      when the scorer has none: a collector passes its lowest top-N score
      once its heap is full, and ``FunctionWeighting``'s scorer then raised
      ``NotImplementedError`` (Whoosh's ``test_function_weighting``).  A
      matcher whose scores have no known bound cannot be dropped for them.
    * ``copy()`` lost the term and its statistics (``term()``, used to report
      which terms matched, answered None for a copy).
    """

    def __init__(self, ids, weights=None, values=None, format=None, scorer=None, position=0,
                 all_weights=None, term=None, terminfo=None):
        super().__init__(ids, weights, values, format, scorer=scorer, position=position,
                         all_weights=all_weights, term=term, terminfo=terminfo)

    def replace(self, minquality=0):
        if minquality and not self.supports_block_quality():
            minquality = 0
        return super().replace(minquality)

    def copy(self):
        return self.__class__(self._ids, self._weights, self._values, self._format, self._scorer,
                              self._i, self._all_weights, self._term, self._terminfo)


# --------------------------------------------------------- segment writer

class PoolSegmentWriter(SegmentWriter):
    """Whoosh's ``SegmentWriter`` filing postings into ``pool``.

    ``pool`` takes the place of Whoosh's ``PostingPool`` (the same methods:
    ``add``, ``iter_postings``, ``cleanup``, ``fieldnames``); it never
    spills to disk, so ``limitmb`` is ignored.  ``locked=False`` opens the
    writer without taking the index's write lock, for a worker process whose
    parent holds it.

    ``add_document`` is ``SegmentWriter.add_document`` for the features our
    schema uses, with each indexed field's postings filed by
    :meth:`index_field`, which a subclass may file its own way.  Features our
    schema does not use (boosts, term vectors, separate spelling fields,
    custom stored values) are refused rather than silently dropped.
    """

    def __init__(self, ix, pool, *, locked: bool = True, **kwargs) -> None:
        kwargs.pop("limitmb", None)
        super().__init__(ix, _lk=locked, **kwargs)
        self.pool = pool
        for name, field in self.schema.items():
            if field.vector or field.separate_spelling():
                raise ValueError(f"field {name!r}: term vectors and spelling fields are not supported")

    def index_field(self, name: str, field, value, docnum: int) -> int:
        """File the postings of one indexed field of document ``docnum`` into
        the pool and return the field's length (Whoosh's way: a tuple per
        posting)."""
        length = 0
        add = self.pool.add
        for tbytes, freq, weight, vbytes in field.index(value):
            length += freq
            add((name, tbytes, docnum, weight, vbytes))
        return length

    def add_document(self, **fields) -> None:
        if self.is_closed:
            raise ValueError("this writer is closed")
        unknown = [name for name in fields if name.startswith("_") or name not in self.schema]
        if unknown:
            raise ValueError(f"not fields of the schema (or unsupported options): {sorted(unknown)}")
        pdw = self.perdocwriter
        docnum = self.docnum
        pdw.start_doc(docnum)
        try:
            for name in sorted(fields):
                value = fields[name]
                if value is None:
                    continue
                field = self.schema[name]
                length = self.index_field(name, field, value, docnum) if field.indexed else 0
                pdw.add_field(name, field, value if field.stored else None, length if field.scorable else 0)
                if field.column_type:
                    pdw.add_column_value(name, field.column_type, field.to_column_value(value))
        except Exception:
            pdw.cancel_doc()
            raise
        pdw.finish_doc()
        self._added = True
        self.docnum += 1

    def finish_segment(self):
        """Write this writer's segment without committing it and return it
        (None when the writer got no documents); the writer is done
        afterwards.  Another writer commits it (:meth:`commit_with`)."""
        if not self._added:
            self._close_segment()
            return None
        return self._finalize_segment()

    def commit_with(self, segments: list) -> None:
        """Commit this writer — its deletions, its own documents, merges of
        small existing segments — together with ``segments`` other writers
        finished, in one new table of contents (what ``MpWriter`` does for
        its sub-writers)."""
        self._check_state()
        final = self._merge_segments(None, None, None)
        final += [s for s in segments if s is not None]
        if self._added:
            final.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(final)
        self._finish()


# --------------------------------------------------------- private state

def terms_reader(reader):
    """The codec's terms reader of a segment reader (``ZhTermsReader`` for our
    segments); None for readers without one (an empty index's)."""
    return getattr(reader, "_terms", None)


def segment_files(reader) -> list[StructFile]:
    """Every open file a segment reader's terms and per-document readers hold,
    directly or one level down (tests check how they were opened)."""
    holders = [h for h in (getattr(reader, "_terms", None), getattr(reader, "_perdoc", None))
               if h is not None]
    holders += [v for h in list(holders) for v in vars(h).values() if hasattr(v, "dbfile")]
    values = [v for h in holders for v in vars(h).values()]
    values += [f for v in values if isinstance(v, tuple) for f in v]
    return [v for v in values if isinstance(v, StructFile)]


def file_buffer(dbfile) -> memoryview | None:
    """The buffer under a Whoosh ``BufferFile`` (a sub-file of a memory-mapped
    compound segment, or a file of a ``RamStorage``), without copying it;
    None for a file that is not held in memory."""
    buf = getattr(dbfile, "_buf", None) if isinstance(dbfile, BufferFile) else None
    return None if buf is None else memoryview(buf)


class BM25FParameters(NamedTuple):
    """A BM25F model's parameters: ``b`` per field (``field_b``, else ``b``)
    and ``k1``."""

    b: float
    k1: float
    field_b: dict[str, float]

    def b_for(self, fieldname: str) -> float:
        return self.field_b.get(fieldname, self.b)


def bm25f_parameters(weighting) -> BM25FParameters:
    """The parameters of a ``BM25F`` weighting (Whoosh's defaults for a model
    without them).  ``BM25F`` keeps per-field ``B`` values (``title_B=…``) in
    a private dictionary."""
    return BM25FParameters(getattr(weighting, "B", 0.75), getattr(weighting, "K1", 1.2),
                           dict(getattr(weighting, "_field_B", {})))


def stop_writer(writer) -> None:
    """Cancel a writer that failed or was interrupted (the files it would
    clean up may be gone already: a full disk, a removed generation)."""
    try:
        writer.cancel()
    except OSError:
        pass


def is_null_query(q) -> bool:
    """Whether ``q`` is Whoosh's ``NullQuery`` (an instance of a private class:
    ``Q.NullQuery`` is the instance, and copies of it are itself)."""
    return isinstance(q, type(Q.NullQuery))


__all__ = [
    "BM25FParameters", "DISTRIBUTION", "SUPPORTED_VERSIONS", "PoolSegmentWriter", "TermListMatcher",
    "UnsupportedWhooshVersion", "ZeroCopyBufferFile", "bm25f_parameters", "check_version", "file_buffer",
    "install", "installed", "is_null_query", "segment_files", "stop_writer", "terms_reader",
]
