"""Traditional-script queries in Taiwan's words score like their mainland
equivalents (``search.regions``), on the embedded corpus."""

from __future__ import annotations

import pytest

from search import regions
from search.engine import search
from search.units import Unit, analyse


def paths(page) -> list[str]:
    return [h.path for h in page.hits]


@pytest.fixture
def zh_engine(engine):
    """The session engine (its analyzer is its index's own)."""
    return engine


@pytest.mark.parametrize("taiwan,mainland", [
    ("記憶體 洩漏", "内存 泄漏"),
    ("執行緒池", "线程池"),
    ("快取 伺服器", "缓存 服务器"),
    ("分散式 交易", "分布式 事务"),
    ("ＪＶＭ 調優", "JVM 调优"),
])
def test_taiwan_words_rank_like_the_mainland_ones(zh_engine, taiwan, mainland):
    got, want = paths(search(zh_engine, taiwan)), paths(search(zh_engine, mainland))
    assert want, mainland
    assert got[:3] == want[:3], (taiwan, got, want)


def test_the_mainland_word_is_marked_in_snippets(zh_engine):
    page = search(zh_engine, "記憶體 洩漏")
    assert any("<mark>内存</mark>" in h.snippet_html or "<mark>内存泄漏</mark>" in h.snippet_html
               for h in page.hits)


def _units(engine, text):
    """(unit, alternatives) of a query as the engine reads it."""
    gen = engine.generation()
    an = gen.analyzer
    units = regions.rejoin(analyse(an, text), an)
    tw = regions.taiwanese(units, regions.written_traditional(text, an), an)
    return [(u.text, [a.text for a in u.alts]) for u in regions.resolve(units, gen.counts(gen.searcher()), an, tw)]


def test_a_word_both_regions_use_is_read_as_taiwanese_only_in_a_taiwanese_query(zh_engine):
    assert _units(zh_engine, "交易") == [("交易", [])]  # mainland "trade"
    assert ("事务", ["交易"]) in _units(zh_engine, "分散式 交易")  # 分散式: only Taiwan says it
    assert ("事务", ["交易"]) in _units(zh_engine, "資料庫 交易")  # traditional characters


def test_mainland_words_get_no_taiwanese_words_of_other_meanings(zh_engine):
    assert _units(zh_engine, "运行") == [("运行", [])]  # not 执行 ("execute")
    assert _units(zh_engine, "向量") == [("向量", [])]  # not 矢量


def test_a_taiwan_word_jieba_cuts_is_put_back_together(zh_engine):
    an = zh_engine.analyzer
    assert [u.text for u in regions.rejoin(analyse(an, "快取"), an)] == ["快取"]


def test_region_tables_go_both_ways(zh_engine):
    t = regions.tables(zh_engine.analyzer)
    assert "内存" in t.forward["记忆体"] and "线程" in t.forward["执行绪"]
    assert "记忆体" in t.backward["内存"]  # and back: a mainland word knows the Taiwan wording
    assert "模型" not in t.forward and "模型" not in t.backward


def test_the_analyzer_attaches_no_region_words_this_module_does(zh_engine):
    """Region words have one owner on the query side: a unit as the analyzer
    cuts it has none, and each region word is analysed once, when a query
    first needs it."""
    an = zh_engine.analyzer
    assert [u.alts for u in analyse(an, "記憶體 執行緒")] == [(), ()]
    t = regions.tables(an)
    alt = t.alternative("记忆体")
    assert alt is t.alternative("记忆体") and alt.folded == "记忆体" and not alt.builtin
    assert [u.text for u in alt.units] == [u.text for u in an.query_units("记忆体")]


def test_a_quoted_word_matches_its_region_forms_both_ways(zh_engine):
    an = zh_engine.analyzer
    assert [a.text for a in regions.quoted(Unit("记忆体", "han"), an).alts] == ["内存"]
    assert [a.text for a in regions.quoted(Unit("内存", "han"), an).alts] == ["记忆体"]
    assert regions.quoted(Unit("模型", "han"), an).alts == ()
