"""The segment writer of every index update: postings grouped by term.

:class:`GroupedSegmentWriter` is Whoosh's ``SegmentWriter`` (through
:class:`indexer.whoosh_compat.PoolSegmentWriter`, which holds what it needs
of Whoosh's internals) with a :class:`~indexer.pool.GroupedPool` for its
postings, see :mod:`indexer.pool` for why.  Whoosh still does everything per
document (stored fields, columns, lengths, deletions, merges); merges add the
postings of old segments through the same ``pool.add``.
"""

from __future__ import annotations

from .pool import GroupedPool
from .textfield import InterningText
from .whoosh_compat import PoolSegmentWriter


class GroupedSegmentWriter(PoolSegmentWriter):
    """A segment writer whose posting pool is a :class:`GroupedPool`, and
    which files a text field's postings term by term.

    Whoosh's ``add_document`` makes a tuple per posting and hands each to the
    pool; with ~1,300 postings an article that loop was a third of a build
    (bench/README.md, "Build profile").  Here an ``InterningText`` field's
    postings go straight into their terms' lists.  Every other field is filed
    the way Whoosh files it: its terms to the pool, its stored value, its
    length and its column through the codec's per-document writer.

    ``locked=False``: a worker process's writer, whose parent holds the
    index's write lock (``indexer.mpwrite``).
    """

    def __init__(self, ix, *, locked: bool = True, **kwargs) -> None:
        super().__init__(ix, GroupedPool(), locked=locked, **kwargs)

    def index_field(self, name: str, field, value, docnum: int) -> int:
        if isinstance(field, InterningText):
            return self.pool.add_columns(name, docnum, field.columns(value))
        return super().index_field(name, field, value, docnum)
