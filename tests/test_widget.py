"""The search box for the user's own site, through Flask's test client:
``/widget.js``, ``/api/widget``, CORS (allowed and foreign origins,
preflight) and serving under a reverse proxy's path prefix.

The widget's behaviour in a browser is tested in ``test_widget_browser.py``.
"""

from __future__ import annotations

import re
import shutil
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from click.testing import CliRunner

from tests.conftest import CORPUS, FIXTURES, build_index, write_article
from zhsearch.settings import Settings, clean_origin

SITE = "https://blog.example"
BASE = "https://docs.example/zh"
QUERY = "GPT-4 参数"
SEED_ANCHOR = "gpt模型的发展历程"


@pytest.fixture(scope="module")
def client(make_app, corpus_index):
    """The site as a blog embeds it: results link to the blog, which may call the API."""
    return make_app(corpus_index, base_url=BASE, allow_origins=[SITE]).test_client()


# ---------------------------------------------------------------- widget.js

def test_widget_js_is_one_self_contained_script(client):
    r = client.get("/widget.js")
    assert r.status_code == 200
    assert r.mimetype == "text/javascript"
    js = r.get_data(as_text=True)
    assert "zhsearch:css" not in js and ".zs-root" in js  # the CSS is inside
    assert r.headers["Access-Control-Allow-Origin"] == "*"  # a public script (crossorigin/SRI work)
    assert "max-age" in r.headers["Cache-Control"]
    again = client.get("/widget.js", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    # nothing is ever parsed as HTML, nothing is evaluated, nothing fetched from elsewhere
    for banned in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                   "new Function", "DOMParser", "http://", "https://"):
        code = re.sub(r"/\*.*?\*/|^\s*//.*$", "", js, flags=re.S | re.M)
        assert banned not in code.replace('"http://www.w3.org/2000/svg"', ""), banned


def test_one_combobox_core_serves_both_search_boxes(client):
    """``static/combobox.js`` (keys, IME guard, requests, active option) is
    pasted whole into the served widget, and the site's pages load it as a
    file of its own before ``app.js`` (no inline script)."""
    from web.assets import STATIC_DIR

    core = (STATIC_DIR / "combobox.js").read_text(encoding="utf-8")
    js = client.get("/widget.js").get_data(as_text=True)
    assert "zhsearch:combobox" not in js
    assert core in js and js.count("function zhsearchCombobox(") == 1
    page = client.get("/").get_data(as_text=True)
    scripts = [urlsplit(src).path for src in re.findall(r'<script src="([^"]+)"', page)]
    assert scripts == ["/static/combobox.js", "/static/app.js"]  # in this order, both deferred
    assert client.get("/static/combobox.js").get_data(as_text=True) == core
    # neither script keeps a copy of its own: no debounce, IME test, active option or abort
    for name in ("app.js", "widget.js"):
        own = re.sub(r"/\*.*?\*/|^\s*//.*$", "", (STATIC_DIR / name).read_text(encoding="utf-8"), flags=re.S | re.M)
        for part in ("DEBOUNCE", "229", "aria-activedescendant", "AbortController"):
            assert part not in own, (name, part)


def test_widget_js_defines_one_global_and_no_page_css(client):
    js = client.get("/widget.js").get_data(as_text=True)
    assert re.findall(r"window\.(\w+)\s*=", js) == ["zhsearch"]
    assert "attachShadow" in js and "adoptedStyleSheets" in js
    assert "document.head" not in js  # no <style> or <link> in the host page


# -------------------------------------------------------------- /api/widget

