"""Section anchors as VuePress 1, VuePress 2, Hugo and Hexo make them.

The slug rules are checked against the generators' own test cases (VuePress's
``slugify.spec``, Hugo's ``autoid_test.go``); then each style goes through the
whole chain: the index stores its anchors, a hit's section link ends in that
anchor, the built-in article page has an element with that id, and changing
the style rebuilds the index.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest

from indexer.anchors import AnchorStyle, Slugger, slug
from indexer.article import parse_article
from tests.conftest import CORPUS, build_index, write_article

# VuePress's and @mdit-vue's slugify.spec (both NFKD based)
VUEPRESS_CASES = [
    ("Привет", "привет"),
    ("Лед üäöß", "лед-uaoß"),
    ("ع", "ع"),
    ("ǆℍΩ", "dzhω"),
    ("ｶi⁹", "カi9"),
    ("㌀", "\u30a2\u30cf\u309a\u30fc\u30c8"),
    ("¼", "_1⁄4"),
    ("Iлｔèｒｎåｔïｏｎɑｌíƶａｔï߀ԉ", "iлternationɑliƶati߀ԉ"),
    ("hambúrguer", "hamburguer"),
    ("hŒllœ", "hœllœ"),
    ("Fußball", "fußball"),
    ("ABCDEFGHIJKLMNOPQRSTUVWXYZé", "abcdefghijklmnopqrstuvwxyze"),
    # Chinese headings as the seed's theme sees them
    ("GPT模型的发展历程", "gpt模型的发展历程"),
    ("ChatGPT是什么？", "chatgpt是什么"),  # NFKD turns the full-width ？ into ?
    ("第一章：概述", "第一章-概述"),
    ("《书名》与“引号”", "《书名》与-引号"),  # 《》 are kept, curly quotes are not
    ("1. 安装", "_1-安装"),
    ("GPT-4 的参数", "gpt-4-的参数"),
]

# Hugo's autoid_test.go ("generated manually on github.com")
HUGO_CASES = [
    ("God is good: 神真美好", "god-is-good-神真美好"),
    ("Number 32", "number-32"),
    ("Question?", "question"),
    ("1+2=3", "123"),
    ('Special !"#$%&(parens)=?´* chars', "special-parens-chars"),
    ("Resumé", "resumé"),
    ("One-Hyphen", "one-hyphen"),
    ("Multiple--Hyphens", "multiple--hyphens"),
    ("Trailing hyphen-", "trailing-hyphen-"),
    ("Many   spaces  here", "many---spaces--here"),
    ("Forward/slash", "forwardslash"),
    ("Backward\\slash", "backwardslash"),
    ("Under_score", "under_score"),
    ("Nonbreaking\u00a0Space", "nonbreakingspace"),
    ("Tab\tSpace", "tabspace"),
    ("Trailing Space ", "trailing-space"),
    ("ChatGPT是什么？", "chatgpt是什么"),
    ("第一章：概述", "第一章概述"),
    ("？！", "heading"),
]

# hexo-util slugize (transform 0: case kept) as hexo-renderer-marked calls it
HEXO_CASES = [
    ("GPT模型的发展历程", "GPT模型的发展历程"),
    ("ChatGPT是什么？", "ChatGPT是什么？"),  # no NFKD: the full-width ？ stays
    ("Hello World!", "Hello-World"),
    ("第一章：概述", "第一章：概述"),
    ("Résumé à la carte", "Resume-a-la-carte"),
    ("“引号” 测试", "“引号”-测试"),
    ("C++ & Java", "C-Java"),
    ("1. 安装", "1-安装"),
]


@pytest.mark.parametrize("text,expected", VUEPRESS_CASES)
def test_vuepress_slugs(text, expected):
    assert slug(text, AnchorStyle.VUEPRESS) == expected


def test_vuepress_1_and_2_differ_on_dashes_and_duplicates():
    assert slug("A–B—C", AnchorStyle.VUEPRESS) == "a-b-c"
    assert slug("A–B—C", AnchorStyle.VUEPRESS2) == "a–b—c"
    one, two = Slugger(AnchorStyle.VUEPRESS), Slugger(AnchorStyle.VUEPRESS2)
    assert [one.anchor("示例") for _ in range(3)] == ["示例", "示例-2", "示例-3"]
    assert [two.anchor("示例") for _ in range(3)] == ["示例", "示例-1", "示例-2"]
    # a heading that already reads "x-2" is skipped over, as markdown-it-anchor does
    s = Slugger(AnchorStyle.VUEPRESS)
    assert [s.anchor(t) for t in ("x", "x 2", "x")] == ["x", "x-2", "x-3"]


@pytest.mark.parametrize("text,expected", HUGO_CASES)
def test_hugo_slugs(text, expected):
    assert slug(text, AnchorStyle.HUGO) == expected


def test_hugo_duplicates_and_custom_ids():
    s = Slugger(AnchorStyle.HUGO)
    assert s.reserve("intro") == "intro"
    assert [s.anchor(t) for t in ("Intro", "Intro", "Intro-1 ")] == ["intro-1", "intro-2", "intro-1-1"]


@pytest.mark.parametrize("text,expected", HEXO_CASES)
def test_hexo_slugs(text, expected):
    assert slug(text, AnchorStyle.HEXO) == expected


def test_hexo_duplicates_are_counted_per_slug():
    s = Slugger(AnchorStyle.HEXO)
    assert [s.anchor(t) for t in ("FAQ", "FAQ", "FAQ")] == ["FAQ", "FAQ-1", "FAQ-2"]


def test_style_names():
    assert AnchorStyle.parse(None) is AnchorStyle.VUEPRESS  # the seed's theme
    assert AnchorStyle.parse(" Hugo ") is AnchorStyle.HUGO
    with pytest.raises(ValueError, match="vuepress, vuepress2, vitepress, hugo, hugo-github-ascii, hugo-blackfriday, hexo"):
        AnchorStyle.parse("jekyll")


def test_permalinks_as_each_generator_makes_them():
    def link(rel: str, style: AnchorStyle, front: str = "") -> str:
        text = f"---\n{front}\n---\n\n正文\n" if front else "正文\n"
        return parse_article(text.encode(), rel, anchors=style).permalink

    assert link("guide/intro.md", AnchorStyle.VUEPRESS) == "/guide/intro.html"
    assert link("guide/README.md", AnchorStyle.VUEPRESS2) == "/guide/"
    assert link("posts/My Post.md", AnchorStyle.HUGO) == "/posts/my-post/"  # pretty, lower-cased
    assert link("posts/bundle/index.md", AnchorStyle.HUGO) == "/posts/bundle/"
    assert link("posts/x.md", AnchorStyle.HUGO, "url: /special/place/") == "/special/place/"
    assert link("posts/x.md", AnchorStyle.HUGO, "slug: 我的文章") == "/posts/我的文章/"
    assert link("_posts/hello-world.md", AnchorStyle.HEXO, "date: 2024-02-04 10:00:00") == "/2024/02/04/hello-world/"
    # Hexo's page.permalink (pretty_urls.trailing_index defaults to true), as its sitemap writes it
    assert link("about/index.md", AnchorStyle.HEXO) == "/about/index.html"
    assert link("_posts/x.md", AnchorStyle.HEXO, "permalink: /p/x.html") == "/p/x.html"  # front matter wins
    assert link("posts/x.md", AnchorStyle.VUEPRESS, "url: /not/a/permalink/") == "/posts/x.html"  # only Hugo's


def test_slug_reads_text_and_code_not_image_alt_or_html():
    md = "## 使用 `pip` 安装 ![图](x.png) <span>标签</span> [链接](http://a.b)\n\n正文\n"
    sec = [s for s in parse_article(md.encode(), "a.md").sections if s.heading][0]
    assert sec.anchor == "使用-pip-安装-标签-链接"  # no "图": markdown-it-anchor skips image alt


# ------------------------------------------------------- through the index

ARTICLE = """---
title: 锚点测试
permalink: /guide/anchors.html
---

