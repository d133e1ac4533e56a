"""The web site through Flask's test client: every route, status and parameter error.

Most tests share one app over the session's index of the embedded corpus
(read only).  Tests that need odd articles (markup in titles, symlinks,
awkward file names) or that change the index build their own small corpus in
a temporary folder; those corpora carry the embedded ``userdict.txt`` so every
index in this process segments text the same way (jieba's configuration is
process-wide).
"""

from __future__ import annotations

import html
import re
import shutil
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

from tests.conftest import CORPUS, FIXTURES, build_index, write_article

SEED = "chatgpt-info/what-is-chatgpt.md"
SEED_URL = "/a/" + SEED
QUERY = "GPT-4 参数"


# ------------------------------------------------------------------ helpers

def text_of(resp) -> str:
    return resp.get_data(as_text=True)


def results(page_html: str) -> list[dict]:
    """The hits of a results page: title link, title HTML, snippet HTML, section link."""
    out = []
    for block in re.findall(r'<li class="result">(.*?)</li>\s*(?=<li class="result">|</ol>)', page_html, re.S):
        title = re.search(r'<h2 class="result-title"><a href="([^"]*)" data-zs-hit>(.*?)</a></h2>', block, re.S)
        snippet = re.search(r'<p class="snippet">(.*?)</p>', block, re.S)
        section = re.search(r'<a class="result-section" href="([^"]*)"', block)
        tags = re.findall(r'<a class="tag[^"]*" href="([^"]*)">#(.*?)</a>', block)
        out.append({
            "href": html.unescape(title.group(1)), "title_html": title.group(2),
            "snippet_html": snippet.group(1) if snippet else "",
            "section_href": html.unescape(section.group(1)) if section else None,
            "tags": [(html.unescape(u), html.unescape(t)) for u, t in tags],
        })
    return out


def facet_links(page_html: str, key: str) -> dict[str, tuple[str, bool, int]]:
    """facet value → (href, active, count) for the "tags" or "categories" group."""
    m = re.search(rf'<section class="facet" data-facet="{key}">(.*?)</section>', page_html, re.S)
    if not m:
        return {}
    out = {}
    for item in re.findall(r'<a class="facet-item.*?</a>', m.group(1), re.S):
        href = re.search(r'href="([^"]*)"', item).group(1)
        name = re.search(r'<span class="facet-name">(.*?)</span>', item).group(1)
        count = re.search(r'<span class="facet-count">(\d+)</span>', item)
        out[html.unescape(name)] = (html.unescape(href), "is-active" in item.split(">", 1)[0],
                                    int(count.group(1)) if count else 0)
    return out


def total_of(page_html: str) -> int:
    m = re.search(r"<strong data-zs-total>(\d+)</strong>", page_html)
    return int(m.group(1)) if m else 0


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in ("href", "src") and (value or "").strip().lower().startswith(("javascript:", "data:")):
                self.problems.append(f"<{tag} {name}={value}>")
            if name == "style":
                self.problems.append(f"<{tag} style>")
        if tag in ("img", "iframe", "object", "embed", "frame", "base") \
                or (tag == "svg" and ("aria-hidden", "true") not in attrs):  # only our search icon
            self.problems.append(f"<{tag}>")
        if tag == "script" and not any(n == "src" and (v or "").startswith("/static/") for n, v in attrs):
            self.problems.append("<script> without our src")


def active_content(page_html: str) -> list[str]:
    """Anything in a page that could run script: event handlers, script URLs, stray tags."""
    scan = _Scan()
    scan.feed(page_html)
    return scan.problems


def element_ids(page_html: str) -> set[str]:
    return {html.unescape(v) for v in re.findall(r'\sid="([^"]*)"', page_html)}


# ------------------------------------------------------------------ fixtures