def test_api_widget_links_to_the_site_section(client):
    r = client.get("/api/widget", query_string={"q": QUERY})
    assert r.status_code == 200
    data = r.get_json()
    assert set(data) == {"query", "total", "page", "per_page", "took_ms", "note", "suggestion", "more_url", "hits",
                         "search_id"}
    assert data["total"] >= 1 and 1 <= len(data["hits"]) <= 8
    assert data["page"] == 1 and data["per_page"] == 8
    top = data["hits"][0]
    assert set(top) == {"title", "title_html", "snippet_html", "section", "url", "article_url", "path", "crumbs",
                        "date", "sections"}
    assert top["path"] == "chatgpt-info/what-is-chatgpt.md" and top["title"] == "ChatGPT是什么？"
    assert top["url"] == f"{BASE}/chatgpt-info/what-is-chatgpt.html#" + quote(SEED_ANCHOR, safe="")
    assert top["article_url"] == f"{BASE}/chatgpt-info/what-is-chatgpt.html"
    assert top["section"] == "GPT模型的发展历程"
    # its matching sections, each with its own link; the first is the hit's own
    assert top["sections"][0] == {"heading": "GPT模型的发展历程", "heading_html": "GPT模型的发展历程",
                                  "anchor": SEED_ANCHOR, "snippet_html": top["snippet_html"], "url": top["url"]}
    for h in data["hits"]:
        assert 0 <= len(h["sections"]) <= 3
        for s in h["sections"]:
            assert s["url"] == h["article_url"] + ("#" + quote(s["anchor"], safe="") if s["anchor"] else "")
    assert "<mark>GPT-4</mark>" in top["snippet_html"] and "<mark>参数</mark>" in top["snippet_html"]
    assert top["crumbs"] == ["ChatGPT账号"] and top["date"] == "2024-02-24"
    more = urlsplit(data["more_url"])
    assert more.path == "/search" and parse_qs(more.query)["q"] == [QUERY]


def test_api_widget_without_base_url_links_to_the_built_in_page(make_app, corpus_index):
    c = make_app(corpus_index).test_client()
    top = c.get("/api/widget", query_string={"q": QUERY}).get_json()["hits"][0]
    url = urlsplit(top["url"])
    assert url.path == "/a/chatgpt-info/what-is-chatgpt.md"
    assert parse_qs(url.query)["q"] == [QUERY] and url.fragment == quote(SEED_ANCHOR, safe="")


def test_api_widget_pages(client):
    """The dialog pages through the results: page N of ``limit`` follows page N - 1."""
    every = [h["path"] for h in client.get("/api/widget?q=数据库&limit=20").get_json()["hits"]]
    pages = [client.get(f"/api/widget?q=数据库&limit=5&page={n}").get_json() for n in (1, 2, 3, 4)]
    assert [p["page"] for p in pages] == [1, 2, 3, 4] and {p["per_page"] for p in pages} == {5}
    assert [h["path"] for p in pages for h in p["hits"]] == every
    beyond = client.get("/api/widget?q=数据库&limit=5&page=999").get_json()
    assert beyond["hits"] == [] and beyond["total"] == pages[0]["total"]


def test_api_widget_parameters(client):
    assert len(client.get("/api/widget?q=数据库&limit=3").get_json()["hits"]) == 3
    for bad in ("limit=0", "limit=21", "limit=x", "q=", "q=%20", "page=0", "page=x", "page=1001"):
        r = client.get("/api/widget?" + (bad if bad.startswith("q=") else "q=数据库&" + bad))
        assert r.status_code == 400, bad
        assert r.get_json()["error"]["code"] == "bad_parameter"
    # any string is a query: a result page, never a 500
    for q in ("<script>alert(1)</script>", '"', "\\", "*", "(((", "tag:", "😀" * 50, "a" * 999):
        assert client.get("/api/widget", query_string={"q": q}).status_code == 200, q


def test_api_widget_keeps_a_hostile_title_escaped(make_app, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "userdict.txt", corpus / "userdict.txt")
    shutil.copy(FIXTURES / "xss.md", corpus / "xss.md")
    build_index(corpus, tmp_path / "ix")
    data = make_app(tmp_path / "ix", corpus).test_client().get("/api/widget?q=跨站").get_json()
    hit = data["hits"][0]
    assert "<img" not in hit["title_html"] and "&lt;img src=x onerror=alert(1)&gt;" in hit["title_html"]
    assert re.sub(r"</?mark>", "", hit["snippet_html"]).count("<") == 0


# --------------------------------------------------------------------- CORS

