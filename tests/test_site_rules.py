"""Result links that match the site's generator, piece by piece, on real files:
site detection and config reading, each generator's URL rules, markup that is
not text."""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from pathlib import Path
from urllib.parse import unquote

import pytest

from indexer.anchors import AnchorStyle, Slugger, slug, strip_html
from indexer.article import parse_article
from indexer.permalinks import PageFacts, article_url, hexo_filename_info
from indexer.site import (
    Generator,
    HexoOptions,
    HugoLanguage,
    HugoOptions,
    SiteConfig,
    SiteOverrides,
    detect_site,
    join_url,
    scan_js_config,
)
from tests.conftest import SHARED_CORPUS, build_index, needs_shared, write_article


def _repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir(parents=True)
    return tmp_path


# ------------------------------------------------------------- detection

def test_no_config_keeps_vuepress_1_the_old_default(tmp_path):
    site = detect_site(_repo(tmp_path))
    assert site.generator is Generator.VUEPRESS and site.anchors is AnchorStyle.VUEPRESS
    assert "no site config" in site.source


def test_search_stops_at_the_git_root(tmp_path):
    (tmp_path / "hugo.toml").write_text("baseURL = 'https://x.org/'\n", encoding="utf-8")
    inner = _repo(tmp_path / "repo")
    (inner / "docs").mkdir()
    assert detect_site(inner / "docs").generator is Generator.VUEPRESS  # the config above the repo is not its


def test_hugo_split_config_folder_and_case_insensitive_keys(tmp_path):
    root = _repo(tmp_path)
    d = root / "config" / "_default"
    d.mkdir(parents=True)
    (d / "hugo.toml").write_text("baseurl = 'https://example.org/blog/'\nuglyURLs = true\n", encoding="utf-8")
    (d / "permalinks.toml").write_text("posts = '/:year/:slug/'\n", encoding="utf-8")
    (d / "markup.yaml").write_text("goldmark:\n  parser:\n    autoHeadingIDType: blackfriday\n", encoding="utf-8")
    (root / "content").mkdir()
    site = detect_site(root / "content")
    assert site.generator is Generator.HUGO and site.base == "/blog/"
    assert site.hugo.ugly_urls and dict(site.hugo.permalinks) == {"posts": "/:year/:slug/"}
    assert site.anchors is AnchorStyle.HUGO_BLACKFRIDAY
    page = PageFacts("posts/a b.md", {"title": "你好 World", "date": "x"}, dt.datetime(2024, 5, 6))
    assert article_url(site, page) == "/blog/2024/你好-world.html"


def test_js_config_plain_scan_and_flags_override(tmp_path):
    root = _repo(tmp_path)
    (root / ".vitepress").mkdir()
    (root / ".vitepress" / "config.ts").write_text(
        "// base: '/commented/'\nexport default defineConfig({\n  base: '/docs/',\n  cleanUrls: true,\n"
        "  head: [['link', { href: 'https://x.org/a' }]],\n})\n", encoding="utf-8")
    site = detect_site(root)
    assert (site.generator, site.base, site.clean_urls) == (Generator.VITEPRESS, "/docs/", True)
    assert "plain scan" in site.source
    over = detect_site(root, SiteOverrides(base="/", clean_urls=False))
    assert (over.base, over.clean_urls) == ("/", False)
    assert scan_js_config("module.exports = { base: process.env.BASE }") == {}


def test_vuepress_version_from_package_json(tmp_path):
    root = _repo(tmp_path)
    (root / "docs" / ".vuepress").mkdir(parents=True)
    (root / "docs" / ".vuepress" / "config.js").write_text("module.exports = { base: '/b/' }\n", encoding="utf-8")
    (root / "package.json").write_text('{"devDependencies": {"vuepress": "^2.0.0-rc.9"}}', encoding="utf-8")
    assert detect_site(root / "docs").generator is Generator.VUEPRESS2
    (root / "package.json").write_text('{"devDependencies": {"vuepress": "1.9.10"}}', encoding="utf-8")
    site = detect_site(root / "docs")
    assert site.generator is Generator.VUEPRESS and site.base == "/b/"


def test_jekyll_config_is_not_hexo(tmp_path):
    root = _repo(tmp_path)
    (root / "_config.yml").write_text("title: a jekyll site\n", encoding="utf-8")
    assert detect_site(root).generator is Generator.VUEPRESS


# ------------------------------------------------------------------ URLs

def _hexo(**kw) -> SiteConfig:
    return SiteConfig(Generator.HEXO, anchors=AnchorStyle.HEXO, hexo=HexoOptions(**kw))


