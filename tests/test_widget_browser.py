"""The search box on someone else's site, in a real browser.

A static "host site" (a small VuePress-like page with a strict CSP and
hostile CSS) is served on its own port, so it is another origin than the
zhsearch server; it embeds ``/widget.js`` and an ``<input data-zhsearch>``.
The zhsearch server allows that origin (``allow_origins``) and links results
to it (``base_url``), so following a result lands on the host site again.
The same site under ``localhost`` or another host name is an origin the
server does not allow.  Its pages take their accent colour from a theme
style sheet (``?theme=``: the variables the generators' default themes
define) or from ``data-zhsearch-accent`` on the script (``?accent=``).

Chinese input is driven through Chromium's own IME entry points over CDP
(``Input.imeSetComposition`` / ``Input.insertText``), which fire the real
composition events.  Screenshots of the dialog (light, dark, phone) go to the
test's tmp dir, and to ``docs/`` with ``ZHSEARCH_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit
from urllib.request import urlopen

import pytest

from tests.browser import watch
from tests.conftest import CORPUS, FIXTURES, ROOT, build_index, write_article

pytestmark = pytest.mark.browser

QUERY = "GPT-4 参数"
SEED_PERMALINK = "/chatgpt-info/what-is-chatgpt.html"
DOCS = ROOT / "docs"
HOSTILE_TITLE = "<img src=x onerror=alert(1)>"

HOST_CSS = """
:root { color-scheme: light dark; }
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

#: Accent colours as themes define them (?theme=NAME): ours, VuePress 2's
#: default theme (light and dark, as @vuepress/theme-default 2.0.0-rc.132
#: defines them), a site's own variable, or none.
THEMES = {
    "zhsearch": ":root { --zhsearch-accent: #11a8cd; }",
    "vuepress2": ":root { --vp-c-accent: #299764; } html.dark { --vp-c-accent: #3dd68c; }",
    "custom": ":root { --brand: rgb(200, 30, 90); }",
    "none": "",
}

HOST_PAGE = """<!doctype html>
<html lang="zh-CN"{html_attrs}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · 我的知识库</title>
<link rel="stylesheet" href="/host.css">
<link rel="stylesheet" href="/theme-{theme}.css">
<script src="{api}/widget.js" defer{script_attrs}></script>
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
        self.pages: dict[str, str] = {}  # path -> a page of its own ("{api}": the zhsearch server)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = urlsplit(self.path).path
                args = parse_qs(urlsplit(self.path).query)
                api = args.get("api", [site.api])[0]
                if path == "/host.css":
                    body, ctype = HOST_CSS.encode(), "text/css; charset=utf-8"
                elif path.startswith("/theme-") and path.endswith(".css"):
                    body, ctype = THEMES[path[7:-4]].encode(), "text/css; charset=utf-8"
                elif path in site.pages:
                    body, ctype = site.pages[path].replace("{api}", api).encode(), "text/html; charset=utf-8"
                else:
                    title = "首页" if path == "/" else path.strip("/").split("/")[-1]
                    body_class = "careless" if path.startswith("/careless/") else ""
                    accent = args.get("accent", [""])[0]
                    body = HOST_PAGE.format(
                        api=api, title=title, body_class=body_class, theme=args.get("theme", ["zhsearch"])[0],
                        html_attrs=' class="dark"' if args.get("dark") else "",
                        script_attrs=f' data-zhsearch-accent="{html.escape(accent)}"' if accent else "").encode()
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


@pytest.fixture(scope="module")
def host() -> Iterator[HostSite]:
    h = HostSite()
    yield h
    h.close()


def for_host(make_app, index: Path, corpus: Path, host: HostSite):
    """zhsearch over ``index`` for the host site: results link to it, and it may call the API."""
    return make_app(index, corpus, base_url=host.origin, allow_origins=[host.origin])


@pytest.fixture(scope="module")
def api(make_app, live_server, corpus_index, host) -> Iterator[str]:
    with live_server(for_host(make_app, corpus_index, CORPUS, host)) as url:
        host.api = url
        urlopen(url + "/api/widget?q=" + quote(QUERY), timeout=60).read()  # jieba loaded before the clock runs
        yield url


@pytest.fixture(scope="module")
def hostile_api(make_app, live_server, tmp_path_factory, host) -> Iterator[str]:
    base = tmp_path_factory.mktemp("widget-xss")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "userdict.txt", corpus / "userdict.txt")
    shutil.copy(FIXTURES / "xss.md", corpus / "xss.md")
    write_article(corpus, "quotes.md", (
        '---\ntitle: "<svg onload=alert(7)> 跨站 </mark><script>alert(8)</script>"\n'
        'categories: ["<b onmouseover=alert(9)>分类</b>"]\n---\n\n'
        "跨站脚本的另一个例子：<img src=y onerror=alert(11)> &lt;mark&gt;假高亮&lt;/mark&gt;\n\n"
        "## 跨站 &lt;b onclick=alert(12)&gt;小节\n\n这一节也讲跨站脚本。\n"))
    build_index(corpus, base / "ix")
    with live_server(for_host(make_app, base / "ix", corpus, host)) as url:
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
    """Every result row's link: articles and their sections."""
    return pg.locator("zhsearch-widget .zs-hit")


