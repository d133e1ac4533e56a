"""A segment's postings grouped by term as they arrive: :class:`GroupedPool`.

Whoosh's ``PostingPool`` keeps one tuple per posting ``(field, term, docnum,
weight, value)`` (~150 bytes each), sorts all of them when the segment is
written, and hands them to the codec one by one, which asks the per-document
reader for the field length of every single posting to keep the term's
shortest and longest length.  On the development corpus that was more than
half of a full build's time (bench/README.md, "Build profile").

:class:`GroupedPool` files each posting straight into its term's list (three
references: the document number, shared by all postings of one document,
and the weight and value objects, which ``InterningText`` already shares),
so only the distinct terms are sorted; the codec
(:meth:`indexer.codec.ZhFieldWriter.add_grouped`) then writes term by term,
with each field's lengths read once per document.  The writer that fills it
is :class:`indexer.segwriter.GroupedSegmentWriter`; merges of old segments
add their postings through the same :meth:`GroupedPool.add`.
"""

from __future__ import annotations

from collections.abc import Iterator

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
        for tb, weight, value in zip(tbytes, weights, values, strict=True):
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

    def iter_postings(self) -> GroupedPostings:
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
