"""Indexing side of zhsearch: reading articles, Chinese analysis, the Whoosh
schema, and writing the index.  Nothing else writes the index.

The modules, in the order an update runs through them:

* ``build``: :func:`update_index`, in three steps: plan (scan the corpus,
  diff it against the live generation), build (write a new generation),
  publish (switch to it).
* ``article``: a markdown file → an ``Article`` (front matter, sections,
  code); ``anchors``, ``permalinks`` and ``site``: the heading ids, URLs and
  settings of the site generator; ``gitdates``: dates from git;
  ``filenames``: an index key for any file name.
* ``document``: an article file → its index fields.
* ``analysis``: the ``Analyzer``, which turns text and queries into terms;
  ``han`` (what a Han character is), ``folding`` and ``segmenter`` under it;
  ``words``: discovery of words the dictionary lacks.
* ``schema``: the fields; ``textfield`` and ``positions``: the text field and
  how a posting's positions are stored; ``stored``: how section texts are
  stored.
* ``segwriter``: a segment, its postings grouped by term in ``pool``;
  ``mpwrite``: a full build's worker processes; ``codec``, ``termdict`` and
  ``postings``: the inverted files on disk.
* ``store``: the index folder (generations, the atomic switch, the writer
  lock, held through ``lockfile``).
* ``whoosh_compat``: every use of Whoosh's internals (``zerocopy``: the file
  mapped segments are read through).
* ``watch`` and ``watchstate``: following the corpus (``--watch``).

Imports point one way (``tests/test_indexer_layout.py`` checks it).
"""

from .build import IndexConfig, IndexReport, update_index

__all__ = ["IndexConfig", "IndexReport", "update_index"]