def test_cors_allowed_origin_gets_its_origin_back(client):
    r = client.get("/api/widget", query_string={"q": QUERY}, headers={"Origin": SITE})
    assert r.headers["Access-Control-Allow-Origin"] == SITE
    assert "Origin" in r.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in r.headers
    # every JSON endpoint, errors included: the widget must be able to read them
    for path in ("/api/search?q=redis", "/api/suggest?q=GPT", "/healthz", "/api/widget?q=x&limit=99"):
        assert client.get(path, headers={"Origin": SITE}).headers.get("Access-Control-Allow-Origin") == SITE, path


def test_cors_foreign_origin_and_plain_requests_get_no_cors_header(client):
    for headers in ({"Origin": "https://evil.example"}, {"Origin": SITE + ".evil.example"},
                    {"Origin": "http://blog.example"}, {"Origin": "null"}, {}):
        r = client.get("/api/widget", query_string={"q": QUERY}, headers=headers)
        assert r.status_code == 200
        assert "Access-Control-Allow-Origin" not in r.headers, headers
        assert "Origin" in r.headers["Vary"]  # caches keep answers apart per origin


def test_origin_check_is_open_to_any_origin_and_says_only_whether_it_is_allowed(client):
    for origin, allowed in ((SITE, True), ("http://localhost:8080", False), ("https://evil.example", False),
                            ("null", False)):
        r = client.get("/api/widget/origin", headers={"Origin": origin})
        assert r.status_code == 200
        assert r.get_json() == {"origin": origin, "allowed": allowed}
        assert r.headers["Access-Control-Allow-Origin"] == "*"  # readable by the page that is not allowed
        assert "Origin" in r.headers["Vary"] and r.headers["Cache-Control"] == "no-store"
    same = client.get("/api/widget/origin")  # no Origin header: zhsearch's own pages, or no browser
    assert same.get_json() == {"origin": None, "allowed": True}
    assert "Access-Control-Allow-Origin" not in same.headers


def test_nothing_else_is_opened_to_other_origins(client):
    """The CORS rules stay exact: every other API path answers a foreign origin without
    ``Access-Control-Allow-Origin`` (the browser then refuses), preflights included."""
    from web.cors import PUBLIC_PATHS

    app = client.application
    paths = sorted({r.rule for r in app.url_map.iter_rules() if "<" not in r.rule})
    assert PUBLIC_PATHS == {"/api/widget/origin"}
    foreign = {"Origin": "https://evil.example"}
    for path in paths:
        if path in PUBLIC_PATHS or path == "/widget.js":  # the script itself is public (crossorigin, SRI)
            continue
        r = client.get(path, query_string={"q": "redis"}, headers=foreign)
        assert "Access-Control-Allow-Origin" not in r.headers, path
        pre = client.options(path, headers={**foreign, "Access-Control-Request-Method": "GET"})
        assert not [h for h in pre.headers.keys() if h.startswith("Access-Control-Allow")], path


