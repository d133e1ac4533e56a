"""Whoosh's segment writer with postings grouped by term as they arrive.

:class:`GroupedSegmentWriter` is Whoosh's ``SegmentWriter`` with a
:class:`~indexer.pool.GroupedPool` for its postings (see :mod:`indexer.pool`
for why).  Whoosh still does everything per document (stored fields,
columns, lengths, deletions, merges), through the same
:class:`~whoosh.writing.SegmentWriter`; merges add the postings of old
segments through the same ``pool.add``."""

from __future__ import annotations

from whoosh.writing import SegmentWriter

from . import whoosh_compat
from .pool import GroupedPool
from .textfield import InterningText


class GroupedSegmentWriter(SegmentWriter):
    """A ``SegmentWriter`` whose posting pool is a :class:`GroupedPool`, and
    whose ``add_document`` files a text field's postings term by term.

    Whoosh's ``add_document`` makes a tuple per posting and hands each to the
    pool; with ~1,300 postings an article that loop was a third of a build
    (bench/README.md, "Build profile").  Here an ``InterningText`` field's
    postings go straight into their terms' lists.  Every other field is filed
    the way Whoosh files it: its terms to the pool, its stored value, its
    length and its column through the codec's per-document writer.  Features
    our schema does not use (boosts, term vectors, separate spelling fields,
    custom stored values) are refused when the writer opens rather than
    silently dropped.
    """

    def __init__(self, ix, **kwargs) -> None:
        kwargs.pop("limitmb", None)  # the grouped pool does not spill to disk
        super().__init__(ix, **kwargs)
        self.pool = GroupedPool()
        for name, field in self.schema.items():
            if field.vector or field.separate_spelling():
                raise ValueError(f"field {name!r}: term vectors and spelling fields are not supported")

    def add_document(self, **fields) -> None:
        if self.is_closed:
            raise ValueError("this writer is closed")
        unknown = [name for name in fields if name.startswith("_") or name not in self.schema]
        if unknown:
            raise ValueError(f"not fields of the schema (or unsupported options): {sorted(unknown)}")
        pdw = self.perdocwriter
        docnum = self.docnum
        pool = self.pool
        pdw.start_doc(docnum)
        try:
            for name in sorted(fields):
                value = fields[name]
                if value is None:
                    continue
                field = self.schema[name]
                length = 0
                if field.indexed:
                    if isinstance(field, InterningText):
                        length = pool.add_columns(name, docnum, field.columns(value))
                    else:
                        for tbytes, freq, weight, vbytes in field.index(value):
                            length += freq
                            pool.add((name, tbytes, docnum, weight, vbytes))
                pdw.add_field(name, field, value if field.stored else None, length if field.scorable else 0)
                if field.column_type:
                    pdw.add_column_value(name, field.column_type, field.to_column_value(value))
        except Exception:
            pdw.cancel_doc()
            raise
        pdw.finish_doc()
        whoosh_compat.document_added(self)

    def finish_segment(self):
        """Write this writer's segment and return it (None when it got no
        documents); the writer is done afterwards.  For a worker process
        whose segment the parent commits."""
        return whoosh_compat.finish_segment(self)

    def commit_with(self, segments: list) -> None:
        """Commit this writer (its deletions, its own documents, merges of
        small existing segments) together with ``segments`` written by
        worker processes, in one new table of contents."""
        whoosh_compat.commit_with_segments(self, segments)