def _small_corpus(root: Path) -> Path:
    """A few awkward articles: markup in title and tags, odd file names, links."""
    root.mkdir(parents=True)
    shutil.copy(CORPUS / "userdict.txt", root / "userdict.txt")
    for name in ("xss.md", "markdown-features.md", "名字 有空格 & 符号《书名》.md", "back\\slash.md", "crlf.md"):
        shutil.copy(FIXTURES / name, root / name)
    shutil.copy(CORPUS / SEED, root / "seed.md")
    write_article(root, "quotes.md", (
        '---\ntitle: "Tom & Jerry <3 \\" onmouseover=\\"alert(1)"\n'
        'tags: ["\\" onfocus=\\"alert(1)", "a&b"]\ncategories: ["<i>斜体</i>"]\n---\n\n猫和老鼠的引号测试。\n'))
    write_article(root, "guide/linking.md", (
        "---\ntitle: 链接测试\ntags: [链接]\n---\n\n"
        "参见[特性文章](../markdown-features.md#参数量估算)和[外部网站](https://example.com)。\n\n"
        "## 第二节\n\n原始 HTML：<img src=x onerror=alert(3)> 与 <a href=\"javascript:alert(4)\">坏链接</a>。\n\n"
        "<script>alert(5)</script>\n\n<div onclick=\"alert(6)\" style=\"color:red\">点击</div>\n"))
    outside = root.parent / "outside-secret.md"
    outside.write_text("---\ntitle: 外部文件\n---\n\n秘密内容不应通过网站读取。\n", encoding="utf-8")
    (root / "escape.md").symlink_to(outside)
    return root


@pytest.fixture(scope="module")
def small(make_app, tmp_path_factory):
    """(app, corpus, index) over the small awkward corpus (read only)."""
    base = tmp_path_factory.mktemp("web-small")
    corpus = _small_corpus(base / "corpus")
    index = base / "ix"
    report = build_index(corpus, index)
    assert "escape.md" in report.added  # the indexer follows file symlinks
    return make_app(index, corpus), corpus, index


# ---------------------------------------------------------------------- home

def test_home_has_focused_box_count_and_update_time(client, engine):
    r = client.get("/")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    page = text_of(r)
    assert '<html lang="zh-CN">' in page
    assert re.search(r'<input id="zs-q"[^>]*\sautofocus', page)
    stats = engine.stats()
    assert f"已索引 <strong>{stats['documents']}</strong> 篇文章" in page
    assert "更新于" in page and stats["updated"][:10] in page
    assert "/search?tag=" in page  # popular tags to browse


def test_security_headers_and_no_inline_script_or_style(client):
    for url in ("/", f"/search?q={quote(QUERY)}", SEED_URL, "/no-such-page"):
        r = client.get(url)
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "'unsafe-inline'" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        page = text_of(r)
        assert not re.search(r"<script(?![^>]*\ssrc=)", page), url  # every script is a file
        assert "<style" not in page and ' style="' not in page, url
        assert "http://" not in re.sub(r'href="[^"]*"', "", page.split("</head>")[0]), url  # no CDN


def test_static_assets_are_local(client):
    page = text_of(client.get("/"))
    for ref in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        r = client.get(ref)
        assert r.status_code == 200, ref
        assert r.headers["Cache-Control"].startswith("public")
    assert client.get("/static/app.js").mimetype in ("text/javascript", "application/javascript")


# -------------------------------------------------------------------- search

def test_search_ranks_seed_first_with_highlights(client):
    r = client.get("/search", query_string={"q": QUERY})
    assert r.status_code == 200
    page = text_of(r)
    hits = results(page)
    assert hits, "no results"
    first = hits[0]
    assert urlsplit(first["href"]).path == SEED_URL
    assert parse_qs(urlsplit(first["href"]).query)["q"] == [QUERY]
    assert "<mark>GPT-4</mark>" in first["snippet_html"]
    assert "<mark>参数</mark>" in first["snippet_html"]
    # the section the snippet came from links to that heading's anchor
    assert first["section_href"] and "#" in first["section_href"]
    anchor = unquote(first["section_href"].split("#", 1)[1])
    assert anchor in element_ids(text_of(client.get(SEED_URL)))
    # tags are filter links, count and time are shown, the query stays in the box
    assert ("/search?q=GPT-4+%E5%8F%82%E6%95%B0&tag=ChatGPT", "ChatGPT") in first["tags"]
    assert re.search(r"找到 <strong data-zs-total>\d+</strong> 条结果", page)
    assert "用时" in page
    assert f'value="{QUERY}"' in page
    assert "<title>GPT-4 参数 · 搜索 · zhsearch</title>" in page


