"""Indexing side of zhsearch: reading articles, Chinese analysis, the Whoosh
schema, and writing the index.  Nothing else writes the index."""

from .build import IndexConfig, IndexReport, update_index

__all__ = ["IndexConfig", "IndexReport", "update_index"]
