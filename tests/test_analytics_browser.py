"""Analytics beacons in a real Chromium: the widget on another origin settles a
search after a second on its results, on Enter, or with a click, and sends
the click's rank; the results page sends the rank of the result opened.  A
blocked, failing or hanging beacon never stops the navigation."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from tests.browser import watch
from web import close_app

pytestmark = pytest.mark.browser

QUERY = "redis 持久化"
HOST_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{path}</title>
<script src="{api}/widget.js" defer></script></head>
<body><header><input data-zhsearch id="site-search" placeholder="搜索"></header>
<main><h1>{path}</h1><p>一个用 VuePress 写的站点。</p></main></body></html>
"""


class HostSite:
    """Another origin serving pages that embed the widget, under a strict CSP."""

    def __init__(self) -> None:
        site = self
        self.api = ""

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = HOST_PAGE.format(api=site.api, path=urlsplit(self.path).path).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Security-Policy", f"default-src 'self'; script-src 'self' {site.api}; "
                                 f"connect-src 'self' {site.api}; style-src 'self'")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Zhsearch:
    def __init__(self, url: str, app) -> None:
        self.url = url
        self.store = app.extensions["zhsearch"].analytics.store

    def rows(self, sql: str) -> list[sqlite3.Row]:
        assert self.store.flush(10)
        conn = sqlite3.connect(self.store.path)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    def paths(self, q: str) -> list[str]:
        """The articles of ``q``'s first page, asked as a keystroke (not recorded)."""
        from urllib.parse import quote
        from urllib.request import urlopen

        with urlopen(f"{self.url}/api/search?settled=0&q={quote(q)}", timeout=30) as r:
            return [h["path"] for h in json.loads(r.read())["hits"]]

    def searches(self) -> list[sqlite3.Row]:
        return self.rows("SELECT * FROM searches ORDER BY id")

    def clicks(self) -> list[sqlite3.Row]:
        return self.rows("SELECT * FROM clicks ORDER BY id")

    def wait(self, what, timeout: float = 15) -> list[sqlite3.Row]:
        """Rows of ``what()`` once there are some (beacons arrive on their own time)."""
        deadline = time.monotonic() + timeout
        while True:
            got = what()
            if got or time.monotonic() > deadline:
                return got
            time.sleep(0.05)


@pytest.fixture(scope="module")
def host() -> Iterator[HostSite]:
    h = HostSite()
    yield h
    h.close()


@pytest.fixture
def zs(make_app, live_server, corpus_index, host, tmp_path) -> Iterator[Zhsearch]:
    """zhsearch for the host site, recording to this test's own analytics file."""
    app = make_app(corpus_index, base_url=host.origin, analytics=tmp_path / "analytics.sqlite3",
                   allow_origins=[host.origin])
    with live_server(app) as url:
        host.api = url
        yield Zhsearch(url, app)
    close_app(app)


def open_widget(pg, host: HostSite, path: str = "/notes/page.html") -> None:
    pg.goto(host.origin + path + "?utm=secret#frag")
    pg.wait_for_function("window.zhsearch && window.zhsearch.version")
    pg.locator("#site-search").click()
    pg.locator("zhsearch-widget .zs-input").wait_for()


def wait_results(pg, q: str) -> None:
    pg.wait_for_function(
        """q => { const r = document.querySelector('zhsearch-widget').shadowRoot;
                  return r.querySelector('.zs-input').value === q
                         && (r.querySelector('.zs-status').textContent.length > 0
                             || !r.querySelector('.zs-empty').hidden); }""", arg=q)


def test_widget_settles_after_a_second_and_the_click_names_its_rank(page, host, zs):
    seen = watch(page)
    open_widget(page, host)
    page.keyboard.type(QUERY, delay=250)  # as-you-type: one request per pause
    wait_results(page, QUERY)
    (search,) = zs.wait(zs.searches)  # the keystrokes' answers were never recorded
    assert (search["query"], search["source"], search["settled"]) == (QUERY, "widget", "idle")
    assert search["page_path"] == "/notes/page.html"  # the host page's path, no query, no fragment
    assert search["results"] > 0 and search["folded"] == "redis持久化"
    second = page.locator("zhsearch-widget .zs-article > .zs-hit").nth(1)  # the second article (not a section row)
    href = second.get_attribute("href")
    second.click()
    page.wait_for_url(href)  # the reader lands on the article, on the host site
    (click,) = zs.wait(zs.clicks)
    assert (click["rank"], click["search_id"]) == (2, search["search_id"])
    assert click["path"] == zs.paths(QUERY)[1]  # the article the answer had at that rank
    assert len(zs.searches()) == 1  # the click settles the same search: still one row
    assert not seen["csp"] and not seen["errors"], seen


