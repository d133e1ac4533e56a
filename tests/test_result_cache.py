"""The per-generation cache of result pages, and the LRU cache it is (search.lru).

A cached page must be indistinguishable from a fresh one, must never
outlive the generation or synonyms it was computed with, and must not be
shared mutable state between callers.
"""

from __future__ import annotations

import dataclasses
import os

from search.engine import Engine, search
from search.lru import LRU
from search.models import Filters
from tests.conftest import build_index, write_article


def _same(a, b) -> bool:
    return dataclasses.replace(a, took_ms=0.0) == dataclasses.replace(b, took_ms=0.0)


def test_a_repeated_query_is_answered_from_the_cache_with_the_same_page(corpus_index):
    engine = Engine(corpus_index)
    first = search(engine, "GPT-4 参数")
    again = search(engine, "GPT-4 参数")
    assert _same(first, again)
    assert again.hits and again.hits[0].path == "chatgpt-info/what-is-chatgpt.md"
    assert len(engine.generation().results) == 1
    # a different page, sort, size or filter is another entry, not a wrong answer
    search(engine, "GPT-4 参数", page=2)
    search(engine, "GPT-4 参数", sort="date")
    search(engine, "GPT-4 参数", per_page=5)
    search(engine, "GPT-4 参数", filters=Filters(tags=["ChatGPT"]))
    assert len(engine.generation().results) == 5
    uncached = Engine(corpus_index, cache_size=0)
    for kw in ({}, {"page": 2}, {"sort": "date"}, {"per_page": 5}, {"filters": Filters(tags=["ChatGPT"])}):
        assert _same(search(engine, "GPT-4 参数", **kw), search(uncached, "GPT-4 参数", **kw)), kw
    assert len(uncached.generation().results) == 0


def test_changing_a_returned_page_does_not_change_the_cache(corpus_index):
    engine = Engine(corpus_index)
    page = search(engine, "部署")
    expected = [h.path for h in page.hits]
    page.hits.clear()
    page.facets.tags.clear()
    again = search(engine, "部署")
    assert [h.path for h in again.hits] == expected and again.facets.tags


def test_a_new_generation_and_new_synonyms_are_seen_at_once(tmp_path):
    corpus, index = tmp_path / "c", tmp_path / "ix"
    write_article(corpus, "a.md", "---\ntitle: 向量数据库\n---\n向量数据库的索引结构。\n")
    build_index(corpus, index)
    engine = Engine(index)
    assert [h.path for h in search(engine, "索引").hits] == ["a.md"]
    assert search(engine, "召回").total == 0
    write_article(corpus, "b.md", "---\ntitle: 倒排索引\n---\n倒排索引与召回。\n")
    build_index(corpus, index)
    assert sorted(h.path for h in search(engine, "索引").hits) == ["a.md", "b.md"]
    assert [h.path for h in search(engine, "召回").hits] == ["b.md"]
    # a synonyms file written next to the corpus applies on the next search
    assert search(engine, "检索").total == 0
    syn = corpus / "synonyms.txt"
    syn.write_text("检索 索引\n", encoding="utf-8")
    os.utime(syn, ns=(1, 1))  # a stamp the engine has surely not seen
    assert sorted(h.path for h in search(engine, "检索").hits) == ["a.md", "b.md"]


def test_the_cache_keeps_only_its_size_most_recent_pages():
    cache = LRU(2)
    for key in ("a", "b", "c"):
        cache.put((key,), key)
    assert cache.get(("a",)) is None
    assert cache.get(("b",)) == "b"  # now the most recent
    cache.put(("d",), "d")
    assert cache.get(("c",)) is None and cache.get(("b",)) == "b" and cache.get(("d",)) == "d"
    assert len(cache) == cache.total == 2
    off = LRU(0)
    off.put(("a",), "a")
    assert off.get(("a",)) is None and len(off) == 0


def test_a_cache_by_bytes_drops_the_oldest_until_within_its_limit():
    cache = LRU(10, size=len)
    made = []

    def make(value):
        def run():
            made.append(value)
            return value
        return run

    assert cache.get_or_make("a", make("aaaa")) == "aaaa"
    assert cache.get_or_make("a", make("other")) == "aaaa" and made == ["aaaa"]  # made once
    cache.get_or_make("b", make("bbbb"))
    cache.get("a")  # a is now the most recent: b goes first
    cache.get_or_make("c", make("cccc"))
    assert "b" not in cache and "a" in cache and "c" in cache and cache.total == 8
    # a value larger than the whole limit is kept until the next one comes
    cache.get_or_make("big", make("x" * 25))
    assert list(cache._items) == ["big"] and cache.total == 25
    cache.put("d", "dd")
    assert "big" not in cache and cache.total == 2
    # replacing a value counts its new size
    cache.put("d", "ddddd")
    assert cache.total == 5 and cache.get("d") == "ddddd"
    cache.clear()
    assert len(cache) == cache.total == 0 and cache.get("d") is None
    off = LRU(0, size=len)
    assert off.get_or_make("a", make("made")) == "made" and off.get_or_make("a", make("again")) == "again"
    assert len(off) == 0
