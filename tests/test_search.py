"""Searching: ranking, snippets and highlights, query syntax, filters, facets,
paging, suggestions and the JSON shape — on the embedded corpus (session
``engine``) and on a small purpose-built corpus."""

from __future__ import annotations

import dataclasses
import html
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer import store
from search.engine import Engine, search
from search.models import Facets, FacetValue, Filters, Hit, ResultPage
from search.syntax import MAX_QUERY_CHARS
from tests.conftest import build_index, write_article

SEED = "chatgpt-info/what-is-chatgpt.md"


def paths(page: ResultPage) -> list[str]:
    return [h.path for h in page.hits]


def no_markup_but_mark(fragment: str) -> bool:
    """Only <mark>…</mark> may appear as markup in an HTML fragment."""
    rest = fragment.replace("<mark>", "").replace("</mark>", "")
    return "<" not in rest and ">" not in rest


def broken_compound_mark(fragment: str) -> bool:
    return bool(re.search(r"<mark>gpt</mark>-\d|gpt-<mark>\d", fragment, re.I))


# ======================================================= embedded corpus (engine)


@pytest.fixture
def zh_engine(engine):
    """The session engine (its analyzer is its index's own, whatever other
    tests in this process build)."""
    return engine


def test_gpt4_parameters_seed_first_with_snippet_from_gpt4_paragraph(zh_engine):
    page = search(zh_engine, "GPT-4 参数")
    assert page.total >= 1
    top = page.hits[0]
    assert top.path == SEED
    assert top.title == "ChatGPT是什么？"
    assert top.url == "/chatgpt-info/what-is-chatgpt.html"
    s = top.snippet_html
    assert "<mark>GPT-4</mark>" in s
    assert "<mark>参数</mark>" in s
    assert "5000亿" in s
    assert "GPT-3.5" not in s and "2000亿" not in s  # not the GPT-3.5 paragraph
    assert top.section == "GPT模型的发展历程"
    assert top.anchor == "gpt模型的发展历程"
    assert 40 <= len(html.unescape(re.sub(r"</?mark>", "", s))) <= 170
    assert top.tags == ["ChatGPT", "OpenApi"]
    assert top.categories == ["ChatGPT账号"]
    assert top.date == "2024-02-24T12:10:08"


@pytest.mark.parametrize("q", ["GPT-4 参数", "GPT-4", "gpt-4"])
def test_compounds_are_marked_whole(zh_engine, q):
    page = search(zh_engine, q, per_page=20)
    assert page.hits
    assert any("<mark>GPT-4</mark>" in h.snippet_html for h in page.hits)
    for h in page.hits:
        assert not broken_compound_mark(h.snippet_html), h.snippet_html
        assert not broken_compound_mark(h.title_html), h.title_html


@pytest.mark.parametrize("q", ["gpt4", "GPT 4", "ＧＰＴ－４"])
def test_gpt4_variants_find_the_seed(zh_engine, q):
    assert SEED in paths(search(zh_engine, q))


def test_spelling_suggestion_latin(zh_engine):
    page = search(zh_engine, "chatgtp")
    assert page.suggestion == "chatgpt"
    page = search(zh_engine, "ChatGPT")
    assert page.suggestion is None


def test_spelling_suggestion_replaces_whole_words(zh_engine):
    # cha → chat must not land inside the chatgpt that chatgp became
    assert search(zh_engine, "chatgp cha").suggestion == "chatgpt chat"
    assert search(zh_engine, "ChatGP Cha").suggestion == "chatgpt chat"


@pytest.mark.parametrize("q", ["模形参数", "自燃语言", "火星殖民计划"])
def test_no_suggestion_for_chinese(zh_engine, q):
    assert search(zh_engine, q).suggestion is None