# 锚点测试

## 第一章：安装 Redis？

Redis 持久化的配置方法，包括快照与追加文件两种方式。

## FAQ

第一个常见问题。

## FAQ

第二个常见问题：哨兵模式的主从切换。
"""

EXPECTED = {  # (anchor of "第一章：安装 Redis？", anchor of the second FAQ)
    AnchorStyle.VUEPRESS: ("第一章-安装-redis", "faq-2"),
    AnchorStyle.VUEPRESS2: ("第一章-安装-redis", "faq-1"),
    AnchorStyle.HUGO: ("第一章安装-redis", "faq-1"),
    AnchorStyle.HEXO: ("第一章：安装-Redis？", "FAQ-1"),
    # a style that is not its generator's default is kept (--anchor-style, ZHSEARCH_ANCHOR_STYLE)
    AnchorStyle.HEXO_LOWER: ("第一章：安装-redis？", "faq-1"),
    AnchorStyle.HUGO_ASCII: ("-redis", "faq-1"),
}


@pytest.fixture(scope="module")
def anchor_corpus(tmp_path_factory) -> Path:
    corpus = tmp_path_factory.mktemp("anchors") / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "userdict.txt", corpus / "userdict.txt")
    write_article(corpus, "guide/anchors.md", ARTICLE)
    return corpus


@pytest.mark.parametrize("style", list(EXPECTED))
def test_each_style_through_index_results_and_article_page(make_app, style, anchor_corpus, tmp_path):
    from search.engine import Engine, search

    index = tmp_path / "ix"
    report = build_index(anchor_corpus, index, anchor_style=style)
    assert report.total == 1
    redis, faq = EXPECTED[style]
    engine = Engine(index)
    hit = search(engine, "Redis 持久化").hits[0]
    assert hit.section == "第一章：安装 Redis？" and hit.anchor == redis
    hit = search(engine, "哨兵模式").hits[0]
    assert hit.anchor == faq

    # the site's result links end in the same anchor, on the user's site...
    client = make_app(index, anchor_corpus, anchor_style=style, base_url="https://site.example").test_client()
    results = client.get("/search?q=哨兵模式").get_data(as_text=True)
    section = re.search(r'<a class="result-section" href="([^"]*)"', results).group(1)
    assert html.unescape(section) == "https://site.example/guide/anchors.html#" + _quoted(faq)
    # ...and the built-in article page has an element with that id
    page = client.get("/a/guide/anchors.md").get_data(as_text=True)
    ids = {unquote(i) for i in re.findall(r'id="([^"]+)"', page)}
    assert {redis, faq} <= ids, ids


def _quoted(anchor: str) -> str:
    from urllib.parse import quote

    return quote(anchor, safe="")


def test_changing_the_style_rebuilds_the_index(anchor_corpus, tmp_path):
    index = tmp_path / "ix"
    build_index(anchor_corpus, index, anchor_style=AnchorStyle.VUEPRESS)
    same = build_index(anchor_corpus, index, anchor_style=AnchorStyle.VUEPRESS)
    assert not same.changed
    other = build_index(anchor_corpus, index, anchor_style=AnchorStyle.HUGO)
    assert other.rebuilt and "anchor style vuepress → hugo" in other.rebuild_reason
    assert "anchors" not in other.rebuild_reason.replace("anchor style vuepress → hugo", "")  # said once


def test_an_index_with_the_style_also_under_site_is_not_rebuilt(anchor_corpus, tmp_path):
    """Indexes recorded the style twice ("anchors", and again in "site"):
    the copy does not make them look built with other settings."""
    import json

    from indexer import store

    index = tmp_path / "ix"
    build_index(anchor_corpus, index, anchor_style=AnchorStyle.HEXO_LOWER)
    cur = store.read_current(index)
    meta = json.loads((cur.path / store.META).read_text(encoding="utf-8"))
    assert "anchors" not in meta["identity"]["site"] and meta["identity"]["anchors"] == "hexo-lower"
    meta["identity"]["site"]["anchors"] = "hexo-lower"  # as an older zhsearch wrote it
    store.write_meta(cur.path, meta)
    assert not build_index(anchor_corpus, index, anchor_style=AnchorStyle.HEXO_LOWER).changed
    other = build_index(anchor_corpus, index, anchor_style=AnchorStyle.HEXO)
    assert other.rebuilt and other.rebuild_reason.endswith("anchor style hexo-lower → hexo"), other.rebuild_reason


def test_an_index_without_recorded_style_is_rebuilt(anchor_corpus, tmp_path):
    import json

    from indexer import store

    index = tmp_path / "ix"
    build_index(anchor_corpus, index)
    cur = store.read_current(index)
    meta = json.loads((cur.path / store.META).read_text(encoding="utf-8"))
    del meta["identity"]["anchors"]  # an index built before anchor styles existed
    store.write_meta(cur.path, meta)
    r = build_index(anchor_corpus, index)
    assert r.rebuilt and "anchor style (none recorded) → vuepress" in r.rebuild_reason


def test_settings_read_the_style_from_flag_then_environment(monkeypatch):
    from zhsearch.settings import Settings

    monkeypatch.setenv("ZHSEARCH_ANCHOR_STYLE", "hexo")
    assert Settings.load().anchor_style is AnchorStyle.HEXO
    assert Settings.load(anchor_style="hugo").anchor_style is AnchorStyle.HUGO
    assert Settings.load(anchor_style="hugo").index_config().anchor_style is AnchorStyle.HUGO
    monkeypatch.setenv("ZHSEARCH_ANCHOR_STYLE", "nope")
    with pytest.raises(ValueError, match="unknown anchor style"):
        Settings.load()


def test_rendering_without_the_indexed_pairs_gives_the_indexed_ids(tmp_path):
    """``render_markdown`` left to find the ids itself (``index_headings``)
    reads headings as the indexer does: Hexo's smartypants turn ``'`` and
    ``--`` typographic before the slug is made."""
    from search.engine import Engine, search
    from web.render import render_markdown

    corpus = tmp_path / "c"
    body = "## Don't -- stop\n\n哨兵模式的主从切换。\n"
    write_article(corpus, "a.md", body)
    build_index(corpus, tmp_path / "ix", anchor_style=AnchorStyle.HEXO)
    anchor = search(Engine(tmp_path / "ix"), "哨兵模式").hits[0].anchor
    assert anchor == "Don’t-–-stop"
    assert f'id="{anchor}"' in render_markdown(body, anchors=AnchorStyle.HEXO).html
