"""Whoosh's segment writer with postings grouped by term as they arrive.

Whoosh's ``PostingPool`` keeps one tuple per posting ``(field, term, docnum,
weight, value)`` (~150 bytes each), sorts all of them when the segment is
written, and hands them to the codec one by one, which asks the per-document
reader for the field length of every single posting to keep the term's
shortest and longest length.  On the development corpus that was more than
half of a full build's time (bench/README.md, "Build profile").

:class:`GroupedPool` files each posting straight into its term's list (three
references: the document number, shared by all postings of one document,
and the weight and value objects, which ``InterningText`` already shares),
so only the distinct terms are sorted; :meth:`ZhFieldWriter.add_grouped
<indexer.codec.ZhFieldWriter.add_grouped>` then writes term by term, with
each field's lengths read once per document.  Whoosh still does everything
per document (stored fields, columns, lengths, deletions, merges), through
the same :class:`~whoosh.writing.SegmentWriter`; merges add the postings of
old segments through the same ``pool.add``.
"""

from __future__ import annotations

from collections.abc import Iterator

from whoosh.writing import SegmentWriter

from . import whoosh_compat
from .codec import InterningText

#: Estimated bytes a posting costs in a :class:`GroupedPool`: three list
#: slots (plus list growth); the term's list and key are counted once per term.
POSTING_BYTES = 32
TERM_BYTES = 160


class GroupedPool:
    """A segment's postings, grouped per field and term, in arrival order.

    Document numbers only grow as a writer adds documents (new ones first,
    then the documents of merged segments), so every term's list is in
    document order without sorting.
    """

    def __init__(self) -> None:
        self.fields: dict[str, dict[bytes, list]] = {}
        self.fieldnames: set[str] = set()  # what Whoosh's pool offers its callers
        self.postings = 0
        self.terms = 0

    def add(self, item) -> None:
        fieldname, tbytes, docnum, weight, value = item
        if docnum < 0:  # Whoosh's marker for spelling words: we keep none
            return
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        lst = terms.get(tbytes)
        if lst is None:
            terms[tbytes] = [docnum, weight, value]
            self.terms += 1
        else:
            lst += (docnum, weight, value)
        self.postings += 1

    def add_columns(self, fieldname: str, docnum: int, columns) -> int:
        """One document's postings of a field as ``InterningText.columns``
        gives them (term bytes, frequencies, weights, values); returns the
        field's length (the sum of the frequencies, as Whoosh counts it)."""
        tbytes, freqs, weights, values = columns
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        get = terms.get
        new = 0
        for tb, weight, value in zip(tbytes, weights, values):
            lst = get(tb)
            if lst is None:
                terms[tb] = [docnum, weight, value]
                new += 1
            else:
                lst += (docnum, weight, value)
        self.postings += len(tbytes)
        self.terms += new
        return sum(freqs)

    @property
    def size(self) -> int:
        """Estimated memory held, in bytes."""
        return self.postings * POSTING_BYTES + self.terms * TERM_BYTES

    def iter_postings(self) -> "GroupedPostings":
        return GroupedPostings(self)

    def cleanup(self) -> None:
        self.fields = {}


class GroupedPostings:
    """What ``GroupedPool.iter_postings`` gives the codec: grouped terms for
    a field writer that knows them (``add_grouped``), or Whoosh's flat
    ``(field, term, docnum, weight, value)`` stream in order for any other."""

    def __init__(self, pool: GroupedPool) -> None:
        self.pool = pool

    def fields(self) -> Iterator[tuple[str, list[tuple[bytes, list]]]]:
        """``(fieldname, [(term, [docnum, weight, value, docnum, …]), …])``,
        fields and terms in order."""
        for fieldname in sorted(self.pool.fields):
            yield fieldname, sorted(self.pool.fields[fieldname].items())

    def __iter__(self):
        for fieldname, terms in self.fields():
            for tbytes, lst in terms:
                for i in range(0, len(lst), 3):
                    yield fieldname, tbytes, lst[i], lst[i + 1], lst[i + 2]


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
