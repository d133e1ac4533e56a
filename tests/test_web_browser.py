"""The site in a real browser: Playwright driving Debian's headless chromium.

A live server (werkzeug, threaded, on a free port) runs in this process over
the session's index of the embedded corpus; a second one serves a small
corpus with markup in titles and tags for the XSS check.  Screenshots of the
home, results and article pages go to the test's tmp dir, and also to
``docs/`` when ``ZHSEARCH_UPDATE_SCREENSHOTS=1`` (so CI never dirties the tree).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote
from urllib.request import urlopen

import pytest

from tests.browser import watch
from tests.conftest import CORPUS, FIXTURES, ROOT, build_index, write_article

pytestmark = pytest.mark.browser

SEED_PATH = "/a/chatgpt-info/what-is-chatgpt.md"
QUERY = "GPT-4 参数"
DOCS = ROOT / "docs"
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def site(app, live_server) -> Iterator[str]:
    with live_server(app) as url:
        # load jieba and the catalog first, so screenshots show a typical search time
        urlopen(url + "/api/search?q=" + quote(QUERY), timeout=60).read()
        urlopen(url + "/api/suggest?q=GPT", timeout=60).read()
        yield url


@pytest.fixture(scope="module")
def xss_site(make_app, live_server, tmp_path_factory) -> Iterator[str]:
    base = tmp_path_factory.mktemp("web-xss")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "userdict.txt", corpus / "userdict.txt")  # same segmentation as the main index
    shutil.copy(FIXTURES / "xss.md", corpus / "xss.md")
    shutil.copy(FIXTURES / "markdown-features.md", corpus / "markdown-features.md")
    shutil.copy(CORPUS / "chatgpt-info" / "what-is-chatgpt.md", corpus / "seed.md")
    write_article(corpus, "quotes.md", (
        '---\ntitle: "<img src=y onerror=alert(7)> 跨站 \\" onmouseover=\\"alert(8)"\n'
        'tags: ["<svg onload=alert(9)>", "\\" autofocus onfocus=\\"alert(10)"]\n---\n\n'
        "跨站脚本的另一个例子：<img src=y onerror=alert(11)>\n"))
    build_index(corpus, base / "ix")
    with live_server(make_app(base / "ix", corpus)) as url:
        yield url


def save_screenshot(pg, tmp_path: Path, name: str) -> Path:
    shot = tmp_path / f"screenshot-{name}.png"
    pg.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("ZHSEARCH_UPDATE_SCREENSHOTS") == "1":
        DOCS.mkdir(exist_ok=True)
        shutil.copy(shot, DOCS / shot.name)
    return shot


def total(pg) -> int:
    return int(pg.locator("[data-zs-total]").inner_text())


# ------------------------------------------------------------------- tests

def test_search_from_home_then_open_the_article(page, site, tmp_path):
    seen = watch(page)
    page.goto(site + "/")
    box = page.locator("#zs-q")
    assert page.evaluate("document.activeElement && document.activeElement.id") == "zs-q"
    assert "100" in page.locator("[data-zs-stats]").inner_text()
    save_screenshot(page, tmp_path, "home")

    page.keyboard.type(QUERY)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    assert box.input_value() == QUERY  # the query stays in the box

    first = page.locator("li.result").first
    href = first.locator("h2.result-title a").get_attribute("href")
    assert href.startswith(SEED_PATH)
    snippet = first.locator("p.snippet").inner_html()
    assert "<mark>GPT-4</mark>" in snippet and "<mark>参数</mark>" in snippet
    page.mouse.move(0, 0)
    page.locator("body").click(position={"x": 5, "y": 300})  # close suggestions for a clean picture
    save_screenshot(page, tmp_path, "results")

    first.locator("a.result-section").click()
    page.wait_for_url(re.compile(re.escape(SEED_PATH) + r"\?q=.*#"))
    anchor = page.evaluate("decodeURIComponent(location.hash.slice(1))")
    assert page.locator(f'[id="{anchor}"]').count() == 1  # the section link lands on its heading
    assert page.locator("[data-zs-article] mark").count() >= 2
    assert page.locator("[data-zs-article] mark", has_text="GPT-4").count() >= 1
    page.evaluate("window.scrollTo(0, 0)")
    save_screenshot(page, tmp_path, "article")
    assert seen == {"dialogs": [], "csp": [], "errors": []}


def test_tag_facet_narrows_the_list(page, site):
    seen = watch(page)
    page.goto(site + "/search?q=" + QUERY)
    before = total(page)
    assert before > 1
    facet = page.locator('[data-facet="tags"] a.facet-item', has_text="ChatGPT")
    if not facet.is_visible():  # beyond the first few values: behind "更多标签"
        page.locator('[data-facet="tags"] .facet-more > summary').click()
    facet.click()
    page.wait_for_url(re.compile(r"tag=ChatGPT"))
    assert total(page) < before
    assert page.locator("li.result").count() == total(page)
    active = page.locator('[data-facet="tags"] a.facet-item.is-active', has_text="ChatGPT")
    assert active.count() == 1
    active.click()  # click again: the filter goes away
    page.wait_for_url(lambda url: "tag=" not in url)
    assert total(page) == before
    assert seen["errors"] == [] and seen["csp"] == []


def test_keyboard_shortcuts_and_suggestions(page, site):
    seen = watch(page)
    page.goto(site + "/search?q=" + QUERY)
    box = page.locator("#zs-q")
    page.locator("body").click(position={"x": 5, "y": 400})
    assert page.evaluate("document.activeElement.id") != "zs-q"
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "zs-q"
    assert box.input_value() == QUERY  # "/" focused the box, it was not typed into it

    page.locator("body").click(position={"x": 5, "y": 400})
    page.keyboard.press("Control+k")
    assert page.evaluate("document.activeElement.id") == "zs-q"

    page.keyboard.press("Control+a")
    page.keyboard.type("Chat")
    listbox = page.locator("#zs-suggest")
    listbox.wait_for(state="visible")
    assert box.get_attribute("aria-expanded") == "true"
    options = listbox.locator('[role="option"]')
    assert "ChatGPT是什么？" in options.first.inner_text()
    page.keyboard.press("ArrowDown")
    assert options.first.get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    assert options.first.get_attribute("aria-selected") == "true"
    page.keyboard.press("Escape")
    listbox.wait_for(state="hidden")
    assert box.get_attribute("aria-expanded") == "false"

    # a Chinese prefix that is not a word for jieba still suggests titles
    page.keyboard.press("Control+a")
    page.keyboard.type("事务隔")
    listbox.wait_for(state="visible")
    assert "事务隔离" in options.first.inner_text()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # Enter opens the selected suggestion
    page.wait_for_url(re.compile(r"/a/.+\.md$"))
    assert "事务隔离" in page.locator("h1").inner_text()
    assert seen == {"dialogs": [], "csp": [], "errors": []}


def test_phone_width(browser, site):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                              has_touch=True)
    try:
        pg = ctx.new_page()
        for path in ("/", "/search?q=" + QUERY, SEED_PATH + "?q=" + QUERY):
            pg.goto(site + path)
            overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (path, overflow)
            assert pg.locator("#zs-q").is_visible()
        pg.goto(site + "/search?q=" + QUERY)
        assert pg.locator("[data-zs-facets]").evaluate("d => d.open") is False  # results first
        pg.locator("[data-zs-facets] > summary").click()
        assert pg.locator('[data-facet="tags"] a.facet-item').first.is_visible()
        font = pg.evaluate("getComputedStyle(document.body).fontFamily")
        assert "Noto Sans CJK SC" in font and "PingFang SC" in font
        assert pg.evaluate("document.documentElement.lang") == "zh-CN"
    finally:
        ctx.close()


INJECTED = ("document.querySelectorAll('img, iframe, object, embed, svg:not([aria-hidden]), "
            "[onerror], [onload], [onfocus], [onmouseover]').length")


def test_markup_in_titles_and_tags_never_runs(page, xss_site):
    seen = watch(page)
    page.goto(xss_site + "/search?q=跨站")
    hits = page.locator("h2.result-title a")
    assert hits.count() >= 2
    assert "<img src=x onerror=alert(1)>" in hits.all_inner_texts()  # markup shown as text
    facet = page.locator('[data-facet="tags"] a.facet-item', has_text="<svg onload=alert(9)>")
    assert facet.count() == 1  # markup in a tag is shown as text
    assert page.evaluate(INJECTED) == 0
    for href in [a.get_attribute("href") for a in hits.all()]:
        page.goto(xss_site + href)
        assert page.evaluate(INJECTED) == 0, href
    page.goto(xss_site + "/a/xss.md")
    assert page.locator("h1").inner_text() == "<img src=x onerror=alert(1)>"
    assert page.title().startswith("<img src=x onerror=alert(1)>")
    assert "跨站脚本攻击" in page.locator("[data-zs-article]").inner_text()

    # title suggestions are inserted with textContent too
    page.locator("#zs-q").fill("")
    page.locator("#zs-q").press_sequentially("<img")
    page.locator("#zs-suggest").wait_for(state="visible")
    assert "<img src=y onerror=alert(7)>" in page.locator("#zs-suggest").inner_text()
    assert page.evaluate(INJECTED) == 0
    page.keyboard.press("Escape")
    assert page.locator("[data-zs-article] a[href^=javascript]").count() == 0

    # suggestions insert server text with textContent: a tag made of markup stays text
    page.locator("#zs-q").fill("")
    page.locator("#zs-q").press_sequentially("<svg")
    page.locator("#zs-suggest").wait_for(state="visible")
    assert "#<svg onload=alert(9)>" in page.locator("#zs-suggest").inner_text()
    assert page.evaluate(INJECTED) == 0
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?tag="))
    assert "<svg onload=alert(9)>" in page.locator(".chips").inner_text()
    assert total(page) >= 1
    page.wait_for_timeout(200)
    assert page.evaluate(INJECTED) == 0
    assert seen["dialogs"] == [], seen["dialogs"]
    assert seen["errors"] == [] and seen["csp"] == []