def test_result_page_json_shape(zh_engine):
    page = search(zh_engine, "GPT-4 参数", per_page=3)
    d = page.to_dict()
    assert set(d) == {"query", "total", "page", "per_page", "took_ms", "note", "suggestion", "hits", "facets"}
    assert d["query"] == "GPT-4 参数"
    assert d["page"] == 1 and d["per_page"] == 3 and d["total"] == page.total
    assert isinstance(d["took_ms"], float)
    assert len(d["hits"]) == 3
    hit_keys = {"path", "title", "url", "date", "tags", "categories", "score", "title_html",
                "snippet_html", "section", "anchor", "sections"}
    assert {f.name for f in dataclasses.fields(Hit)} == hit_keys
    for h in d["hits"]:
        assert set(h) == hit_keys
        assert isinstance(h["tags"], list) and isinstance(h["score"], float)
        assert 1 <= len(h["sections"]) <= 3
        for s in h["sections"]:
            assert set(s) == {"heading", "heading_html", "anchor", "snippet_html"}
        # the first section is the one the hit's snippet comes from
        first = h["sections"][0]
        assert (first["heading"], first["anchor"], first["snippet_html"]) == (h["section"], h["anchor"],
                                                                              h["snippet_html"])
    assert set(d["facets"]) == {"tags", "categories"}
    for fv in d["facets"]["tags"] + d["facets"]["categories"]:
        assert set(fv) == {"value", "count"}
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d


def test_engine_stats(zh_engine):
    st_ = zh_engine.stats()
    assert st_["documents"] == 100
    assert st_["generation"].startswith("gen-")


# ========================================================= purpose-built corpus


def fm(title: str, date: str, tags=(), cats=()) -> str:
    t = "".join(f"\n  - '{x}'" for x in tags)
    c = "".join(f"\n  - '{x}'" for x in cats)
    return f"---\ntitle: '{title}'\ndate: {date}\ntags:{t or ' []'}\ncategories:{c or ' []'}\n---\n\n"


SMALL = {
    "gpt4.md": fm("大模型发展", "2024-03-01", ["LLM", "OpenAI"], ["AI"])
    + "GPT-4 拥有超过5000亿参数，支持多模态输入。\n",
    "gpt3.md": fm("早期模型", "2023-05-01", ["llm"], ["AI"])
    + "GPT-3 的参数量达到1750亿，是当时最大的语言模型。\n",
    "nlp-exact.md": fm("语言技术", "2022-01-01", ["NLP"], ["AI"])
    + "自然语言处理是人工智能的重要方向，研究计算机如何理解文本。\n",
    "nlp-loose.md": fm("文本笔记", "2021-01-01", ["NLP"], ["笔记"])
    + "关于自然语言的处理，计算机需要先把文本切分成词。\n",
    "prc.md": fm("国家", "2020-06-01") + "中华人民共和国成立于一九四九年。\n",
    "prc-word.md": fm("政体", "2020-07-01") + "这个人民共和国的历史很长，人民共和国是一种国家政体。\n",
    "toolbox.md": fm("箱子", "2019-01-01") + "我们的测试工具箱里有很多东西。\n",
    "tool.md": fm("锤子", "2019-02-01") + "锤子是常用的工具，工具要放好。\n",
    "xss.md": fm("<script>alert(1)</script> 跨站", "2018-01-01", ["安全"], ["安全"])
    + "防御跨站脚本攻击：页面不能原样输出 `<script>alert(1)</script>` 这样的代码。\n",
}
for _i in range(1, 13):
    SMALL[f"pages/p{_i:02d}.md"] = (
        fm(f"分页文章{_i}", f"2010-{_i:02d}-15", ["奇数" if _i % 2 else "偶数"], ["分页"])
        + "分页测试。" * _i + f"这是第 {_i} 篇用于分页测试的文章。\n"
    )


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("search-small")
    for rel, text in SMALL.items():
        write_article(root / "c", rel, text)
    index = root / "ix"
    r = build_index(root / "c", index)
    assert r.skipped == [] and r.total == len(SMALL)
    return Engine(index)