def articles(pg):
    return pg.locator("zhsearch-widget .zs-article")


def active(pg):
    return pg.locator("zhsearch-widget [role=option][aria-selected=true]")


def dialog_text(pg) -> str:
    return pg.locator("zhsearch-widget .zs-dialog").inner_text()


def type_query(pg, text: str) -> None:
    pg.keyboard.type(text)
    pg.wait_for_function(
        """q => { const r = document.querySelector('zhsearch-widget');
                  return r && r.shadowRoot.querySelector('.zs-status').textContent.length > 0
                         && r.shadowRoot.querySelector('.zs-input').value === q; }""", arg=text)


def api_json(api_origin: str, q: str, **params) -> dict:
    """What the server answers the widget, exactly (links as it computes them)."""
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    return json.loads(urlopen(f"{api_origin}/api/widget?q={quote(q)}&{query}", timeout=30).read().decode())


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

    seed = api_json(api, QUERY, limit=8)["hits"][0]
    article = articles(page).first
    assert article.locator(".zs-hit").get_attribute("href") == host.origin + SEED_PERMALINK == seed["article_url"]
    assert article.locator(".zs-title").inner_text() == "ChatGPT是什么？"
    section = page.locator("zhsearch-widget .zs-sub").first  # the seed's matching section, under it
    href = section.locator("a").get_attribute("href")
    assert href == f"{host.origin}{SEED_PERMALINK}#{quote('gpt模型的发展历程', safe='')}" == seed["url"]
    assert section.locator(".zs-section").inner_text() == "GPT模型的发展历程"
    assert {"GPT-4", "参数"} <= set(section.locator(".zs-snippet mark").all_inner_texts())
    assert active(page).locator("a").get_attribute("href") == href  # Enter opens the passage that matched
    full = page.locator("zhsearch-widget .zs-full")
    assert full.get_attribute("href").startswith(api + "/search?q=GPT-4")
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


def styles(pg) -> list:
    passage = pg.locator("zhsearch-widget .zs-sub").first
    return [articles(pg).first.locator(".zs-title").evaluate(STYLE),
            passage.locator(".zs-snippet").evaluate(STYLE), passage.locator("mark").first.evaluate(STYLE)]


def test_page_css_cannot_reach_the_dialog(page, host, api):
    open_host(page, host)
    page.locator("#site-search").click()
    type_query(page, QUERY)
    clean = styles(page)
    box = page.locator("zhsearch-widget .zs-dialog").bounding_box()
    open_host(page, host, "/careless/")
    page.locator("#site-search").click()
    type_query(page, QUERY)
    assert page.locator("zhsearch-widget .zs-dialog").bounding_box() == box  # shown, same place and size
    assert styles(page) == clean
    assert clean[0][0] == "16px" and clean[2][0] != "31px"
    mark_bg = page.locator("zhsearch-widget .zs-sub mark").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert mark_bg != "rgb(255, 0, 0)"