def test_a_section_row_names_its_articles_rank_and_a_page_loaded_in_the_dialog_its_own_search(page, host, zs):
    """Hits are grouped by article (a section row shares its article's rank),
    and each page brought into the dialog is an answer of its own: a click
    there names that answer's id and the rank within it."""
    open_widget(page, host)
    page.keyboard.type("模型")
    page.wait_for_function("""() => document.querySelector('zhsearch-widget').shadowRoot
                              .querySelectorAll('li.zs-article').length >= 8""")
    rank = page.evaluate("""() => {
        const items = [...document.querySelector('zhsearch-widget').shadowRoot.querySelectorAll('li.zs-item')];
        const sub = items.findIndex(li => li.classList.contains('zs-sub'));
        return sub < 0 ? 0 : items.slice(0, sub).filter(li => li.classList.contains('zs-article')).length;
    }""")
    assert rank >= 1, "no article with a section row for this query"
    sub = page.locator("zhsearch-widget .zs-sub > .zs-hit").first
    sub.click(modifiers=["Control"])  # a new tab: the dialog stays, with its answer
    (click,) = zs.wait(zs.clicks)
    (first_page,) = zs.searches()
    assert (click["rank"], click["search_id"]) == (rank, first_page["search_id"])
    assert click["path"] == zs.paths("模型")[rank - 1]
    page.locator("zhsearch-widget .zs-page").click()  # 查看全部: the next page, here
    page.wait_for_function("""() => document.querySelector('zhsearch-widget').shadowRoot
                              .querySelectorAll('li.zs-article').length > 8""")
    ninth = page.locator("zhsearch-widget .zs-article > .zs-hit").nth(8)  # the first of page 2
    ninth.click(modifiers=["Control"])
    clicks = zs.wait(lambda: zs.clicks()[1:])
    assert len(clicks) == 1 and clicks[0]["rank"] == 9  # the ninth result overall ...
    second_page = [r for r in zs.searches() if r["search_id"] == clicks[0]["search_id"]]
    assert second_page and second_page[0]["page"] == 2  # ... of the answer that showed it
    assert clicks[0]["search_id"] != first_page["search_id"]


def test_enter_settles_a_search_that_found_nothing(page, host, zs):
    open_widget(page, host)
    page.keyboard.type("zzqxvkwj")
    wait_results(page, "zzqxvkwj")
    page.keyboard.press("Enter")
    (search,) = zs.wait(zs.searches)
    assert (search["settled"], search["source"]) == ("enter", "widget")  # Enter came well within the second
    assert search["results"] == 0 and zs.clicks() == []


def test_closing_the_dialog_quickly_settles_nothing(page, host, zs):
    open_widget(page, host)
    page.keyboard.type("redis")
    wait_results(page, "redis")
    page.keyboard.press("Escape")  # the reader looked and left at once
    page.wait_for_timeout(1500)
    assert zs.searches() == []


@pytest.mark.parametrize("how", ["aborted", "hanging", "throwing"])
def test_a_blocked_beacon_never_stops_the_navigation(page, host, zs, how):
    pending = []
    if how == "aborted":  # an ad blocker
        page.route("**/api/click", lambda route: route.abort())
    elif how == "hanging":  # a server that never answers
        page.route("**/api/click", lambda route: pending.append(route))
    else:  # a page whose scripts broke sendBeacon
        page.add_init_script("navigator.sendBeacon = () => { throw new Error('blocked'); };")
    open_widget(page, host)
    page.keyboard.type(QUERY)
    wait_results(page, QUERY)
    first = page.locator("zhsearch-widget .zs-hit").first
    href = first.get_attribute("href")
    first.click()
    page.wait_for_url(href)
    assert page.url == href
    if how == "hanging":
        assert pending  # the beacon was sent, and is still waiting: the reader was not
        for route in pending:
            route.abort()
    assert zs.clicks() == []