def s(engine, q, **kw) -> ResultPage:
    return search(engine, q, per_page=kw.pop("per_page", 50), **kw)


def test_exact_word_ranks_above_loose_match(small):
    page = s(small, "自然语言处理")
    assert paths(page)[:2] == ["nlp-exact.md", "nlp-loose.md"]
    assert page.total == 2


def test_substring_recall_ranked_below_word_match(small):
    assert paths(s(small, "人民共和国")) == ["prc-word.md", "prc.md"]
    assert paths(s(small, "工具")) == ["tool.md", "toolbox.md"]
    snippet = s(small, "人民共和国").hits[1].snippet_html
    assert "中华<mark>人民共和国</mark>" in snippet


def test_gpt4_is_not_gpt3(small):
    assert paths(s(small, "GPT-4")) == ["gpt4.md"]
    assert paths(s(small, "GPT-3")) == ["gpt3.md"]
    for q in ("gpt4", "gpt-4", "ＧＰＴ－４"):
        assert paths(s(small, q)) == ["gpt4.md"], q
    # two words: the article with both comes first; partial matches only after it, noted
    page = s(small, "GPT 4")
    assert paths(page)[0] == "gpt4.md"
    if len(page.hits) > 1:
        assert page.note


def test_quoted_phrase(small):
    assert paths(s(small, '"自然语言处理"')) == ["nlp-exact.md"]
    assert paths(s(small, '"超过5000亿参数"')) == ["gpt4.md"]
    assert paths(s(small, '"参数超过"')) == []
    # unbalanced quotes are closed, not an error
    assert paths(s(small, '"自然语言处理')) == ["nlp-exact.md"]


def test_exclusion(small):
    assert paths(s(small, "参数 -GPT-4")) == ["gpt3.md"]
    assert set(paths(s(small, "参数"))) == {"gpt4.md", "gpt3.md"}
    assert paths(s(small, "自然语言处理 -计算机")) == []
    page = s(small, "-GPT-4")  # only an exclusion: nothing to rank, no error
    assert isinstance(page, ResultPage)


def test_or(small):
    assert set(paths(s(small, "GPT-3 OR 自然语言处理"))) == {"gpt3.md", "nlp-exact.md", "nlp-loose.md"}
    assert set(paths(s(small, "GPT-3 OR 锤子"))) == {"gpt3.md", "tool.md"}
    page = s(small, "参数 GPT-3 OR 锤子")  # 参数 AND (GPT-3 OR 锤子)
    assert paths(page)[0] == "gpt3.md"
    assert page.note and "1" in page.note  # the rest is a noted most-words backfill


def test_tag_filter_case_insensitive(small):
    for q in ("tag:llm", "tag:LLM", "tag:Llm", "标签:llm"):
        assert set(paths(s(small, q))) == {"gpt4.md", "gpt3.md"}, q
    assert paths(s(small, "参数 tag:openai")) == ["gpt4.md"]


def test_category_title_and_date_filters(small):
    assert set(paths(s(small, "category:ai"))) == {"gpt4.md", "gpt3.md", "nlp-exact.md"}
    assert set(paths(s(small, "category:AI 语言"))) <= {"gpt3.md", "nlp-exact.md"}
    assert paths(s(small, "title:国家")) == ["prc.md"]  # prc-word.md says 国家 only in its body
    assert set(paths(s(small, "国家"))) == {"prc.md", "prc-word.md"}
    assert paths(s(small, "date:2024")) == ["gpt4.md"]
    assert set(paths(s(small, "date:2023..2024-06"))) == {"gpt3.md", "gpt4.md"}
    assert set(paths(s(small, "date:2023-05"))) == {"gpt3.md"}
    assert set(paths(s(small, "date:..2019-12 工具"))) == {"tool.md", "toolbox.md"}
    page = s(small, "date:昨天 参数")
    assert page.note and "昨天" in page.note
    assert set(paths(page)) == {"gpt4.md", "gpt3.md"}