def test_cors_preflight(client):
    pre = {"Origin": SITE, "Access-Control-Request-Method": "GET",
           "Access-Control-Request-Headers": "content-type"}
    r = client.options("/api/widget?q=x", headers=pre)
    assert r.status_code == 204 and r.get_data() == b""
    assert r.headers["Access-Control-Allow-Origin"] == SITE
    assert "GET" in r.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in r.headers["Access-Control-Allow-Headers"]
    assert int(r.headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Request-Headers" in r.headers["Vary"]
    foreign = client.options("/api/widget?q=x", headers={**pre, "Origin": "https://evil.example"})
    assert foreign.status_code == 204
    assert not [h for h in foreign.headers.keys() if h.startswith("Access-Control-Allow")]


def test_html_pages_keep_their_csp_and_are_never_shared(client):
    for path in ("/", "/search?q=redis", "/a/chatgpt-info/what-is-chatgpt.md", "/nope"):
        r = client.get(path, headers={"Origin": SITE})
        assert "Access-Control-Allow-Origin" not in r.headers, path
        assert "default-src 'self'" in r.headers["Content-Security-Policy"], path
        assert r.headers["X-Frame-Options"] == "DENY"
    pre = client.options("/search?q=x", headers={"Origin": SITE, "Access-Control-Request-Method": "GET"})
    assert "Access-Control-Allow-Origin" not in pre.headers


def test_cors_any_origin(make_app, corpus_index):
    c = make_app(corpus_index, allow_origins=["*"]).test_client()
    r = c.get("/api/widget?q=redis", headers={"Origin": "https://anyone.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_no_origin_allowed_by_default(make_app, corpus_index):
    c = make_app(corpus_index).test_client()
    assert "Access-Control-Allow-Origin" not in c.get("/api/widget?q=redis", headers={"Origin": SITE}).headers


def test_allowed_origins_from_flag_and_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ZHSEARCH_ALLOW_ORIGINS", " https://a.example , http://127.0.0.1:4000/,,https://A.example")
    assert Settings.load().allow_origins == ("https://a.example", "http://127.0.0.1:4000")
    assert Settings.load(allow_origins=["https://b.example"]).allow_origins == ("https://b.example",)
    assert clean_origin("HTTPS://Blog.Example:443") == "https://blog.example"
    for bad in ("blog.example", "https://blog.example/path", "ftp://x.example", "https://x.example?a=1"):
        with pytest.raises(ValueError):
            clean_origin(bad)
    monkeypatch.setenv("ZHSEARCH_ALLOW_ORIGINS", "blog.example")
    with pytest.raises(ValueError, match="scheme and host"):
        Settings.load()


def test_serve_rejects_a_malformed_origin_before_serving(tmp_path):
    from zhsearch.cli import main

    r = CliRunner().invoke(main, ["serve", "--index", str(tmp_path / "ix"), "--allow-origin", "blog.example/x"])
    assert r.exit_code == 2
    assert "blog.example/x" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "ix").exists()  # nothing was built


# ------------------------------------------------------ behind a reverse proxy

def test_the_site_under_a_url_prefix(make_app, corpus_index):
    c = make_app(corpus_index, url_prefix="/zhsearch/").test_client()
    home = c.get("/zhsearch/").get_data(as_text=True)
    assert 'href="/zhsearch/static/style.css' in home
    assert 'action="/zhsearch/search"' in home and 'data-zs-suggest="/zhsearch/api/suggest"' in home
    data = c.get("/zhsearch/api/widget", query_string={"q": QUERY}).get_json()
    assert data["more_url"].startswith("/zhsearch/search?")
    assert data["hits"][0]["url"].startswith("/zhsearch/a/chatgpt-info/what-is-chatgpt.md?")
    assert c.get("/zhsearch/widget.js").status_code == 200
    page = c.get("/zhsearch/search", query_string={"q": QUERY}).get_data(as_text=True)
    assert 'href="/zhsearch/a/chatgpt-info/what-is-chatgpt.md?' in page
    assert c.get("/api/widget?q=redis").status_code == 200  # straight to the port still works
    with pytest.raises(ValueError):
        Settings.load(url_prefix="/a b")


def test_an_undated_article_shows_no_date_and_sorts_last(make_app, tmp_path):
    corpus = tmp_path / "corpus"
    write_article(corpus, "dated.md", "---\ntitle: 有日期\ndate: 2020-01-01\n---\n\n向量数据库的索引结构。\n")
    write_article(corpus, "undated.md", "---\ntitle: 无日期\n---\n\n向量数据库的查询优化。\n")
    write_article(corpus, "lastmod.md", "---\ntitle: 更新日期\nlastmod: 2021-06-01\n---\n\n向量数据库的分片。\n")
    shutil.copy(CORPUS / "userdict.txt", corpus / "userdict.txt")
    build_index(corpus, tmp_path / "ix")
    c = make_app(tmp_path / "ix", corpus).test_client()
    data = c.get("/api/search?q=向量数据库&sort=date").get_json()
    assert [h["path"] for h in data["hits"]] == ["lastmod.md", "dated.md", "undated.md"]
    assert data["hits"][2]["date"] is None
    assert c.get("/api/widget?q=查询优化").get_json()["hits"][0]["date"] is None
    page = c.get("/search?q=向量数据库&sort=date").get_data(as_text=True)
    assert page.count("<time") == 2
    article = c.get("/a/undated.md").get_data(as_text=True)
    assert "<dt>日期</dt>" not in article and "<dt>日期</dt>" in c.get("/a/dated.md").get_data(as_text=True)