def test_tag_facet_narrows_and_clicking_again_removes_it(client):
    page = text_of(client.get("/search", query_string={"q": QUERY}))
    before = total_of(page)
    tags = facet_links(page, "tags")
    href, active, count = tags["ChatGPT"]
    assert not active and count == 1
    narrowed = text_of(client.get(href))
    after = total_of(narrowed)
    assert 0 < after < before
    assert all(urlsplit(h["href"]).path == SEED_URL for h in results(narrowed))
    href2, active2, _ = facet_links(narrowed, "tags")["ChatGPT"]
    assert active2
    assert "tag=" not in href2
    assert total_of(text_of(client.get(href2))) == before
    assert "已选" in narrowed and "标签：ChatGPT" in narrowed


def test_category_facet_and_breadcrumb(client):
    page = text_of(client.get("/search", query_string={"q": "事务隔离级别"}))
    cats = facet_links(page, "categories")
    assert cats, "no category facet"
    name, (href, active, count) = next(iter(cats.items()))
    assert not active and count >= 1
    filtered = text_of(client.get(href))
    assert total_of(filtered) == count
    assert facet_links(filtered, "categories")[name][1]  # now active
    # every hit of the filtered page shows the category in its breadcrumb
    crumbs = re.findall(r'<nav class="crumbs" aria-label="分类">(.*?)</nav>', filtered, re.S)
    assert len(crumbs) == count and all(html.escape(name, quote=False) in c for c in crumbs)


def test_sort_by_date(client):
    page = text_of(client.get("/search", query_string={"q": "数据", "sort": "date"}))
    dates = re.findall(r'<time datetime="([^"]+)">', page)
    assert len(dates) >= 5
    assert dates == sorted(dates, reverse=True)
    assert re.search(r'<a href="[^"]*sort=date[^"]*" class="is-active" aria-current="true">最新</a>', page)


def test_filter_only_browsing(client):
    r = client.get("/search", query_string={"tag": "Redis"})
    assert r.status_code == 200
    page = text_of(r)
    hits = results(page)
    assert total_of(page) == len(hits) >= 1
    assert all("Redis" in [t for _, t in h["tags"]] for h in hits)
    assert 'value=""' in page  # no query in the box, the filter is a chip
    assert "标签：Redis" in page


def test_pagination(client):
    page1 = text_of(client.get("/search", query_string={"q": "数据"}))
    assert total_of(page1) > 10
    assert 'rel="next"' in page1 and 'rel="prev"' not in page1
    m = re.search(r'<a class="pager-next" rel="next" href="([^"]*)"', page1)
    page2 = text_of(client.get(html.unescape(m.group(1))))
    assert 'rel="prev"' in page2
    assert '<span class="pager-current" aria-current="page">2</span>' in page2
    assert {h["href"] for h in results(page1)}.isdisjoint({h["href"] for h in results(page2)})
    beyond = client.get("/search", query_string={"q": "数据", "page": 999})
    assert beyond.status_code == 200 and "没有第 999 页" in text_of(beyond)


def test_relaxed_query_note(client):
    page = text_of(client.get("/search", query_string={"q": "GPT-4 唐诗"}))
    assert "data-zs-note" in page and "只包含部分关键词" in page
    assert results(page)


def test_did_you_mean(client):
    page = text_of(client.get("/search", query_string={"q": "tranformer"}))
    m = re.search(r'你是不是要找：<a href="([^"]*)">([^<]*)</a>', page)
    assert m and m.group(2) == "transformer"
    assert parse_qs(urlsplit(html.unescape(m.group(1))).query)["q"] == ["transformer"]


def test_empty_state_suggests_and_offers_filter_removal(client):
    page = text_of(client.get("/search", query_string={"q": "龘靐齉齾"}))
    assert "data-zs-empty" in page and "没有找到与“龘靐齉齾”相关的文章" in page
    assert "检查一下有没有错别字" in page and "热门标签" in page
    with_filter = text_of(client.get("/search", query_string={"q": "龘靐齉齾", "tag": "ChatGPT"}))
    assert "移除 标签：ChatGPT" in with_filter
    assert "不加筛选重新搜索" in with_filter


def test_empty_query_goes_home(client):
    r = client.get("/search?q=+")
    assert r.status_code == 302 and r.headers["Location"].endswith("/")