def test_filters_parameter(small):
    assert set(paths(s(small, "参数", filters=Filters(tags="LLM")))) == {"gpt4.md", "gpt3.md"}
    assert paths(s(small, "", filters=Filters(categories=["AI"], tags=["nlp"]))) == ["nlp-exact.md"]
    assert paths(s(small, "参数", filters=Filters(date="2024"))) == ["gpt4.md"]
    assert paths(s(small, "", filters=Filters(tags=["openai"]))) == ["gpt4.md"]


def test_filters_combine_with_and(small):
    assert len(paths(s(small, "tag:奇数 category:分页"))) == 6
    assert paths(s(small, "tag:奇数 tag:偶数")) == []
    assert paths(s(small, "tag:llm category:笔记")) == []
    assert paths(s(small, "tag:nlp category:笔记")) == ["nlp-loose.md"]


def test_facets_count_the_whole_result_set(small):
    page = s(small, "分页测试", per_page=3)
    assert page.total == 12 and len(page.hits) == 3
    tags = {f.value: f.count for f in page.facets.tags}
    cats = {f.value: f.count for f in page.facets.categories}
    assert tags == {"奇数": 6, "偶数": 6}
    assert cats == {"分页": 12}
    page2 = s(small, "分页测试", per_page=3, page=3)
    assert page2.facets == page.facets
    filtered = s(small, "分页测试 tag:奇数", per_page=2)
    assert filtered.total == 6
    assert {f.value: f.count for f in filtered.facets.tags} == {"奇数": 6}
    # labels keep the spelling most articles use; values are folded for matching
    llm = s(small, "tag:llm").facets.tags
    assert [f.count for f in llm if f.value.lower() == "llm"] == [2]
    assert all(isinstance(f, FacetValue) for f in llm)
    assert isinstance(page.facets, Facets)


def test_paging_is_stable(small):
    all_ = paths(s(small, "分页测试", per_page=12))
    assert len(all_) == 12
    pages = [paths(s(small, "分页测试", per_page=5, page=p)) for p in (1, 2, 3)]
    assert [len(p) for p in pages] == [5, 5, 2]
    flat = [x for p in pages for x in p]
    assert len(set(flat)) == 12
    assert flat == all_
    beyond = s(small, "分页测试", per_page=5, page=4)
    assert beyond.hits == [] and beyond.total == 12
    assert s(small, "分页测试", per_page=5).pages == 3