def test_hexo_placeholders_front_matter_keys_and_defaults():
    site = _hexo(permalink=":category/:i_month/:i_day/:name/:post_title/:hash/:lang/:abbrlink.html",
                 permalink_defaults=(("lang", "zh"),))
    meta = {"title": "Hello World!", "categories": ["前端", "Vue 3"], "abbrlink": 12345,
            "date": "2024-02-04 10:00:00"}
    url = article_url(site, PageFacts("_posts/sub/my-post.md", meta, dt.datetime(2024, 2, 4, 10)))
    parts = url.split("/")
    assert parts[1:6] == ["前端", "Vue-3", "2", "4", "my-post"]
    assert parts[6] == "hello-world" and len(parts[7]) == 12 and parts[8:] == ["zh", "12345.html"]


def test_hexo_new_post_name_and_pretty_urls():
    assert hexo_filename_info(":year-:month-:day-:title.md", "2023-11-03-hexo-7-released.md") == {
        "year": "2023", "month": "11", "day": "03", "title": "hexo-7-released"}
    assert hexo_filename_info(":year-:month-:day-:title.md", "My Post.md") == {"title": "My-Post"}
    site = _hexo(permalink="news/:year/:month/:day/:title/", new_post_name=":year-:month-:day-:title.md",
                 trailing_index=False, trailing_html=False)
    assert article_url(site, PageFacts("_posts/2023-11-03-hexo-7.md", {}, None)) == "/news/2023/11/03/hexo-7/"
    assert article_url(site, PageFacts("docs/index.md", {}, None)) == "/docs/"
    assert article_url(site, PageFacts("docs/setup.md", {}, None)) == "/docs/setup"