@pytest.mark.parametrize("qs, param", [
    ("q=x&page=0", "page"), ("q=x&page=-1", "page"), ("q=x&page=abc", "page"), ("q=x&page=1001", "page"),
    ("q=x&page=1e3", "page"), ("q=x&sort=popular", "sort"), ("q=" + "长" * 1001, "q"),
    ("q=x" + "&tag=t" * 11, "tag"), ("q=x&category=" + "c" * 101, "category"),
])
def test_bad_parameters_are_400_pages(client, qs, param):
    r = client.get("/search?" + qs)
    assert r.status_code == 400
    assert r.mimetype == "text/html"
    assert "请求参数有误" in text_of(r) and param in text_of(r)


def test_query_and_filters_are_escaped(client):
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    r = client.get("/search", query_string={"q": evil, "tag": "<b>x</b>"})
    assert r.status_code == 200
    page = text_of(r)
    assert active_content(page) == []
    assert "<script>alert" not in page and "<img" not in page and "<b>x</b>" not in page
    assert "&lt;script&gt;" in page


# ----------------------------------------------------------------------- API

def test_api_search_is_the_result_page_json(client):
    r = client.get("/api/search", query_string={"q": QUERY, "per_page": 3})
    assert r.status_code == 200 and r.mimetype == "application/json"
    data = r.get_json()
    assert list(data) == ["query", "total", "page", "per_page", "took_ms", "note", "suggestion", "hits", "facets"]
    assert data["per_page"] == 3 and len(data["hits"]) == 3
    assert data["hits"][0]["path"] == SEED
    assert "<mark>GPT-4</mark>" in data["hits"][0]["snippet_html"]
    assert set(data["hits"][0]) >= {"path", "title", "url", "date", "tags", "categories", "score",
                                    "title_html", "snippet_html", "section", "anchor", "sections"}
    assert set(data["facets"]) == {"tags", "categories"}
    assert "参数" in r.get_data(as_text=True)  # readable UTF-8, not \\u escapes
    tagged = client.get("/api/search", query_string={"q": QUERY, "tag": "ChatGPT"}).get_json()
    assert [h["path"] for h in tagged["hits"]] == [SEED]


@pytest.mark.parametrize("qs, param", [
    ("q=x&page=0", "page"), ("q=x&page=zz", "page"), ("q=x&per_page=0", "per_page"),
    ("q=x&per_page=101", "per_page"), ("q=x&per_page=ten", "per_page"), ("q=x&sort=x", "sort"),
    ("", "q"), ("q=%20%20", "q"), ("q=x" + "&tag=a" * 11, "tag"), ("q=" + "x" * 1001, "q"),
])
def test_api_bad_parameters_are_json_400(client, qs, param):
    r = client.get("/api/search?" + qs)
    assert r.status_code == 400
    assert r.mimetype == "application/json"
    err = r.get_json()["error"]
    assert err["code"] == "bad_parameter" and err["param"] == param and err["message"]


def test_api_odd_but_valid_input_is_not_an_error(client):
    for q in ('"未闭合的引号', "-", "OR OR", "tag:", "date:not-a-date", "\x00\x01控制字符", "🙂", "a" * 900,
              "(((", "title:", "%%%", "\\"):
        r = client.get("/api/search", query_string={"q": q})
        assert r.status_code == 200, q
        assert isinstance(r.get_json()["hits"], list)


def test_api_unknown_route_and_method(client):
    r = client.get("/api/nothing")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = client.post("/api/search", data={"q": "x"})
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in r.headers["Allow"]


def test_suggest_titles_by_prefix_including_chinese(client):
    data = client.get("/api/suggest", query_string={"q": "Chat"}).get_json()
    assert data["titles"][0]["title"] == "ChatGPT是什么？"
    assert data["titles"][0]["url"] == SEED_URL
    assert data["tags"][0]["value"] == "ChatGPT" and data["tags"][0]["url"] == "/search?tag=ChatGPT"
    zh = client.get("/api/suggest", query_string={"q": "事务隔"}).get_json()
    assert zh["titles"], "no suggestion for a Chinese prefix that is not a jieba word"
    assert all("事务隔" in t["title"] for t in zh["titles"])
    starts = client.get("/api/suggest", query_string={"q": "预训练"}).get_json()
    assert starts["titles"][0]["title"].startswith("预训练")  # title prefixes rank first
    assert client.get("/api/suggest", query_string={"q": "ｃｈａｔ"}).get_json()["titles"]  # width-folded
    empty = client.get("/api/suggest?q=").get_json()
    assert empty == {"query": "", "titles": [], "tags": []}


