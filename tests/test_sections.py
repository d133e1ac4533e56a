"""A hit's best matching sections (``Hit.sections``, what the search box
lists under an article as DocSearch does), the marks of one typed word shown
as one, and the "most words" note only where it makes sense."""

from __future__ import annotations

import re
import shutil

import pytest

from indexer.analysis import Analyzer
from indexer.stored import encode as encode_with
from indexer.stored import original_slice, original_text
from search.engine import Engine, search
from search.snippets import Joined, Prepared, chips, find_folded, make_snippet, make_snippets, mark
from tests.conftest import CORPUS, build_index, write_article

fold = Analyzer().fold


def encode(heading: str, anchor: str, text: str):
    return encode_with(heading, anchor, text, fold(text))


def marks(fragment: str) -> list[str]:
    return re.findall(r"<mark>(.*?)</mark>", fragment)


GUIDE = """---
title: 数据库事务指南
date: 2024-01-02
---

前言：本文介绍数据库的基本概念。

## 事务隔离级别

事务隔离级别决定了并发事务之间能看到什么。SQL 标准定义了四种事务隔离级别。

## 存储引擎

InnoDB 是 MySQL 默认的存储引擎。

## 读已提交

读已提交是一种常用的隔离级别：每次读取都只看到已经提交的数据。

## 可重复读

在可重复读这个隔离级别下，同一个事务内多次读取的结果一致。

## 锁

行锁与表锁的区别。
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    base = tmp_path_factory.mktemp("sections")
    corpus = base / "corpus"
    write_article(corpus, "db/guide.md", GUIDE)
    write_article(corpus, "db/engine.md", "---\ntitle: 存储引擎\n---\n\n事务与存储引擎的关系。\n")
    write_article(corpus, "arch/micro.md", "---\ntitle: 架构风格\n---\n\n微服务架构是一种架构风格。\n")
    shutil.copy(CORPUS / "userdict.txt", corpus / "userdict.txt")
    build_index(corpus, base / "ix")
    return Engine(base / "ix", cache_size=0)


def guide(page):
    return next(h for h in page.hits if h.path == "db/guide.md")


# ------------------------------------------------------------ sections per hit

def test_a_hit_lists_its_best_sections_each_with_its_anchor(engine):
    hit = guide(search(engine, "事务隔离级别"))
    assert [s.heading for s in hit.sections] == ["事务隔离级别", "可重复读", "读已提交"]
    assert [s.anchor for s in hit.sections] == ["事务隔离级别", "可重复读", "读已提交"]
    # the first is the section the hit's own snippet comes from
    first = hit.sections[0]
    assert (first.heading, first.anchor, first.snippet_html) == (hit.section, hit.anchor, hit.snippet_html)
    assert first.heading_html == "<mark>事务隔离级别</mark>"
    assert hit.sections[1].heading_html == "可重复读"  # escaped, nothing to mark
    for s in hit.sections:
        assert marks(s.snippet_html), s
        assert re.sub(r"</?mark>", "", s.snippet_html).count("<") == 0


def test_sections_in_the_json_and_none_when_only_the_title_matches(engine):
    page = search(engine, "存储引擎")
    d = page.to_dict()
    by_path = {h["path"]: h for h in d["hits"]}
    assert [s["heading"] for s in by_path["db/guide.md"]["sections"]] == ["存储引擎"]
    assert set(by_path["db/guide.md"]["sections"][0]) == {"heading", "heading_html", "anchor", "snippet_html"}
    title_only = search(engine, "指南")  # in the title of the guide, nowhere in its text
    hit = guide(title_only)
    assert hit.sections == [] and hit.title_html == "数据库事务<mark>指南</mark>"
    assert hit.snippet_html.startswith("前言")  # the article's first text, as before


def test_other_sections_need_half_the_units_of_the_best():
    sections = [encode("全部", "all", "甲乙丙都在这一句里。"),
                encode("只有丙", "c", "这里只说丙。"),
                encode("甲和乙", "ab", "甲很重要。乙也很重要。"),
                encode("乙和丙", "bc", "乙与丙。")]
    terms = [["甲"], ["乙"], ["丙"]]
    got = make_snippets(sections, terms, fold, limit=3)
    assert [s.anchor for s in got] == ["all", "bc", "ab"]  # the tighter pair first; "c" holds 1 of 3
    assert [s.units for s in got] == [3, 2, 2]
    assert make_snippets(sections, terms, fold, limit=1) == got[:1]
    assert make_snippet(sections, terms, fold) == got[0]
    assert make_snippets(sections, terms, fold, limit=3, doc=Joined.of(sections, fold)) == got


def test_a_section_stored_as_written_is_marked_at_its_original_offsets():
    # "…" folds to "..." and "ﬁ" to "fi": the section is stored as written
    text = "前言……很长。" * 20 + "ﬁne tuning 与 LoRA 微调的参数。"
    sections = [encode("", "", "开头。"), encode("微调", "wei-tiao", text)]
    assert sections[1][3] is None
    snip = make_snippets(sections, [["lora"], ["参数"]], fold, limit=3)[0]
    assert snip.anchor == "wei-tiao"
    assert marks(snip.html) == ["LoRA", "参数"]


@pytest.mark.parametrize("text", ["", "纯中文", "GPT-4 与 ＬｏＲＡ 的參數，MIXED Case 和 ＡＢＣ",
                                  "ABC" * 40 + "中文" + "Ｄ" * 30])
def test_original_slice_is_a_slice_of_the_original(text):
    sec = encode("", "", text)
    full = original_text(sec)
    for lo in range(0, len(text) + 1, 3):
        for hi in range(lo, len(text) + 3, 7):
            assert original_slice(sec, lo, hi) == full[lo:hi], (lo, hi)


# ------------------------------------------------ one typed word, one mark

def test_a_typed_word_jieba_splits_is_one_mark(engine):
    hit = guide(search(engine, "事务隔离级别"))
    assert "<mark>事务隔离级别</mark>" in hit.snippet_html
    for s in hit.sections:
        assert "</mark><mark>" not in s.snippet_html
    assert "<mark>隔离级别</mark>" in hit.sections[2].snippet_html  # a part of the word, still one mark
    # two words typed: two marks, even side by side
    two = guide(search(engine, "事务 隔离级别"))
    assert "<mark>事务</mark><mark>隔离级别</mark>" in two.snippet_html


def test_the_whole_word_is_marked_even_with_a_character_that_is_no_term(engine):
    hit = next(h for h in search(engine, "微服务架构").hits if h.path == "arch/micro.md")
    assert marks(hit.snippet_html)[0] == "微服务架构"


def test_chips_join_adjacent_marks_of_one_word_only():
    text = "微服务架构与服务架构，事务隔离"
    p = Prepared([["服务"], ["架构"], ["事务"], ["隔离"]], words=["微服务架构", "微服务架构", "事务", "隔离"])
    folded, offsets = fold(text)
    shown = chips(folded, offsets, find_folded(folded, offsets, p), p)
    assert mark(text, shown) == "<mark>微服务架构</mark>与<mark>服务架构</mark>，<mark>事务</mark><mark>隔离</mark>"
    plain = Prepared([["服务"], ["架构"]])  # without the typed words: every unit a word of its own
    assert mark(text, chips(folded, offsets, find_folded(folded, offsets, plain), plain)).startswith(
        "微<mark>服务</mark><mark>架构</mark>")


def test_results_page_and_titles_show_the_word_as_typed(engine, make_app):
    page = make_app(engine.index_dir).test_client().get("/search?q=事务隔离级别").get_data(as_text=True)
    assert "<mark>事务隔离级别</mark>" in page and "</mark><mark>" not in page
    assert guide(search(engine, "事务指南")).title_html == "数据库<mark>事务指南</mark>"


# ------------------------------------------------------------ the "most words" note

def test_the_most_words_note_is_for_queries_of_several_words(engine):
    one = search(engine, "事务隔离级别")  # one word as typed, cut by jieba; other articles say 事务
    assert one.total > 1 and one.hits[0].path == "db/guide.md"
    assert one.note is None
    several = search(engine, "事务 隔离级别")
    assert several.note and several.note.startswith("只有 1 篇文章包含所有关键词")
    none = search(engine, "量子隔离级别")
    assert none.total >= 1 and none.note == "没有文章包含完整的“量子隔离级别”，以下结果只包含其中的部分词语。"
    assert search(engine, "量子 隔离级别").note.startswith("没有同时包含所有关键词的文章")