def test_paging_is_stable_with_most_words_backfill(small):
    # 6 articles hold both words (奇数 is a tag, indexed as a keyword), 6 only one
    all_ = s(small, "分页测试 奇数", per_page=50)
    n = all_.total
    assert n >= 12 and len(all_.hits) == n and all_.note
    top = paths(all_)
    assert set(top[:6]) == {f"pages/p{i:02d}.md" for i in range(1, 13, 2)}
    pages = [s(small, "分页测试 奇数", per_page=4, page=p) for p in range(1, -(-n // 4) + 1)]
    assert all(pg.total == n for pg in pages)
    flat = [x for pg in pages for x in paths(pg)]
    assert len(set(flat)) == n
    assert flat == top


def test_sort_by_date_newest_first(small):
    page = s(small, "分页测试", sort="date", per_page=12)
    dates = [h.date for h in page.hits]
    assert dates == sorted(dates, reverse=True)
    assert page.hits[0].path == "pages/p12.md"
    # relevance order is different (p12 has the most occurrences, but so what): ties
    # aside, both orders hold the same documents
    assert set(paths(page)) == set(paths(s(small, "分页测试", per_page=12)))
    filt = s(small, "category:AI", sort="date")
    assert paths(filt) == ["gpt4.md", "gpt3.md", "nlp-exact.md"]


def test_relaxed_fallback_sets_a_note(small):
    page = s(small, "模型 火星")
    assert page.total >= 1
    assert page.note
    assert set(paths(page)) <= {"gpt4.md", "gpt3.md"}
    full = s(small, "模型 参数")
    assert full.note is None


def test_overlong_query_is_cut_with_a_note(small):
    q = "参数 " + "很长的查询" * 100
    page = s(small, q)
    assert page.note and str(MAX_QUERY_CHARS) in page.note
    assert len(page.query) <= MAX_QUERY_CHARS


def test_html_is_escaped_except_marks(small):
    page = s(small, "跨站")
    assert paths(page) == ["xss.md"]
    h = page.hits[0]
    assert h.title == "<script>alert(1)</script> 跨站"
    assert h.title_html == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>跨站</mark>"
    assert no_markup_but_mark(h.snippet_html)
    assert "&lt;script&gt;" in h.snippet_html  # the code text is shown, escaped
    assert "<mark>跨站</mark>" in h.snippet_html
    # even when the query itself is markup
    page = s(small, "<script>alert(1)</script>")
    for h in page.hits:
        assert no_markup_but_mark(h.title_html) and no_markup_but_mark(h.snippet_html)


def test_empty_and_whitespace_queries(small):
    for q in ("", "   ", "\u3000", "的"):
        page = s(small, q)
        assert isinstance(page, ResultPage)
    assert s(small, "").total == 0


def test_page_and_per_page_are_clamped(small):
    page = search(small, "分页测试", page=0, per_page=0)
    assert page.page == 1 and page.per_page == 1 and len(page.hits) == 1
    page = search(small, "分页测试", page=-3, per_page=10_000)
    assert page.page == 1 and page.per_page == 100


def test_search_reopens_after_an_update(tmp_path):
    write_article(tmp_path / "c", "a.md", "# 甲\n\n旧内容讲缓存。\n")
    build_index(tmp_path / "c", tmp_path / "ix")
    e = Engine(tmp_path / "ix")
    assert paths(search(e, "缓存")) == ["a.md"]
    write_article(tmp_path / "c", "b.md", "# 乙\n\n新文章也讲缓存。\n")
    build_index(tmp_path / "c", tmp_path / "ix")
    assert set(paths(search(e, "缓存"))) == {"a.md", "b.md"}


def test_missing_index_raises_index_missing(tmp_path):
    with pytest.raises(store.IndexMissing, match="zhsearch index"):
        search(tmp_path / "nope", "参数")


# ------------------------------------------------------------------ hypothesis

SOUP = st.sampled_from([
    '"', "'", "(", ")", "*", "?", "tag:", "category:", "title:", "date:", "标签:", "分类：", "-", "--",
    "OR", "AND", "NOT", "or", "GPT-4", "gpt4", "参数", "自然语言处理", "..", "2024", "2023-13-45",
    "date:2024..", "date:..", "date:>2020", ":", "：", "“", "”", "\\", "\u3000", "^", "~", "{", "}",
    "[", "]", "/", "*?", "-\"", '""', "<mark>", "</mark>", "<script>", "&amp;", "\x00", "\t", "\n",
    "𠀀", "ﬁ", "㈱", "記憶體", "🚀", "C++", ".NET", "5000亿", " ", " ", " ",
])
QUERIES = st.one_of(
    st.text(),
    st.lists(SOUP, max_size=12).map("".join),
    st.lists(st.one_of(SOUP, st.text(max_size=4)), max_size=10).map(" ".join),
)


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(q=QUERIES, page=st.integers(min_value=-2, max_value=3), sort=st.sampled_from(["relevance", "date"]))
def test_any_query_returns_a_result_page(small, q, page, sort):
    res = search(small, q, page=page, per_page=5, sort=sort)
    assert isinstance(res, ResultPage)
    assert res.total >= len(res.hits)
    assert len(res.hits) <= 5
    for h in res.hits:
        assert no_markup_but_mark(h.title_html)
        assert no_markup_but_mark(h.snippet_html)
    json.dumps(res.to_dict())