GROUPS = """() => [...document.querySelector('zhsearch-widget').shadowRoot.querySelectorAll('.zs-item')]
    .filter(li => li.matches('.zs-article, .zs-sub'))
    .map(li => [li.classList.contains('zs-sub') ? 'section' : 'article', li.querySelector('a').href,
                (li.querySelector('.zs-section') || li.querySelector('.zs-title')).textContent])"""


def test_results_are_grouped_by_article_with_their_sections(page, host, api):
    errors = console_errors(page)
    open_host(page, host)
    page.locator("#site-search").click()
    q = "Redis 事务"
    type_query(page, q)
    rows = page.evaluate(GROUPS)
    data = api_json(api, q, limit=8)
    expected = []
    for h in data["hits"]:  # each article once, then its sections with a heading of their own
        expected.append(["article", h["article_url"], h["title"]])
        expected += [["section", s["url"], s["heading"]] for s in h["sections"]
                     if s["heading"] and s["heading"] != h["title"]]
    assert rows == expected
    assert len({h["path"] for h in data["hits"]}) == len(data["hits"])
    grouped = [h for h in data["hits"] if len(h["sections"]) == 3]
    assert grouped, "an article with three matching sections"
    top = grouped[0]
    for s in top["sections"]:
        assert s["url"] == f"{host.origin}{top['article_url'][len(host.origin):]}#{quote(s['anchor'], safe='')}"
        assert len(re.findall(r"<mark>", s["snippet_html"])) >= 1
    # every anchor is a heading of the article as zhsearch renders it, with that generator's ids
    rendered = urlopen(api + "/a/" + quote(top["path"]), timeout=30).read().decode()
    for s in top["sections"]:
        assert f'id="{html.escape(s["anchor"])}"' in rendered, s["anchor"]
    # a section row opens its heading on the host site
    target = top["sections"][1]["url"]
    page.locator(f'zhsearch-widget .zs-sub a[href="{target}"]').click()
    page.wait_for_url(target)
    assert errors == []


def test_all_results_page_inside_the_dialog(page, host, api):
    errors = console_errors(page)
    requests = widget_requests(page)
    open_host(page, host)
    page.locator("#site-search").click()
    type_query(page, "模型")
    total = api_json(api, "模型", limit=8)["total"]
    assert total > 24
    pager = page.locator("zhsearch-widget .zs-page")
    assert articles(page).count() == 8
    assert pager.inner_text().split("\n") == [f"查看全部 {total} 条结果", f"已显示 8 / {total}"]
    pager.click()
    page.wait_for_function("() => document.querySelector('zhsearch-widget').shadowRoot"
                           ".querySelectorAll('.zs-article').length === 16")
    assert page.url == host.origin + "/"  # still on the site: the next page came into the dialog
    assert parse_qs(urlsplit(requests[-1]).query)["page"] == ["2"]
    assert pager.inner_text().split("\n") == ["显示更多结果", f"已显示 16 / {total}"]
    # from then on the next page comes as the list is scrolled to its end
    page.locator("zhsearch-widget .zs-body").evaluate("b => b.scrollTop = b.scrollHeight")
    page.wait_for_function("() => document.querySelector('zhsearch-widget').shadowRoot"
                           ".querySelectorAll('.zs-article').length === 24")
    paths = [urlsplit(h).path for h in articles(page).locator(".zs-hit").evaluate_all("as => as.map(a => a.href)")]
    assert len(set(paths)) == 24  # pages follow each other: no article twice
    # and by keyboard: the last row is the pager, Enter loads the next page and moves onto it
    page.keyboard.press("ArrowUp")
    while active(page).get_attribute("class") != "zs-item zs-page":
        page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('zhsearch-widget').shadowRoot"
                           ".querySelectorAll('.zs-article').length === 32")
    first_new = articles(page).nth(24)
    assert first_new.get_attribute("aria-selected") == "true"
    assert errors == []


