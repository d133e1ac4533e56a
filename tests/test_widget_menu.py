"""The search menu item, as each generator writes it, with and without JavaScript.

docs/DEPLOY.md advises, for every generator, a menu item that is a plain link
to zhsearch's results page.  ``tests/fixtures/menu`` holds a tiny site per
generator with that item, and ``menu.json`` the ``<a>`` element each real
generator wrote for it (``python -m tests.fixtures.menu.build`` rebuilds
them).  Here those very elements are put in a page's menu: without
JavaScript they lead to zhsearch's results page (VuePress 1 used to render
the old advice, ``#zhsearch``, as ``/pages/370df8/.html#zhsearch``, a 404);
with it, the widget opens its dialog in place.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import ROOT
from tests.test_widget_browser import api, host  # noqa: F401  (fixtures)

MENU = Path(__file__).resolve().parent / "fixtures" / "menu"
RECORD = json.loads((MENU / "menu.json").read_text(encoding="utf-8"))
SEARCH_URL = "https://search.blog.example/search"

PAGE = """<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>菜单</title>
<script src="{api}/widget.js" defer></script></head>
<body><nav class="navbar"><a href="/">首页</a> LINK</nav><main><p>正文。</p></main></body>
</html>
"""


def test_every_generator_writes_the_item_as_a_plain_link_to_the_results_page():
    assert set(RECORD) == {"vuepress", "vuepress-default", "vuepress2", "vitepress", "hexo", "hugo"}
    for name, rec in RECORD.items():
        href = re.search(r'href="([^"]*)"', rec["link"]).group(1)
        assert href == SEARCH_URL, name
        # the old advice went to a page of the site (VuePress 1: one that does not exist)
        assert not rec["legacy_href"].startswith(SEARCH_URL), name
    assert RECORD["vuepress"]["legacy_href"] == "/pages/370df8/.html#zhsearch"


def test_the_deploy_guide_advises_the_link_for_every_generator():
    readme = (ROOT / "docs" / "DEPLOY.md").read_text(encoding="utf-8")
    for old in ("link: '#zhsearch' }", "url = '#zhsearch'", "/#zhsearch ||"):  # the old advice is gone
        assert old not in readme, old
    for config in ("link: 'https://search.blog.example/search'",  # VuePress 1 and 2, VitePress
                   "搜索: https://search.blog.example/search",  # Hexo
                   "url = 'https://search.blog.example/search'"):  # Hugo
        assert config in readme, config
    # the same lines as the configurations the generators were run on
    sources = {p.relative_to(MENU).as_posix(): p.read_text(encoding="utf-8") for p in MENU.rglob("*")
               if p.is_file() and p.suffix in (".js", ".mjs", ".yml", ".toml")}
    assert any("link: 'https://search.blog.example/search'" in t for k, t in sources.items() if k.startswith("vuepress/"))
    assert "搜索: https://search.blog.example/search" in sources["hexo/_config.landscape.yml"]
    assert "url = 'https://search.blog.example/search'" in sources["hugo/hugo.toml"]


def menu_page(host, name: str) -> str:  # noqa: F811
    path = f"/menu/{name}/"
    host.pages[path] = PAGE.replace("LINK", RECORD[name]["link"].replace(SEARCH_URL, "{api}/search"))
    return host.origin + path


@pytest.mark.parametrize("name", sorted(RECORD))
def test_without_javascript_the_item_opens_the_results_page(browser, host, api, name):  # noqa: F811
    ctx = browser.new_context(locale="zh-CN", java_script_enabled=False)
    try:
        pg = ctx.new_page()
        pg.goto(menu_page(host, name))
        link = pg.locator("nav a", has_text="搜索")
        if link.get_attribute("target") == "_blank":
            with ctx.expect_page() as opened:
                link.click()
            landed = opened.value
        else:
            with pg.expect_navigation():
                link.click()
            landed = pg
        landed.wait_for_load_state()
        # /search without a query is zhsearch's search box
        assert urlsplit(landed.url)[:3] == urlsplit(api + "/")[:3]
        assert landed.title().startswith("zhsearch")
        assert landed.locator("input[name=q]").count() == 1
    finally:
        ctx.close()


@pytest.mark.parametrize("name", sorted(RECORD))
def test_with_javascript_the_item_opens_the_dialog_in_place(page, host, api, name):  # noqa: F811
    url = menu_page(host, name)
    page.goto(url)
    page.wait_for_function("window.zhsearch && window.zhsearch.version")
    page.locator("nav a", has_text="搜索").click()
    page.locator("zhsearch-widget .zs-dialog").wait_for(state="visible")
    page.wait_for_timeout(300)
    assert page.url == url and len(page.context.pages) == 1  # no navigation, no new tab
    assert page.evaluate("document.querySelector('zhsearch-widget').shadowRoot.activeElement.className") == "zs-input"


def test_a_link_with_a_query_searches_it_and_a_new_tab_is_the_readers_choice(page, host, api):  # noqa: F811
    path = "/menu/query/"
    host.pages[path] = PAGE.replace("LINK", '<a id="q" href="{api}/search?q=redis">搜索 redis</a>')
    page.goto(host.origin + path)
    page.wait_for_function("window.zhsearch && window.zhsearch.version")
    page.locator("#q").click()
    page.wait_for_function("() => document.querySelector('zhsearch-widget').shadowRoot"
                           ".querySelectorAll('.zs-article').length > 0")
    assert page.evaluate("document.querySelector('zhsearch-widget').shadowRoot.querySelector('.zs-input').value") \
        == "redis"
    page.keyboard.press("Escape")
    with page.context.expect_page() as opened:
        page.locator("#q").click(modifiers=["Control"])
    opened.value.wait_for_load_state()
    assert urlsplit(opened.value.url).path == "/search" and "redis" in opened.value.title()
