"""The search box on someone else's site, in a real browser.

A static "host site" (a small VuePress-like page with a strict CSP and
hostile CSS) is served on its own port, so it is another origin than the
zhsearch server; it embeds ``/widget.js`` and an ``<input data-zhsearch>``.
The zhsearch server allows that origin (``allow_origins``) and links results
to it (``base_url``), so following a result lands on the host site again.

Chinese input is driven through Chromium's own IME entry points over CDP
(``Input.imeSetComposition`` / ``Input.insertText``), which fire the real
composition events.  Screenshots of the dialog (light, dark, phone) go to the
test's tmp dir, and to ``docs/`` with ``ZHSEARCH_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import os
import shutil
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, quote, urlsplit
from urllib.request import urlopen

import pytest
from werkzeug.serving import make_server

from search.settings import Settings
from tests.browser import watch
from tests.conftest import CORPUS, FIXTURES, ROOT, build_index, write_article

pytestmark = pytest.mark.browser

QUERY = "GPT-4 参数"
SEED_PERMALINK = "/chatgpt-info/what-is-chatgpt.html"
DOCS = ROOT / "docs"
HOSTILE_TITLE = "<img src=x onerror=alert(1)>"

HOST_CSS = """
:root { color-scheme: light dark; --zhsearch-accent: #11a8cd; }
body { margin: 0; font: 16px/1.7 "Noto Sans CJK SC", sans-serif; color: #2c3e50; background: #fff; }
.navbar { display: flex; align-items: center; gap: 24px; height: 58px; padding: 0 24px;
          border-bottom: 1px solid #eaecef; background: #fff; }
.logo { font-weight: 700; font-size: 20px; color: #2c3e50; }
.nav a { margin-right: 18px; color: #2c3e50; text-decoration: none; }
.search { margin-left: auto; }
.search input { width: 220px; padding: 6px 14px; border: 1px solid #cfd4db; border-radius: 16px;
                font-size: 14px; background: #fff; }
main { max-width: 760px; margin: 32px auto; padding: 0 24px; }
h1 { font-size: 28px; }
/* a careless theme (on /careless/ pages): none of this may reach the search dialog */
body.careless { font-size: 31px; line-height: 3; letter-spacing: 3px; color: red; text-align: right;
                font-family: serif; visibility: visible; direction: ltr; }
.careless li, .careless a, .careless span, .careless mark, .careless ul, .careless div {
  font-size: 31px !important; letter-spacing: 3px !important; }
.careless mark { background: red !important; }
.careless zhsearch-widget { display: none !important; opacity: .1 !important; transform: scale(.2) !important; }
.careless * { box-sizing: content-box !important; }
@media (prefers-color-scheme: dark) {
  body, .navbar, .search input { background: #1e1e22; color: #ddd; border-color: #333; }
  .logo, .nav a { color: #ddd; }
}
@media (max-width: 640px) { .nav { display: none; } .search input { width: 130px; } }
"""

HOST_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · 我的知识库</title>
<link rel="stylesheet" href="/host.css">
<script src="{api}/widget.js" defer></script>
</head>
<body class="{body_class}">
<header class="navbar">
  <span class="logo">我的知识库</span>
  <nav class="nav"><a href="/">首页</a><a href="/ai/">AI</a><a href="/db/">数据库</a><a href="/about/">关于</a><a id="menu-search" href="#zhsearch">搜索</a></nav>
  <div class="search"><input data-zhsearch id="site-search" placeholder="搜索文章  Ctrl K" aria-label="搜索"></div>
</header>
<main>
  <h1 id="top">{title}</h1>
  <p>这是使用 VuePress 构建的个人知识库，记录大模型、数据库与后端开发的学习笔记。</p>
  <p>在右上角的搜索框输入关键词，或者按 Ctrl K，即可搜索全站文章。</p>
  <button id="other" type="button">页面上的其他按钮</button>
</main>
</body>
</html>
"""


class HostSite:
    """A static site on its own port: every path is a page embedding the widget
    of ``self.api`` (set once the zhsearch server is up)."""

    def __init__(self) -> None:
        site = self
        self.api = ""

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                path = urlsplit(self.path).path
                api = parse_qs(urlsplit(self.path).query).get("api", [site.api])[0]
                if path == "/host.css":
                    body, ctype = HOST_CSS.encode(), "text/css; charset=utf-8"
                else:
                    title = "首页" if path == "/" else path.strip("/").split("/")[-1]
                    body_class = "careless" if path.startswith("/careless/") else ""
                    body = HOST_PAGE.format(api=api, title=title, body_class=body_class).encode()
                    ctype = "text/html; charset=utf-8"
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                # a strict page: the widget must work without inline styles or scripts
                self.send_header("Content-Security-Policy",
                                 f"default-src 'self'; script-src 'self' {api}; connect-src 'self' {api}; "
                                 "style-src 'self'; img-src 'self'")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def zhsearch_server(index: Path, corpus: Path, host: HostSite) -> Iterator[str]:
    from web import create_app

    app = create_app(Settings.load(corpus, index, warmup=False, base_url=host.origin,
                                   allow_origins=[host.origin]))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        t.join(5)


@pytest.fixture(scope="module")
def host() -> Iterator[HostSite]:
    h = HostSite()
    yield h
    h.close()


@pytest.fixture(scope="module")
def api(corpus_index, host) -> Iterator[str]:
    with zhsearch_server(corpus_index, CORPUS, host) as url:
        host.api = url
        urlopen(url + "/api/widget?q=" + quote(QUERY), timeout=60).read()  # jieba loaded before the clock runs
        yield url


@pytest.fixture(scope="module")
def hostile_api(tmp_path_factory, host) -> Iterator[str]:
    base = tmp_path_factory.mktemp("widget-xss")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "userdict.txt", corpus / "userdict.txt")
    shutil.copy(FIXTURES / "xss.md", corpus / "xss.md")
    write_article(corpus, "quotes.md", (
        '---\ntitle: "<svg onload=alert(7)> 跨站 </mark><script>alert(8)</script>"\n'
        'categories: ["<b onmouseover=alert(9)>分类</b>"]\n---\n\n'
        "跨站脚本的另一个例子：<img src=y onerror=alert(11)> &lt;mark&gt;假高亮&lt;/mark&gt;\n"))
    build_index(corpus, base / "ix")
    with zhsearch_server(base / "ix", corpus, host) as url:
        yield url


def console_errors(pg) -> list[str]:
    errors: list[str] = []
    pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
    return errors


def widget_requests(pg) -> list[str]:
    seen: list[str] = []
    pg.on("request", lambda r: "/api/widget" in r.url and seen.append(r.url))
    return seen


def open_host(pg, host: HostSite, path: str = "/") -> None:
    pg.goto(host.origin + path)
    pg.wait_for_function("window.zhsearch && window.zhsearch.version")


def hits(pg):
    return pg.locator("zhsearch-widget .zs-hit")


def type_query(pg, text: str) -> None:
    pg.keyboard.type(text)
    pg.wait_for_function(
        """q => { const r = document.querySelector('zhsearch-widget');
                  return r && r.shadowRoot.querySelector('.zs-status').textContent.length > 0
                         && r.shadowRoot.querySelector('.zs-input').value === q; }""", arg=text)


def seed_url(api_origin: str, host: HostSite) -> str:
    """The seed's section link exactly as the server computes it."""
    data = urlopen(api_origin + "/api/widget?q=" + quote(QUERY), timeout=30).read().decode()
    import json

    return json.loads(data)["hits"][0]["url"]


def save(pg, tmp_path: Path, name: str) -> Path:
    # the dialog fades in: a picture taken during the fade shows the page through it
    pg.wait_for_function("() => document.querySelector('zhsearch-widget').shadowRoot.getAnimations()"
                         ".every(a => a.playState !== 'running')")
    shot = tmp_path / f"screenshot-{name}.png"
    pg.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("ZHSEARCH_UPDATE_SCREENSHOTS") == "1":
        shutil.copy(shot, DOCS / shot.name)
    return shot


# ------------------------------------------------------------------- tests

def test_typing_shows_the_seed_first_as_a_link_to_the_site(page, host, api, tmp_path):
    seen = watch(page)
    errors = console_errors(page)
    open_host(page, host)
    page.locator("#site-search").click()
    dialog = page.locator("zhsearch-widget .zs-dialog")
    dialog.wait_for(state="visible")
    assert page.evaluate("document.querySelector('zhsearch-widget').shadowRoot.activeElement.className") == "zs-input"
    type_query(page, QUERY)

    first = hits(page).first
    href = first.get_attribute("href")
    expected = f"{host.origin}{SEED_PERMALINK}#{quote('gpt模型的发展历程', safe='')}"
    assert href == expected == seed_url(api, host)
    assert first.locator(".zs-title").inner_text() == "ChatGPT是什么？"
    assert first.locator(".zs-section").inner_text() == "GPT模型的发展历程"
    assert {"GPT-4", "参数"} <= set(first.locator(".zs-snippet mark").all_inner_texts())
    more = page.locator("zhsearch-widget .zs-more")
    assert more.get_attribute("href").startswith(api + "/search?q=GPT-4")
    page.mouse.move(0, 0)
    save(page, tmp_path, "widget-light")

    page.emulate_media(color_scheme="dark")
    page.keyboard.press("Escape")
    page.locator("#site-search").click()
    type_query(page, QUERY)
    bg = page.locator("zhsearch-widget .zs-dialog").evaluate("e => getComputedStyle(e).backgroundColor")
    assert bg == "rgb(27, 30, 37)"  # the dark palette
    page.mouse.move(0, 0)
    save(page, tmp_path, "widget-dark")
    assert seen == {"dialogs": [], "csp": [], "errors": []}
    assert errors == []


STYLE = """e => { const s = getComputedStyle(e);
    return [s.fontSize, s.letterSpacing, s.color, s.textAlign, s.fontFamily.split(',')[0], s.boxSizing]; }"""


def test_page_css_cannot_reach_the_dialog(page, host, api):
    open_host(page, host)
    page.locator("#site-search").click()
    type_query(page, QUERY)
    clean = [hits(page).first.locator(sel).first.evaluate(STYLE) for sel in (".zs-title", ".zs-snippet", "mark")]
    box = page.locator("zhsearch-widget .zs-dialog").bounding_box()
    open_host(page, host, "/careless/")
    page.locator("#site-search").click()
    type_query(page, QUERY)
    assert page.locator("zhsearch-widget .zs-dialog").bounding_box() == box  # shown, same place and size
    careless = [hits(page).first.locator(sel).first.evaluate(STYLE) for sel in (".zs-title", ".zs-snippet", "mark")]
    assert careless == clean
    assert clean[0][0] == "16px" and clean[2][0] != "31px"
    mark_bg = hits(page).first.locator("mark").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert mark_bg != "rgb(255, 0, 0)"


def test_phone_full_screen(browser, host, api, tmp_path):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                              has_touch=True, device_scale_factor=2)
    try:
        pg = ctx.new_page()
        errors = console_errors(pg)
        open_host(pg, host)
        pg.locator("#site-search").tap()
        box = pg.locator("zhsearch-widget .zs-dialog").bounding_box()
        assert box == {"x": 0, "y": 0, "width": 390, "height": 844}
        assert pg.locator("zhsearch-widget .zs-cancel").is_visible()
        type_query(pg, QUERY)
        assert hits(pg).count() >= 3
        overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0
        save(pg, tmp_path, "widget-phone")
        pg.locator("zhsearch-widget .zs-cancel").tap()
        assert not pg.locator("zhsearch-widget .zs-dialog").is_visible()
        assert errors == []
    finally:
        ctx.close()


IME_LOG = """() => {
    window.__ime = [];
    const input = document.querySelector('zhsearch-widget').shadowRoot.querySelector('.zs-input');
    for (const t of ['compositionstart', 'compositionend'])
        input.addEventListener(t, () => window.__ime.push(t));
    input.addEventListener('input', e => window.__ime.push('input:' + input.value + (e.isComposing ? ':composing' : '')));
    input.addEventListener('keydown', e => window.__ime.push('keydown:' + e.key + ':' + e.keyCode));
}"""


def test_ime_composition_sends_no_request(page, host, api):
    errors = console_errors(page)
    requests = widget_requests(page)
    open_host(page, host)
    page.locator("#site-search").click()
    page.evaluate(IME_LOG)
    cdp = page.context.new_cdp_session(page)
    for text in ("c", "can", "cans", "canshu"):  # pinyin being typed
        cdp.send("Input.imeSetComposition", {"text": text, "selectionStart": len(text), "selectionEnd": len(text)})
    page.wait_for_timeout(600)  # several debounce periods
    log = page.evaluate("window.__ime")
    assert log[0] == "compositionstart" and "input:canshu:composing" in log  # a real composition
    assert requests == []
    # an Enter while the IME is open belongs to the IME
    cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", "key": "Enter", "code": "Enter",
                                         "windowsVirtualKeyCode": 229, "nativeVirtualKeyCode": 229})
    page.wait_for_timeout(300)
    assert "keydown:Enter:229" in page.evaluate("window.__ime")
    assert requests == []
    with page.expect_response(lambda r: "/api/widget" in r.url):
        cdp.send("Input.insertText", {"text": "参数"})  # the candidate is chosen: composition ends
    assert "compositionend" in page.evaluate("window.__ime")
    assert len(requests) == 1 and parse_qs(urlsplit(requests[0]).query)["q"] == ["参数"]
    hits(page).first.wait_for()
    assert page.url == host.origin + "/"

    # Safari ends the composition first and then sends the Enter (keyCode 229):
    # that Enter must not open a result either
    cdp.send("Input.imeSetComposition", {"text": "gpt", "selectionStart": 3, "selectionEnd": 3})
    cdp.send("Input.insertText", {"text": "GPT"})
    page.wait_for_timeout(300)  # well after compositionend: only the keyCode says "IME"
    page.evaluate("""() => {
        const input = document.querySelector('zhsearch-widget').shadowRoot.querySelector('.zs-input');
        input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', keyCode: 229, bubbles: true, composed: true}));
    }""")
    assert page.evaluate("window.__ime").count("keydown:Enter:229") == 2
    page.wait_for_timeout(400)
    assert page.url == host.origin + "/"
    assert page.locator("zhsearch-widget .zs-dialog").is_visible()
    assert errors == []


def test_keyboard_navigation_opens_the_right_url(page, host, api):
    errors = console_errors(page)
    open_host(page, host)
    page.locator("#other").focus()
    page.keyboard.press("Control+k")
    assert page.evaluate("document.activeElement.tagName") == "ZHSEARCH-WIDGET"
    type_query(page, QUERY)
    options = page.locator("zhsearch-widget [role=option]")
    assert options.first.get_attribute("aria-selected") == "true"  # Enter opens the best hit by default
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert options.nth(1).get_attribute("aria-selected") == "true"
    assert options.first.get_attribute("aria-selected") == "false"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # wraps to the last
    assert options.last.get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowDown")  # and back to the first
    page.keyboard.press("ArrowDown")
    second = options.nth(1).locator("a").get_attribute("href")
    assert second.startswith(host.origin + "/") and second != hits(page).first.get_attribute("href")
    page.keyboard.press("Enter")
    page.wait_for_url(second)

    # the query is remembered: the next dialog offers it, and Enter on it searches again
    page.wait_for_function("window.zhsearch && window.zhsearch.version")
    page.keyboard.press("Control+k")
    recent = page.locator("zhsearch-widget .zs-recent")
    assert recent.first.inner_text().strip().startswith(QUERY)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_function("""q => document.querySelector('zhsearch-widget').shadowRoot
                                      .querySelector('.zs-input').value === q""", arg=QUERY)
    hits(page).first.wait_for()

    # a menu link to #zhsearch opens it too, without navigating
    page.keyboard.press("Escape")
    url = page.url
    page.locator("#menu-search").click()
    assert page.locator("zhsearch-widget .zs-dialog").is_visible()
    assert page.url == url and "zhsearch" not in url

    # Esc closes and gives the focus back; the page scrolls again
    page.keyboard.press("Escape")
    assert not page.locator("zhsearch-widget .zs-dialog").is_visible()
    assert page.evaluate("getComputedStyle(document.documentElement).overflow") == "visible"
    page.locator("#site-search").click()
    assert page.locator("zhsearch-widget .zs-dialog").is_visible()
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") == "site-search"  # back where the reader was
    page.wait_for_timeout(200)
    assert not page.locator("zhsearch-widget .zs-dialog").is_visible()  # and it did not reopen
    assert errors == []


INJECTED = """() => {
    const root = document.querySelector('zhsearch-widget').shadowRoot;
    const bad = root.querySelectorAll('img, script, iframe, object, embed, b, svg:not(.zs-icon), ' +
                                      '[onerror], [onload], [onmouseover]');
    const marks = [...root.querySelectorAll('mark')].map(m => m.textContent);
    return {bad: bad.length, marks};
}"""


def test_a_hostile_article_title_stays_text(page, host, hostile_api):
    seen = watch(page)
    errors = console_errors(page)
    open_host(page, host, "/?api=" + quote(hostile_api, safe=""))
    page.locator("#site-search").click()
    type_query(page, "跨站")
    titles = page.locator("zhsearch-widget .zs-title").all_inner_texts()
    assert HOSTILE_TITLE in titles
    assert "<svg onload=alert(7)> 跨站 </mark><script>alert(8)</script>" in titles
    crumbs = page.locator("zhsearch-widget .zs-crumbs").all_inner_texts()
    assert any("<b onmouseover=alert(9)>分类</b>" in c for c in crumbs)
    snippets = " ".join(page.locator("zhsearch-widget .zs-snippet").all_inner_texts())
    assert "<mark>假高亮</mark>" in snippets  # escaped markup in an article is text, not a highlight
    result = page.evaluate(INJECTED)
    assert result["bad"] == 0
    assert set(result["marks"]) <= {"跨站"}  # the only elements from the server: our <mark>s
    page.wait_for_timeout(200)
    assert seen == {"dialogs": [], "csp": [], "errors": []}
    assert errors == []


GLOBALS = """() => {
    const f = document.createElement('iframe');
    document.body.appendChild(f);
    const base = new Set(Object.keys(f.contentWindow));
    f.remove();
    return Object.keys(window).filter(k => !base.has(k));
}"""


def test_the_host_page_is_left_alone(page, host, api):
    errors = console_errors(page)
    open_host(page, host)
    before = page.evaluate("() => [document.head.innerHTML, document.querySelector('#site-search').outerHTML]")
    page.locator("#site-search").click()
    type_query(page, "redis")
    page.keyboard.press("Escape")
    assert page.evaluate(GLOBALS) == ["zhsearch"]  # one namespaced global
    after = page.evaluate("() => [document.head.innerHTML, document.querySelector('#site-search').outerHTML]")
    assert after == before  # no style or script added to the page, its input untouched
    # keys typed in the dialog never reach the page's own shortcuts
    page.evaluate("window.__keys = []; document.addEventListener('keydown', e => window.__keys.push(e.key))")
    page.locator("#site-search").click()
    page.keyboard.type("s/j")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("window.__keys") == []
    page.keyboard.press("Escape")
    page.keyboard.type("s")  # outside the dialog the page has its keys back
    assert page.evaluate("window.__keys") == ["s"]
    assert errors == []


def test_a_foreign_origin_is_refused(browser, host, api):
    # http://localhost:PORT is another origin than the allowed http://127.0.0.1:PORT
    ctx = browser.new_context(locale="zh-CN")
    try:
        pg = ctx.new_page()
        requests = widget_requests(pg)
        pg.goto(f"http://localhost:{host.port}/")
        pg.wait_for_function("window.zhsearch && window.zhsearch.version")
        pg.locator("#site-search").click()
        pg.keyboard.type("redis")
        empty = pg.locator("zhsearch-widget .zs-empty")
        empty.wait_for(state="visible")
        pg.wait_for_function("""() => document.querySelector('zhsearch-widget').shadowRoot
                                      .querySelector('.zs-empty').textContent.includes('无法连接')""")
        assert requests and hits(pg).count() == 0
    finally:
        ctx.close()
