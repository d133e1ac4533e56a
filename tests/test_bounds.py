"""Answers stay bounded whatever an article holds.

A 200,000-character heading made one widget keystroke a 3 MB answer.  Ten
articles full of huge titles, headings, tags, categories, descriptions and
permalinks are indexed for real; every answer for one query (the JSON API,
the suggestions, the widget, the results page) must stay within 64 KB of
JSON per 10 hits, and the huge text must stay searchable.  A 1,000-character
query is not repeated whole in every link of the results page: the links
carry the 256 characters the engine reads.
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from search import bounds
from search.syntax import MAX_QUERY_CHARS
from tests.conftest import build_index, write_article

pytestmark = pytest.mark.slow  # ten 200,000-character articles to index: the full suite runs it

BUDGET = 64 * 1024  # bytes of JSON per 10 hits
N = 10


def _articles(huge: bool) -> dict[str, str]:
    """Ten articles that all match 向量; with ``huge``, each carries a monster."""
    big = 200_000 if huge else 8
    out = {}
    for i in range(N):
        tags = ", ".join(f"标签{i}-{k}" for k in range(10_000 if huge else 3))
        cats = ", ".join(f"分类{i}-{k}" * (30 if huge else 1) for k in range(50 if huge else 2))
        out[f"a{i}.md"] = (
            f"---\ntitle: 向量标题{i} {'题' * big}\n"
            f"tags: [{tags}]\ncategories: [{cats}]\n"
            f"description: {'述' * big}\npermalink: /p{i}/{'p' * big}\n---\n\n"
            f"## 第{i}节 {'巨' * big} 向量\n\n向量数据库的第 {i} 篇正文。\n"
        )
    return out


@pytest.fixture(scope="module")
def sites(make_app, tmp_path_factory):
    """The huge corpus and a control corpus of the same shape with ordinary values."""
    apps = {}
    for name in ("huge", "control"):
        root = tmp_path_factory.mktemp(name)
        for rel, text in _articles(name == "huge").items():
            write_article(root / "corpus", rel, text)
        build_index(root / "corpus", root / "ix", workers=2)
        apps[name] = make_app(root / "ix", root / "corpus").test_client()
    return apps


def _size(client, url: str, **params) -> int:
    r = client.get(url, query_string=params)
    assert r.status_code == 200, url
    return len(r.data)


@pytest.mark.parametrize("q", ["向量", "巨巨", "题题", "标签3-77", "述述"])
def test_every_json_answer_stays_within_64_kb_per_10_hits(sites, q):
    c = sites["huge"]
    data = c.get("/api/search", query_string={"q": q}).get_json()
    assert data["total"] >= 1, q  # the huge text is still searchable
    assert _size(c, "/api/search", q=q) <= BUDGET
    assert _size(c, "/api/search", q=q, per_page=50) <= BUDGET * 5
    assert _size(c, "/api/widget", q=q, limit=10) <= BUDGET
    assert _size(c, "/api/suggest", q=q[:2], limit=20) <= BUDGET


def test_the_results_page_grows_by_less_than_64_kb(sites):
    huge = _size(sites["huge"], "/search", q="向量")
    control = _size(sites["control"], "/search", q="向量")
    assert huge - control <= BUDGET, (huge, control)


def test_what_is_cut_is_marked_and_links_still_work(sites):
    c = sites["huge"]
    hit = c.get("/api/search", query_string={"q": "巨巨"}).get_json()["hits"][0]
    assert len(hit["title"]) <= bounds.MAX_TITLE_CHARS and hit["title"].endswith("…")
    assert len(hit["section"]) <= bounds.MAX_SECTION_CHARS and hit["section"].endswith("…")
    assert hit["anchor"] is None  # a cut anchor would match no id on the page
    assert hit["url"] == ""  # a 200,000-character permalink is no link
    assert len(hit["tags"]) <= bounds.MAX_LABELS and all(len(t) <= bounds.MAX_LABEL_CHARS for t in hit["tags"])
    widget = c.get("/api/widget", query_string={"q": "巨巨"}).get_json()["hits"][0]
    assert widget["url"].startswith("/a/")  # the built-in page instead of a dead link
    assert c.get(widget["url"]).status_code == 200


def test_a_long_query_is_not_repeated_in_every_link(sites):
    q = "".join(f"向量{i} " for i in range(400))[:1000]
    c = sites["control"]
    page = c.get("/search", query_string={"q": q}).get_data(as_text=True)
    assert page.count(q) == 1  # the search box shows what was typed, once
    links = [html.unescape(h) for h in re.findall(r'href="([^"]*)"', page)]
    carried = [parse_qs(urlsplit(h).query).get("q", [""])[0] for h in links]
    assert max(len(x) for x in carried) == MAX_QUERY_CHARS  # what the engine reads, no more
    assert "只使用了前 256 个字符" in page
    # so the page costs what the same search typed at the length the engine reads costs,
    # plus the rest of the typed text in the search box (3 bytes a character, at most)
    cut = c.get("/search", query_string={"q": q[:MAX_QUERY_CHARS]}).get_data(as_text=True)
    assert len(page.encode()) <= len(cut.encode()) + 3 * (len(q) - MAX_QUERY_CHARS) + 512
    data = c.get("/api/search", query_string={"q": q}).get_json()
    assert len(json.dumps(data, ensure_ascii=False).encode()) <= BUDGET
