"""Each document's tags and categories, for counting facets over a whole
result set without re-reading the index for every query.

Whoosh's overlapping facet (``FieldFacet(..., allow_overlap=True)``) builds,
for every query and every segment, a list of each document's terms by
walking every term and posting list of the field: ~4 ms per facet and
segment, a fifth of a query's time on the development corpus (cProfile in
bench/README.md).  Those lists only change with the segment, so
:class:`SegmentTermLists` keeps them per segment for the life of a
generation; ``search.vector.SegmentArrays.facet`` turns them into arrays
that one ``numpy.bincount`` per query counts.
"""

from __future__ import annotations

import threading


class SegmentTermLists:
    """Per segment and field: docnum -> the field's terms in that document."""

    def __init__(self) -> None:
        self._lists: dict[tuple[str, str], list[list[str]]] = {}
        self._lock = threading.Lock()

    def get(self, segment_searcher, fieldname: str) -> list[list[str]]:
        reader = segment_searcher.reader()
        key = (reader.segment().segment_id(), fieldname)
        lists = self._lists.get(key)
        if lists is None:
            lists = _term_lists(segment_searcher, fieldname)
            with self._lock:
                self._lists.setdefault(key, lists)
        return lists


def _term_lists(segment_searcher, fieldname: str) -> list[list[str]]:
    reader = segment_searcher.reader()
    field = segment_searcher.schema[fieldname]
    lists: list[list[str]] = [[] for _ in range(segment_searcher.doc_count_all())]
    for btext in field.sortable_terms(reader, fieldname):
        text = field.from_bytes(btext)
        for docid in reader.postings(fieldname, btext).all_ids():
            lists[docid].append(text)
    return lists