def test_closing_while_a_page_loads_offers_it_again(page, host, api):
    held = []
    page.route("**/api/widget?*page=2*", lambda route: held.append(route))  # never answered
    open_host(page, host)
    page.locator("#site-search").click()
    type_query(page, "模型")
    pager = page.locator("zhsearch-widget .zs-page")
    pager.click()
    page.wait_for_function("() => document.querySelector('zhsearch-widget').shadowRoot"
                           ".querySelector('.zs-page').textContent.startsWith('正在加载')")
    page.keyboard.press("Escape")
    page.unroute("**/api/widget?*page=2*")
    page.keyboard.press("Control+k")  # the same query, its results still there
    assert pager.inner_text().startswith("显示更多结果") and articles(page).count() == 8
    pager.click()
    page.wait_for_function("() => document.querySelector('zhsearch-widget').shadowRoot"
                           ".querySelectorAll('.zs-article').length === 16")
    assert len(held) == 1


def test_the_pager_shows_only_when_more_results_exist(page, host, api):
    open_host(page, host)
    page.locator("#site-search").click()
    few = "redis"
    type_query(page, few)
    assert api_json(api, few, limit=8)["total"] == articles(page).count() <= 8
    assert page.locator("zhsearch-widget .zs-page").count() == 0
    assert page.locator("zhsearch-widget .zs-full").is_visible()  # zhsearch's full results page stays one click away
    page.keyboard.press("Control+a")
    eleven = "向量数据库"
    type_query(page, eleven)
    total = api_json(api, eleven, limit=8)["total"]
    assert 8 < total <= 16
    page.locator("zhsearch-widget .zs-page").click()
    page.wait_for_function(f"() => document.querySelector('zhsearch-widget').shadowRoot"
                           f".querySelectorAll('.zs-article').length === {total}")
    assert page.locator("zhsearch-widget .zs-page").count() == 0  # all shown: nothing more to offer


ACCENT = """() => { const r = document.querySelector('zhsearch-widget').shadowRoot;
    return getComputedStyle(r.querySelector('.zs-icon')).color; }"""


@pytest.mark.parametrize("query, colour", [
    ("theme=zhsearch", "rgb(17, 168, 205)"),  # --zhsearch-accent on the page
    ("theme=vuepress2", "rgb(41, 151, 100)"),  # VuePress 2's default theme: --vp-c-accent
    ("theme=vuepress2&dark=1", "rgb(61, 214, 140)"),  # ... in its dark mode, read when the dialog opens
    ("theme=none", "rgb(52, 81, 178)"),  # nothing on the page: ours
    ("theme=vuepress2&accent=%2311a8cd", "rgb(17, 168, 205)"),  # data-zhsearch-accent wins (vdoing's colour)
    ("theme=custom&accent=--brand", "rgb(200, 30, 90)"),  # ... or names the page's own variable
    ("theme=custom&accent=var(--brand)", "rgb(200, 30, 90)"),
])
def test_the_accent_colour_comes_from_the_host_page(page, host, api, query, colour):
    errors = console_errors(page)
    open_host(page, host, "/?" + query)
    page.locator("#site-search").click()
    type_query(page, QUERY)
    assert page.evaluate(ACCENT) == colour
    assert active(page).locator(".zs-section").evaluate("e => getComputedStyle(e).color") == colour
    assert errors == []


def test_an_accent_that_is_no_colour_is_named_in_the_console(page, host, api):
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text))
    open_host(page, host, "/?theme=vuepress2&accent=--missing")
    page.locator("#site-search").click()
    type_query(page, QUERY)
    assert page.evaluate(ACCENT) == "rgb(41, 151, 100)"  # the theme's own accent instead
    assert any('data-zhsearch-accent="--missing"' in w for w in warnings)


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
    # Enter opens the best passage by default: the seed's matching section, under its title
    assert options.nth(1).get_attribute("aria-selected") == "true"
    assert "zs-sub" in options.nth(1).get_attribute("class")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert options.nth(2).get_attribute("aria-selected") == "true"
    assert options.nth(1).get_attribute("aria-selected") == "false"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # wraps to the last
    assert options.last.get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowDown")  # and back to the first
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    second = options.nth(2).locator("a").get_attribute("href")
    assert second.startswith(host.origin + "/") and second != options.nth(1).locator("a").get_attribute("href")
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
    sections = page.locator("zhsearch-widget .zs-sub .zs-section").all_inner_texts()
    assert "跨站 <b onclick=alert(12)>小节" in sections  # a heading's markup, as text
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