def test_suggest_parameter_errors(client):
    assert client.get("/api/suggest", query_string={"q": "x" * 101}).status_code == 400
    assert client.get("/api/suggest?q=a&limit=0").status_code == 400
    r = client.get("/api/suggest?q=a&limit=x")
    assert r.status_code == 400 and r.get_json()["error"]["param"] == "limit"
    assert len(client.get("/api/suggest?q=%E7%9A%84&limit=3").get_json()["titles"]) <= 3


def test_healthz(client, engine):
    r = client.get("/healthz")
    assert r.status_code == 200
    data = r.get_json()
    assert data["status"] == "ok" and data["documents"] == engine.stats()["documents"]
    assert data["generation"].startswith("gen-")
    assert data["generation_age_s"] >= 0 and data["watch"] == {"state": "off"}  # no --watch


# ------------------------------------------------------------------ articles

def test_article_page_renders_markdown_and_metadata(client):
    r = client.get(SEED_URL)
    assert r.status_code == 200
    page = text_of(r)
    # the body's "# ChatGPT是什么？" is the page title (shown once, keeping its anchor)
    assert '<h1 class="article-title" id="chatgpt是什么">ChatGPT是什么？</h1>' in page
    assert page.count("ChatGPT是什么？</h1>") == 1
    assert re.search(r'<h2 id="基础知识">基础知识<a class="header-anchor" href="#基础知识"', page)
    assert '<time datetime="2024-02-24">2024-02-24</time>' in page
    assert 'href="/search?tag=ChatGPT">#ChatGPT</a>' in page
    assert 'href="/search?category=ChatGPT%E8%B4%A6%E5%8F%B7">ChatGPT账号</a>' in page
    assert "/chatgpt-info/what-is-chatgpt.html" in page  # permalink
    assert "ChatGPT、OpenApi、大模型" in page  # keywords from front matter
    assert "<mark>" not in page
    assert 'class="toc"' in page


def test_article_highlights_query_words_in_text_only(client):
    page = text_of(client.get(SEED_URL, query_string={"q": QUERY}))
    body = page.split('data-zs-article>', 1)[1]
    assert "<mark>GPT-4</mark>" in body and "<mark>参数</mark>" in body
    # marks never land inside a tag or attribute
    for tag in re.findall(r"<[^>]+>", body):
        assert "mark" not in tag or tag in ("<mark>", "</mark>"), tag
    assert "返回“GPT-4 参数”的搜索结果" in page and "清除高亮" in page


@pytest.mark.slow
def test_every_hit_anchor_exists_on_its_article_page(client, engine):
    """Section links from results land on a heading for every article of the corpus."""
    searcher = engine.generation().searcher()
    checked = 0
    for fields in searcher.all_stored_fields():
        r = client.get("/a/" + quote(fields["path"]))
        assert r.status_code == 200, fields["path"]
        ids = element_ids(text_of(r))
        for heading, anchor, *_ in fields["sections"]:
            if heading:
                assert anchor in ids, (fields["path"], heading, anchor)
                checked += 1
    assert checked > 500


@pytest.mark.parametrize("url", [
    "/a/../../etc/passwd", "/a/%2e%2e/%2e%2e/etc/passwd", "/a/..%2f..%2fetc%2fpasswd",
    "/a/%252e%252e%252fetc%252fpasswd", "/a//etc/passwd", "/a/%2Fetc%2Fpasswd", "/a/%2fetc/passwd",
    "/a/chatgpt-info/../chatgpt-info/what-is-chatgpt.md", "/a/./chatgpt-info/what-is-chatgpt.md",
    "/a/chatgpt-info/what-is-chatgpt.md%00.txt", "/a/..%5c..%5cetc%5cpasswd", "/a/README.txt",
    "/a/userdict.txt", "/a/Snailclimb__JavaGuide/SOURCE.txt", "/a/" + quote(str(CORPUS / SEED)),
    "/a/chatgpt-info", "/a/chatgpt-info/", "/a/", "/a", "/a/CHATGPT-INFO/WHAT-IS-CHATGPT.MD",
])
def test_article_paths_outside_the_index_are_404(client, url):
    r = client.get(url)
    assert r.status_code == 404, (url, r.status_code)
    assert "root:" not in text_of(r)