def test_results_page_click_beacon(page, zs):
    seen = watch(page)
    page.goto(zs.url + "/search?q=" + QUERY)
    (search,) = zs.searches()
    assert (search["source"], search["settled"]) == ("page", "page")
    third = page.locator("ol.results > li.result").nth(2).locator("a[data-zs-hit]")
    href = third.get_attribute("href")
    third.click()
    page.wait_for_url(href)
    (click,) = zs.wait(zs.clicks)
    assert (click["rank"], click["search_id"], click["path"]) == (3, search["search_id"], zs.paths(QUERY)[2])
    page.goto(zs.url + "/search?q=" + QUERY + "&page=2")  # a second search, a section link of its page
    again = zs.searches()[1]
    assert (again["page"], again["first_rank"]) == (2, 11)
    page.locator("ol.results > li.result").nth(0).locator("a.result-section").click()
    clicks = zs.wait(lambda: zs.clicks()[1:])
    assert [(c["rank"], c["search_id"]) for c in clicks] == [(11, again["search_id"])]
    assert not seen["csp"] and not seen["errors"], seen


ADMIN_TOKEN = "an-admin-token-for-the-browser-test"


def test_admin_in_the_browser(make_app, live_server, browser, host, tmp_path):
    """The owner logs in with the form, reads the report (chart and tables,
    nothing the CSP refuses), and appends a synonym group from a row."""
    import os
    import shutil

    from tests.conftest import ROOT, build_site
    from tests.test_analytics import ARTICLES

    corpus = build_site(tmp_path, ARTICLES) / "corpus"
    app = make_app(tmp_path / "ix", corpus, analytics=tmp_path / "a.sqlite3", admin_token=ADMIN_TOKEN)
    client = app.test_client()
    for q in ("Redis 持久化", "Redis 持久化", "kubernetes", "a11y", "a11y", "canshu", "chatgtp", "红烧肉"):
        client.get("/search", query_string={"q": q})
    for q, rank in (("redis 持久化", 1), ("Redis", 1), ("kubernetes", 2), ("参数", 3), ("参数", 1)):
        sid = client.get("/api/widget", query_string={"q": q}).get_json()["search_id"]
        assert client.post("/api/click", data=json.dumps({"search": sid, "rank": rank}),
                           headers={"Origin": "http://localhost"}).status_code == 204
    with live_server(app) as url:
        ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 1100})
        try:
            pg = ctx.new_page()
            seen = watch(pg)
            pg.goto(url + "/admin")
            pg.locator("#admin-token").fill(ADMIN_TOKEN)
            pg.locator(".admin-login-form button").click()
            pg.locator(".admin-chart").wait_for()
            assert pg.url == url + "/admin" and ADMIN_TOKEN not in pg.url
            assert pg.locator(".admin-chart rect.found").count() == 31
            row = pg.locator('[data-admin-table="no-results"] tr', has_text="a11y")
            assert row.locator("td").nth(4).inner_text() == "accessibility"
            shot = tmp_path / "screenshot-admin.png"
            pg.screenshot(path=str(shot), full_page=True)
            if os.environ.get("ZHSEARCH_UPDATE_SCREENSHOTS") == "1":
                shutil.copy(shot, ROOT / "docs" / shot.name)
            row.get_by_role("button", name="同义词：accessibility").click()
            pg.locator(".admin-done").wait_for()
            assert "synonyms" in (corpus / "curation.yml").read_text(encoding="utf-8")
            assert not seen["csp"] and not seen["errors"] and not seen["dialogs"], seen
            cookies = ctx.cookies()
            assert [(c["name"], c["httpOnly"], c["sameSite"], c["path"]) for c in cookies] == [
                ("zhsearch_admin", True, "Strict", "/admin")]
        finally:
            ctx.close()
    close_app(app)
    hits = client.get("/api/search?q=a11y").get_json()["hits"]
    assert hits and hits[0]["path"] == "web/a11y.md"
