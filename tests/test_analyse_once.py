"""A query is analysed once and what it asks for is carried, not recomputed.

The analyzer (jieba behind ``Analyzer.query_units``) runs once per clause a
person typed; synonyms and glossary terms were analysed when their files
were loaded, a region word the first time any query needed it
(``search.units``, ``search.regions``).  The snippet terms are prepared once
per query (``BuiltQuery.prepared``) and serve passage evidence, snippets and
titles alike.
"""

from __future__ import annotations

import pytest

from indexer.analysis import Analyzer
from search import regions, snippets
from search.engine import Engine, search

QUERY = "显存不够 微调 大模型"


@pytest.fixture
def calls(monkeypatch) -> list[str]:
    """The texts ``Analyzer.query_units`` is asked to analyse, in order."""
    seen: list[str] = []
    real = Analyzer.query_units

    def counted(self, text):
        seen.append(text)
        return real(self, text)

    monkeypatch.setattr(Analyzer, "query_units", counted)
    return seen


def test_a_query_is_analysed_once_per_clause(corpus_index, calls):
    engine = Engine(corpus_index, cache_size=0)  # a fresh analyzer: nothing analysed yet
    gen = engine.generation()
    engine.synonyms(gen)  # the glossary and synonyms.txt: their terms are analysed as the files load
    assert len(calls) > 300
    calls.clear()

    page = search(engine, QUERY)
    assert page.total
    clauses = QUERY.split()
    region_forms = set(regions.tables(gen.analyzer).backward["显存"])  # 显示记忆体 (Taiwan), 视讯记忆体 (Hong Kong)
    assert calls[:3] == clauses
    assert set(calls[3:]) == region_forms and len(calls) == len(set(calls))  # each analysed once
    calls.clear()

    search(engine, QUERY)  # the region forms stay analysed with the analyzer
    assert calls == clauses  # one analysis per clause (there were 13 on the first search, 5 after)
    calls.clear()

    # a group, an exclusion and a quoted word: each analysed once, though the
    # query is built twice (with its alternatives, and of the typed words only)
    query = '内存 OR 显存 -java "垃圾回收"'
    search(engine, query)  # (内存's region form is analysed now, the first time it is needed)
    calls.clear()
    page = search(engine, query)
    assert page.total and sorted(calls) == sorted(["内存", "显存", "java", "垃圾回收"])


def test_snippet_terms_are_prepared_once_per_query(engine, monkeypatch):
    made = []
    real = snippets.Prepared.__init__

    def counted(self, *args, **kw):
        made.append(args[0])
        real(self, *args, **kw)

    monkeypatch.setattr(snippets.Prepared, "__init__", counted)
    fresh = Engine(engine.index_dir, cache_size=0)
    page = search(fresh, "GPT-4 参数")
    assert len(page.hits) > 1 and any("<mark>" in h.snippet_html for h in page.hits)
    assert len(made) == 1  # passage evidence, every snippet and every title use the same one