def test_weird_file_names_and_sanitizing(small):
    app, corpus, _ = small
    c = app.test_client()
    for rel in ("名字 有空格 & 符号《书名》.md", "back\\slash.md", "crlf.md"):
        r = c.get("/a/" + quote(rel))
        assert r.status_code == 200, rel
    page = text_of(c.get("/a/guide/linking.md"))
    body = page.split("data-zs-article>", 1)[1]
    assert active_content(page) == []
    for bad in ("<script", "onerror", "onclick", "javascript:", "<img", "style="):
        assert bad not in body, bad
    # relative links between articles go to their /a/ page and its anchor
    assert 'href="/a/markdown-features.md#%E5%8F%82%E6%95%B0%E9%87%8F%E4%BC%B0%E7%AE%97"' in body
    assert 'href="https://example.com" rel="noopener noreferrer"' in body


def test_symlink_out_of_the_corpus_is_not_served(small):
    app, _, _ = small
    r = app.test_client().get("/a/escape.md")
    assert r.status_code == 404
    assert "秘密内容" not in text_of(r)


def test_markup_in_titles_and_tags_is_escaped_everywhere(small):
    app, _, _ = small
    c = app.test_client()
    page = text_of(c.get("/search", query_string={"q": "跨站脚本"}))
    hits = results(page)
    assert hits and hits[0]["href"].startswith("/a/xss.md")
    assert hits[0]["title_html"] == "&lt;img src=x onerror=alert(1)&gt;"  # the raw title, escaped
    assert "<img" not in page and "<b>tag</b>" not in page
    assert "&lt;b&gt;tag&lt;/b&gt;" in page  # tag facet and hit tag, escaped
    assert active_content(page) == []
    art = text_of(c.get("/a/xss.md"))
    assert active_content(art) == []
    assert '<h1 class="article-title">&lt;img src=x onerror=alert(1)&gt;</h1>' in art
    assert "<title>&lt;img src=x onerror=alert(1)&gt; · zhsearch</title>" in art
    assert "跨站脚本攻击" in art and "alert(2)" in art  # the javascript: link stays text
    home = text_of(c.get("/"))
    assert "<b>tag</b>" not in home and "&lt;b&gt;tag&lt;/b&gt;" in home

    page = text_of(c.get("/search", query_string={"q": "猫和老鼠"}))
    hit = results(page)[0]
    assert hit["title_html"] == "Tom &amp; Jerry &lt;3 \" onmouseover=\"alert(1)"
    assert active_content(page) == []
    assert "&#34; onfocus=&#34;alert(1)" in page or "&quot; onfocus=&quot;alert(1)" in page
    assert "<i>斜体</i>" not in page and "&lt;i&gt;斜体&lt;/i&gt;" in page
    art = text_of(c.get("/a/quotes.md"))
    assert "<title>Tom &amp; Jerry &lt;3 &#34; onmouseover=&#34;alert(1) · zhsearch</title>" in art
    assert active_content(art) == [] and "<i>斜体</i>" not in art
    sugg = c.get("/api/suggest", query_string={"q": "Tom"}).get_json()
    assert sugg["titles"][0]["title"] == 'Tom & Jerry <3 " onmouseover="alert(1)'  # JSON: raw text


def test_front_matter_title_is_not_repeated_and_keeps_its_anchor(small):
    app, _, _ = small
    page = text_of(app.test_client().get("/a/markdown-features.md"))
    assert page.count("Markdown 语法特性测试</h1>") == 1
    assert '<h1 class="article-title" id="markdown-语法特性测试">' in page
    assert '<h2 id="gpt-4-的参数">' in page and '<h3 id="参数量估算">' in page
    assert '<pre><code class="language-python">' in page
    assert "<table>" in page and "<th>参数量</th>" in page