def test_hexo_reads_dates_in_the_configs_time_zone(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        site = _hexo(new_post_name=":year-:month-:day-:title.md", timezone="Asia/Shanghai")
        assert article_url(site, PageFacts("_posts/2023-01-10-a.md", {}, None)) == "/2023/01/09/a/"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_hugo_languages_bundles_sections_and_url():
    site = SiteConfig(Generator.HUGO, base="/docs/", anchors=AnchorStyle.HUGO, hugo=HugoOptions(
        default_language="zh", languages=(HugoLanguage("zh", "content/zh", 1), HugoLanguage("en", "content/en", 2))))
    url = lambda rel, **meta: article_url(site, PageFacts(rel, meta, dt.datetime(2024, 1, 2)))
    assert url("zh/posts/My Post.md") == "/docs/posts/my-post/"
    assert url("en/posts/bundle/index.md") == "/docs/en/posts/bundle/"
    assert url("zh/guide/_index.md") == "/docs/guide/"
    assert url("zh/about.md", url="/about-us/") == "/docs/about-us/"


def test_front_matter_permalink_wins_everywhere():
    for gen in Generator:
        site = SiteConfig(gen, hexo=HexoOptions(), hugo=HugoOptions())
        assert article_url(site, PageFacts("a/b.md", {"permalink": "/p/x.html"}, None)) == "/p/x.html", gen


def test_join_url_does_not_repeat_the_base_path():
    assert join_url("https://x.io/blog", "/blog/a/", "第一节") == "https://x.io/blog/a/#%E7%AC%AC%E4%B8%80%E8%8A%82"
    assert join_url("https://x.io", "/blog/a/") == "https://x.io/blog/a/"
    assert join_url(None, "/文章/") == "/%E6%96%87%E7%AB%A0/"


# --------------------------------------------------------------- anchors

def test_hexo_slugs_the_rendered_heading_with_html_stripped():
    assert strip_html("to <code><string></code>") == "to "
    assert strip_html("a < b <!-- c --> d") == "a < b  d"
    a = parse_article("## to `<string>`\n\n## to\n\n## 徽章 <span>x</span>\n".encode(), "x.md", anchors="hexo")
    assert [s.anchor for s in a.sections] == ["to", "to-1", "徽章-x"]


def test_hugo_ascii_and_blackfriday():
    assert slug("Ünïcödé 字符 Go!", AnchorStyle.HUGO_ASCII) == "unicode--go"
    assert slug("Ünïcödé 字符 -- Go!", AnchorStyle.HUGO_BLACKFRIDAY) == "ünïcödé-字符-go"
    s = Slugger(AnchorStyle.HUGO_BLACKFRIDAY)
    assert [s.anchor("A b"), s.anchor("a-b")] == ["a-b", "a-b-1"]


# ---------------------------------------------------------------- markup

VUE_ARTICLE = """---
title: 容器
---

# 容器

[[toc]]

@[toc]

::: tip 提示标题
提示容器的内容。
:::

::: warning
警告容器的内容。
:::

:::: code-group
::: code-group-item pnpm
```sh
pnpm add zhsearch
```
:::
::::

::: code-tabs#shell
@tab pnpm
```sh
pnpm i
```
:::

段落里的徽章 <Badge text="新功能" type="tip"/> 和 <Badge type="warning">实验性</Badge> 组件。

<Badge text="块级徽章" />

<!-- more -->

## 选项 <Badge text="v2" />

{% note info 标题 %}
便签里的文字。
{% endnote %}

{% raw %}
<b>原样输出</b>
{% endraw %}

{% asset_img cat.png 一只猫 %}
"""


def test_generator_markup_is_not_text():
    a = parse_article(VUE_ARTICLE.encode(), "a.md")
    text = "\n".join(f"{s.heading}\n{s.text}" for s in a.sections)
    for markup in (":::", "{%", "<Badge", "[[toc]]", "@[toc]", "@tab", "more", "tip", "warning", "endnote",
                   "code-group", "asset_img"):
        assert markup not in text, markup
    for kept in ("提示标题", "提示容器的内容。", "警告容器的内容。", "pnpm", "新功能", "实验性", "块级徽章",
                 "便签里的文字。", "原样输出", "选项 v2"):
        assert kept in text, kept
    assert "pnpm add zhsearch" in a.code
    sec = [s for s in a.sections if s.heading.startswith("选项")][0]
    assert sec.anchor == "选项"  # VuePress slugs the heading's text, not the badge


def test_markup_regexes_stay_linear():
    """The denial-of-service test the shortcode regex has: adversarial runs
    of the new patterns' openers are handled in linear time (a quadratic
    pattern takes minutes here)."""
    hostile = "{%" * 50_000 + "\n" + ":::" * 50_000 + " x\n" + "<Badge " * 30_000 + "\n" + "@tab " * 30_000
    t0 = time.process_time()
    parse_article(hostile.encode(), "x.md")
    ratio_base = time.process_time() - t0
    t0 = time.process_time()
    parse_article(("正文 " * 60_000).encode(), "y.md")
    plain = time.process_time() - t0
    assert ratio_base < 20 * max(plain, 0.05)


def test_markup_free_results_through_the_index(tmp_path):
    from search.engine import Engine, search

    corpus = _repo(tmp_path / "c")
    write_article(corpus, "a.md", VUE_ARTICLE)
    build_index(corpus, tmp_path / "ix")
    page = search(Engine(tmp_path / "ix"), "提示 徽章 便签")
    hit = page.hits[0]
    for markup in (":::", "{%", "<Badge"):
        assert markup not in hit.snippet_html and markup not in hit.title_html and markup not in (hit.section or "")


@needs_shared
def test_no_markup_in_titles_or_snippets_on_a_shared_corpus_sample(tmp_path):
    """No generator markup (``:::``, ``{%``, ``<Badge``) left in titles or
    snippets, on the articles of ../shared/corpus that have the most markup
    (``bench/sites.py --markup`` checks the whole corpus)."""
    from search.engine import Engine, search

    corpus = tmp_path / "c"
    picked = 0
    for path in sorted(SHARED_CORPUS.rglob("*.md")):
        raw = path.read_text(encoding="utf-8", errors="replace")
        if "::: " in raw or "{%" in raw or "<Badge" in raw:
            dest = corpus / path.relative_to(SHARED_CORPUS)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(raw, encoding="utf-8")
            picked += 1
            if picked >= 60:
                break
    assert picked >= 30
    (corpus / ".git").mkdir()
    build_index(corpus, tmp_path / "ix")
    engine = Engine(tmp_path / "ix")
    for q in ("tip", "提示", "警告", "注意", "配置", "徽章", "note"):
        for hit in search(engine, q, per_page=50).hits:
            for markup in (":::", "{%", "<Badge"):
                assert markup not in hit.snippet_html, (q, hit.path, hit.snippet_html)
                assert markup not in hit.title_html, (q, hit.path)


def _vitepress_docs_site(tmp_path: Path) -> tuple[Path, str]:
    root = _repo(tmp_path)
    (root / ".vitepress").mkdir()
    (root / ".vitepress" / "config.ts").write_text("export default defineConfig({ base: '/docs/', cleanUrls: true })\n",
                                                   encoding="utf-8")
    write_article(root, "guide/intro.md", "# 入门\n\n## 安装 Redis\n\n哨兵模式的主从切换。\n")
    return root, "guide/intro.md"


def _hexo_plain_quotes_site(tmp_path: Path) -> tuple[Path, str]:
    root = _repo(tmp_path)
    (root / "scaffolds").mkdir()
    (root / "_config.yml").write_text("permalink: :title/\nmarked:\n  smartypants: false\n", encoding="utf-8")
    write_article(root / "source", "_posts/stop.md",
                  "---\ntitle: 别停\ndate: 2024-05-06 10:00:00\n---\n\n## Don't -- stop\n\n哨兵模式的主从切换。\n")
    return root / "source", "_posts/stop.md"


@pytest.mark.parametrize("make_site", [_vitepress_docs_site, _hexo_plain_quotes_site])
def test_article_page_links_and_ids_as_the_results_do(make_site, make_app, tmp_path):
    """The built-in page of an article shows the URL and heading ids the
    index made with the site's config (VitePress base and cleanUrls, Hexo
    without smartypants), not those a bare heading-id style implies."""
    from indexer.build import IndexConfig, update_index

    corpus, path = make_site(tmp_path / "site")
    index = tmp_path / "ix"
    update_index(IndexConfig(corpus, index, workers=1))
    client = make_app(index, corpus, base_url="https://site.example").test_client()
    results = client.get("/search?q=哨兵模式").get_data(as_text=True)
    link = html.unescape(re.search(r'<a class="result-section" href="([^"]*)"', results).group(1))
    page_url, anchor = link.split("#")
    page = client.get("/a/" + path).get_data(as_text=True)
    assert html.unescape(re.search(r'<dt>永久链接</dt><dd><a href="([^"]*)"', page).group(1)) == page_url
    assert unquote(anchor) in {unquote(i) for i in re.findall(r'id="([^"]+)"', page)}
    if make_site is _vitepress_docs_site:
        assert page_url == "https://site.example/docs/guide/intro"
    else:
        assert unquote(anchor) == "Don-t-stop"


def test_vuepress_leaves_emoji_shortcodes_out_of_ids():
    """vdoing's own docs: ``## :email: 联系`` has the id ``联系`` (markdown-it-emoji)."""
    for style in ("vuepress", "vuepress2", "vitepress"):
        a = parse_article("## :email: 联系\n\n## a:b:c\n".encode(), "a.md", anchors=style)
        assert [s.anchor for s in a.sections] == ["联系", "a-b-c"], style
    assert parse_article("## :email: 联系\n".encode(), "a.md", anchors="hugo").sections[0].anchor == "email-联系"


def test_unpublished_articles_are_not_indexed(tmp_path):
    from indexer.build import IndexConfig, update_index

    root = _repo(tmp_path / "site")
    (root / "hugo.toml").write_text("baseURL = 'https://x.org/'\n", encoding="utf-8")
    write_article(root, "content/posts/a.md", "---\ntitle: 已发布\n---\n\n正文\n")
    write_article(root, "content/posts/b.md", "---\ntitle: 草稿\ndraft: true\n---\n\n正文\n")
    report = update_index(IndexConfig(root / "content", tmp_path / "ix", workers=1))
    assert report.total == 1
    assert report.skipped == [("posts/b.md", "not published: draft: true (Hugo does not publish drafts)")]


def test_check_links_command_reports_and_exits_1(tmp_path):
    import json

    from click.testing import CliRunner

    from zhsearch.cli import main

    corpus = _repo(tmp_path / "c")
    write_article(corpus, "guide/a.md", "---\npermalink: /pages/abc\n---\n\n# 标题\n\n## 第一节\n\n正文\n")
    write_article(corpus, "guide/b.md", "# 另一篇\n\n## 小节\n\n正文\n")
    site = tmp_path / "dist"
    (site / "pages" / "abc").mkdir(parents=True)
    (site / "pages" / "abc" / "index.html").write_text('<h1 id="标题">标题</h1><h2 id="第一节">', encoding="utf-8")
    (site / "guide").mkdir()
    (site / "guide" / "b.html").write_text('<h1 id="另一篇">另一篇</h1>', encoding="utf-8")
    runner = CliRunner()
    ix = str(tmp_path / "ix")
    assert runner.invoke(main, ["index", "--corpus", str(corpus), "--index", ix]).exit_code == 0
    r = runner.invoke(main, ["check-links", "--index", ix, "--site", str(site), "--json"])
    assert r.exit_code == 1, r.output
    d = json.loads(r.stdout)
    assert (d["articles"], d["missing_pages"], d["redirects"], d["missing_anchors"]) == (2, 0, 0, 1)
    assert d["issues"][0]["url"] == "/guide/b.html#%E5%B0%8F%E8%8A%82"
    (site / "guide" / "b.html").write_text('<h1 id="另一篇"></h1><h2 id="小节"></h2>', encoding="utf-8")
    r = runner.invoke(main, ["check-links", "--index", ix, "--site", str(site)])
    assert r.exit_code == 0 and "0 missing pages, 0 redirects, 0 missing anchors" in r.stdout