BLOCKED = """() => document.querySelector('zhsearch-widget').shadowRoot.querySelector('.zs-empty .zs-error') !== null"""


def search_from(pg, origin: str, q: str = "redis") -> None:
    """Search on the host site's page under ``origin`` until the dialog shows an error."""
    pg.goto(origin + "/")
    pg.wait_for_function("window.zhsearch && window.zhsearch.version")
    pg.locator("#site-search").click()
    pg.keyboard.type(q)
    pg.wait_for_function(BLOCKED)


def test_a_blocked_origin_on_localhost_names_the_fix(browser, host, api):
    # http://localhost:PORT is another origin than the allowed http://127.0.0.1:PORT
    ctx = browser.new_context(locale="zh-CN")
    try:
        pg = ctx.new_page()
        requests = widget_requests(pg)
        errors = console_errors(pg)
        origin = f"http://localhost:{host.port}"
        search_from(pg, origin)
        fix = f"--allow-origin {origin}"
        assert pg.locator("zhsearch-widget .zs-error").inner_text() == f"这个页面（{origin}）还不能使用搜索服务。"
        assert pg.locator("zhsearch-widget .zs-fix").inner_text() == f"zhsearch serve {fix}"
        assert hits(pg).count() == 0
        paths = [urlsplit(r).path for r in requests]
        assert paths.count("/api/widget/origin") == 1 and set(paths) == {"/api/widget", "/api/widget/origin"}
        assert any(fix in e for e in errors)  # the console names it too
        # the next search fails the same way without asking again
        pg.keyboard.type(" 持久化")
        pg.wait_for_function("() => document.querySelector('zhsearch-widget').shadowRoot"
                             ".querySelector('.zs-input').value === 'redis 持久化'")
        pg.wait_for_timeout(500)
        assert [urlsplit(r).path for r in requests].count("/api/widget/origin") == 1
        assert pg.locator("zhsearch-widget .zs-fix").is_visible()
    finally:
        ctx.close()


def test_a_blocked_origin_elsewhere_shows_a_neutral_message(browser, host, api):
    """A real site's readers see no configuration; its developer finds the
    value in the console.  ``blog.test`` resolves to this machine in a
    browser of its own."""
    from tests.browser import CHROMIUM_ARGS, find_chromium

    b = browser.browser_type.launch(executable_path=find_chromium(), headless=True, timeout=60_000,
                                    args=CHROMIUM_ARGS + ["--host-resolver-rules=MAP blog.test 127.0.0.1"])
    try:
        pg = b.new_page(locale="zh-CN")
        errors = console_errors(pg)
        origin = f"http://blog.test:{host.port}"
        search_from(pg, origin)
        text = dialog_text(pg)
        assert "搜索服务暂时不可用。" in text and "请稍后再试。" in text
        assert "allow-origin" not in text and "blog.test" not in text
        assert pg.locator("zhsearch-widget .zs-fix").count() == 0
        assert any(f"zhsearch serve --allow-origin {origin}" in e for e in errors)
    finally:
        b.close()


def test_an_unreachable_server_is_not_mistaken_for_a_blocked_origin(page, host, api):
    errors = console_errors(page)
    open_host(page, host)
    page.route("**/api/widget**", lambda route: route.abort())  # the network is gone
    page.locator("#site-search").click()
    page.keyboard.type("redis")
    page.wait_for_function(BLOCKED)
    assert "无法连接搜索服务。" in dialog_text(page) and "allow-origin" not in dialog_text(page)
    assert not any("allow-origin" in e for e in errors)