# ------------------------------------------------------------------ base URL

def test_base_url_sends_results_to_the_public_site(make_app, corpus_index):
    app = make_app(corpus_index, base_url="https://docs.example.com/")
    c = app.test_client()
    page = text_of(c.get("/search", query_string={"q": QUERY}))
    first = results(page)[0]
    assert first["href"] == "https://docs.example.com/chatgpt-info/what-is-chatgpt.html"
    assert first["section_href"].startswith("https://docs.example.com/chatgpt-info/what-is-chatgpt.html#")
    assert "站内预览" in page
    sugg = c.get("/api/suggest", query_string={"q": "Chat"}).get_json()
    assert sugg["titles"][0]["url"] == "https://docs.example.com/chatgpt-info/what-is-chatgpt.html"
    art = text_of(c.get(SEED_URL))
    assert 'href="https://docs.example.com/chatgpt-info/what-is-chatgpt.html"' in art


def test_base_url_must_be_http(make_app, corpus_index):
    app = make_app(corpus_index, base_url="javascript:alert(1)//")
    first = results(text_of(app.test_client().get("/search", query_string={"q": QUERY})))[0]
    assert first["href"].startswith(SEED_URL)


def test_settings_come_from_the_environment(corpus_index, monkeypatch):
    from web import create_app

    monkeypatch.setenv("ZHSEARCH_INDEX", str(corpus_index))
    monkeypatch.setenv("ZHSEARCH_CORPUS", str(CORPUS))
    monkeypatch.setenv("ZHSEARCH_BASE_URL", "https://env.example.org")
    app = create_app()
    settings = app.extensions["zhsearch"].settings
    assert settings.index == corpus_index and settings.corpus == CORPUS
    assert settings.base_url == "https://env.example.org"
    data = app.test_client().get("/api/suggest?q=Chat").get_json()
    assert data["titles"][0]["url"].startswith("https://env.example.org/")


# -------------------------------------------------------------- index state

def test_missing_index_is_a_friendly_503(make_app, tmp_path):
    app = make_app(tmp_path / "no-index")
    c = app.test_client()
    for url in ("/", "/search?q=x", SEED_URL):
        r = c.get(url)
        assert r.status_code == 503, url
        assert "还没有建立搜索索引" in text_of(r) and "zhsearch index" in text_of(r)
        assert str(tmp_path) not in text_of(r)
    for url in ("/api/search?q=x", "/api/suggest?q=x"):
        r = c.get(url)
        assert r.status_code == 503 and r.get_json()["error"]["code"] == "index_missing"
    r = c.get("/healthz")
    assert r.status_code == 503
    assert r.get_json() == {"status": "unavailable", "error": "index_missing", "watch": {"state": "off"}}


def test_corrupt_index_is_a_friendly_503(make_app, tmp_path):
    ix = tmp_path / "ix"
    ix.mkdir()
    (ix / "CURRENT").write_text("gen-000001\n")
    (ix / "gen-000001").mkdir()  # no meta.json, no segments
    app = make_app(ix)
    r = app.test_client().get("/search?q=x")
    assert r.status_code == 503 and "zhsearch index --rebuild" in text_of(r)
    r = app.test_client().get("/api/search?q=x")
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "index_unavailable"


def test_unexpected_errors_are_logged_not_shown(make_app, corpus_index, caplog):
    app = make_app(corpus_index)

    def boom():
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/api/boom", "api_boom", boom)
    c = app.test_client()
    with caplog.at_level("ERROR", logger="web.errors"):
        r = c.get("/boom")
    assert r.status_code == 500
    page = text_of(r)
    assert "服务器出错了" in page
    assert "secret internal detail" not in page and "Traceback" not in page
    assert any("secret internal detail" in (rec.exc_text or str(rec.exc_info)) for rec in caplog.records)
    r = c.get("/api/boom")
    assert r.status_code == 500 and r.get_json()["error"]["code"] == "internal_error"
    assert "secret" not in r.get_data(as_text=True)


