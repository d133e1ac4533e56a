"""Query side of zhsearch: what a person typed → ranked, highlighted results.

Reads the index, never writes it.  Import what you need from its modules:
``search.engine`` (``Engine``, ``search()``), ``search.models`` (``Filters``,
``Hit``, ``ResultPage``), ``search.query`` (``Ranking``).  This file imports
nothing, so that a module which needs one small piece of the query side
(``zhsearch.settings`` its default cache size, from ``search.lru``) does not
load all of it: ``zhsearch index``, run after every edit, never searches.
"""