def test_new_index_generation_is_served_without_restart(make_app, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "userdict.txt", corpus / "userdict.txt")
    shutil.copy(CORPUS / SEED, corpus / "seed.md")
    index = tmp_path / "ix"
    build_index(corpus, index)
    app = make_app(index, corpus)
    c = app.test_client()
    gen1 = c.get("/healthz").get_json()["generation"]
    assert c.get("/api/search?q=独角兽火锅").get_json()["total"] == 0

    write_article(corpus, "new/hotpot.md", "---\ntitle: 独角兽火锅指南\ntags: [火锅]\n---\n\n独角兽火锅的做法。\n")
    build_index(corpus, index)  # incremental update in "another terminal"
    data = c.get("/api/search?q=独角兽火锅").get_json()
    assert [h["path"] for h in data["hits"]] == ["new/hotpot.md"]
    assert c.get("/healthz").get_json()["generation"] != gen1
    assert c.get("/a/new/hotpot.md").status_code == 200
    assert c.get("/api/suggest?q=独角兽").get_json()["titles"][0]["path"] == "new/hotpot.md"
    assert "已索引 <strong>2</strong> 篇文章" in text_of(c.get("/"))

    # a full rebuild while requests keep coming: every request is answered
    failures: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        tc = app.test_client()
        while not stop.is_set():
            for url in ("/api/search?q=独角兽火锅", "/search?q=GPT-4", "/a/seed.md", "/api/suggest?q=独"):
                r = tc.get(url)
                if r.status_code != 200:
                    failures.append(f"{url} {r.status_code}")
            data = tc.get("/api/search?q=独角兽火锅").get_json()
            if data["total"] != 1:
                failures.append(f"total {data['total']}")

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        build_index(corpus, index, rebuild=True)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert not failures, failures[:5]
    assert c.get("/api/search?q=独角兽火锅").get_json()["total"] == 1


# ------------------------------------------------------------- any input

def test_no_input_is_a_server_error(app):
    """Whatever arrives in the query string or the path: an answer, never a 500."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    c = app.test_client()
    text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(q=text, page=st.one_of(st.none(), text, st.integers(-5, 2000).map(str)),
           tag=st.lists(text, max_size=3), sort=st.one_of(st.none(), st.sampled_from(["date", "relevance", "x"])),
           path=text)
    def check(q, page, tag, sort, path):
        qs = {"q": q, "tag": tag}
        if page is not None:
            qs["page"] = page
        if sort is not None:
            qs["sort"] = sort
        for url in ("/search", "/api/search"):
            r = c.get(url, query_string=qs)
            assert r.status_code in (200, 302, 400), (url, qs, r.status_code)
        assert c.get("/api/suggest", query_string={"q": q}).status_code in (200, 400)
        r = c.get("/a/" + quote(path, safe="/"))
        assert r.status_code in (200, 404), (path, r.status_code)

    check()


def test_indexed_article_whose_file_is_gone_shows_the_indexed_text(make_app, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "userdict.txt", corpus / "userdict.txt")
    write_article(corpus, "gone.md", "---\ntitle: 即将删除\n---\n\n## 第一节\n\n这篇文章的文件会被删除。\n")
    index = tmp_path / "ix"
    build_index(corpus, index)
    (corpus / "gone.md").unlink()  # deleted, index not yet updated
    c = make_app(index, corpus).test_client()
    r = c.get("/a/gone.md?q=删除")
    assert r.status_code == 200
    page = text_of(r)
    assert "原文件已无法读取" in page and '<h2 id="第一节">' in page
    assert "<mark>删除</mark>" in page


def test_an_index_of_no_articles_answers_every_page(make_app, tmp_path):
    """An empty corpus folder (a new site) indexes to zero articles: every page
    and endpoint answers, none with a 500 (an index without segments has no
    columns to read)."""
    corpus = tmp_path / "empty"
    corpus.mkdir()
    index = tmp_path / "ix"
    build_index(corpus, index)
    client = make_app(index, corpus).test_client()
    for path in ("/", "/search?q=模型", "/search?q=模型&sort=date", "/search?tag=x", "/search?q=canshu",
                 '/search?q="自然语言"+-模型', "/api/suggest?q=模", "/healthz"):
        r = client.get(path)
        assert r.status_code == 200, path
    r = client.get("/api/search?q=" + quote(QUERY))
    assert r.status_code == 200 and r.get_json()["total"] == 0 and r.get_json()["hits"] == []
    assert client.get("/a/x.md").status_code == 404
