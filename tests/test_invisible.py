"""Invisible characters neither hide words nor reorder what is shown.

Text pasted from web pages carries zero-width spaces, joiners, soft
hyphens and variation selectors inside words; they fold to nothing in
documents and queries (offsets kept, so highlights land on the original
characters).  Bidi controls fold away too, and are never shown: an RLO in a
title must not reverse the rest of the line on any page.  Real articles, a
real index, the real Flask app.
"""

from __future__ import annotations

import html
import json
import re

import pytest

from indexer import analysis, store
from indexer.folding import Folding
from search.engine import Engine, search
from tests.conftest import build_index, write_article

ZW_ARTICLE = ("---\ntitle: 从网页粘贴的文章\n---\n\n"
              "这里讨论向\u200b量\u200b数\u200b据\u200b库的选型，部署在 Kuber\u00adnetes 上，"
              "缓存用 Red\u200dis，存储用 Post\u2060gre\ufe0fSQL。\n")
RLO_TITLE = "反向\u202e戊exe.png"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    root = tmp_path_factory.mktemp("invisible")
    corpus = root / "corpus"
    write_article(corpus, "pasted.md", ZW_ARTICLE)
    write_article(corpus, "plain.md", "---\ntitle: 普通文章\n---\n\n没有隐形字符的文章讲 Elasticsearch 集群。\n")
    write_article(corpus, "bidi.md", f"---\ntitle: {RLO_TITLE}\ntags: [文\u202e件]\n---\n\n## 小节\u202e标题\n\n"
                                     "正文里也有\u202e反转\u202c控制符，讲布隆过滤器。\n")
    build_index(corpus, root / "ix")
    return root


@pytest.mark.parametrize("ch", ["\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\ufeff", "\ufe0f",
                                "\U000e0100", "\u202e", "\u2066"])
def test_an_invisible_character_folds_to_nothing_with_offsets_kept(ch):
    text = f"Red{ch}is 向{ch}量"
    folded, offsets = Folding().fold(text)
    assert folded == "redis 向量"
    assert [text[offsets[i]] for i in range(len(folded))] == list("Redis 向量")


@pytest.mark.parametrize("query", ["向量数据库", "Kubernetes", "Redis", "PostgreSQL"])
def test_words_with_zero_width_characters_inside_are_found(ix, query):
    hits = search(Engine(ix / "ix"), query).hits
    assert [h.path for h in hits] == ["pasted.md"], query


def test_the_highlight_lands_on_the_original_characters(ix):
    engine = Engine(ix / "ix")
    assert "<mark>Kuber\u00adnetes</mark>" in search(engine, "Kubernetes").hits[0].snippet_html
    assert "<mark>Red\u200dis</mark>" in search(engine, "Redis").hits[0].snippet_html


@pytest.mark.parametrize("query", ["Kuber\u00adnetes", "向\u200b量\u200b数据库", "Red\u200bis", "\ufeffRedis"])
def test_a_query_with_invisible_characters_finds_the_word(ix, query):
    assert [h.path for h in search(Engine(ix / "ix"), query).hits] == ["pasted.md"]


def test_bidi_controls_never_reach_a_page_or_an_answer(make_app, ix):
    client = make_app(ix / "ix", ix / "corpus").test_client()
    answers = {
        "/api/search": client.get("/api/search?q=布隆过滤器").get_data(as_text=True),
        "/api/widget": client.get("/api/widget?q=布隆过滤器").get_data(as_text=True),
        "/api/suggest": client.get("/api/suggest?q=反向").get_data(as_text=True),
        "/search": client.get("/search?q=布隆过滤器").get_data(as_text=True),
        "/a/bidi.md": client.get("/a/bidi.md?q=布隆过滤器").get_data(as_text=True),
    }
    shown = {where: _shown_text(body) for where, body in answers.items()}
    for where, text in shown.items():
        assert text and not any(c in text for c in BIDI), where
    assert json.loads(answers["/api/search"])["hits"][0]["title"] == "反向戊exe.png"  # written order
    assert json.loads(answers["/api/suggest"])["titles"][0]["title"] == "反向戊exe.png"
    assert "反向戊exe.png" in answers["/search"] and "反向戊exe.png" in answers["/a/bidi.md"]
    assert "正文里也有反转控制符" in answers["/a/bidi.md"] and "小节标题" in answers["/a/bidi.md"]


def _shown_text(body: str) -> str:
    """What a reader sees of an answer: an HTML page's text, or every JSON
    value but anchors (an anchor is a link target: it must stay the id the
    site generator made, whatever it holds)."""
    if body.lstrip().startswith(("{", "[")):
        def values(v):
            if isinstance(v, dict):
                return "".join(values(x) for k, x in v.items() if k != "anchor")
            if isinstance(v, list):
                return "".join(values(x) for x in v)
            return str(v)
        return values(json.loads(body))
    return html.unescape(re.sub(r"<[^>]*>", "", body))


@pytest.mark.slow  # two builds: the full suite runs it
def test_the_folding_change_rebuilds_an_index_folded_the_old_way(tmp_path):
    """An index of analysis version 8 kept zero-width characters in its terms:
    it is rebuilt, not updated in place, and then finds the words."""
    corpus = tmp_path / "corpus"
    write_article(corpus, "pasted.md", ZW_ARTICLE)
    index = tmp_path / "ix"
    build_index(corpus, index)
    cur = store.read_current(index)
    meta = dict(cur.meta, identity={**cur.meta["identity"], "analysis": 8})
    store.write_meta(cur.path, meta)
    r = build_index(corpus, index)
    assert analysis.ANALYSIS_VERSION > 8
    assert r.rebuilt and f"analysis version 8 → {analysis.ANALYSIS_VERSION}" in r.rebuild_reason
    assert [h.path for h in search(Engine(index), "向量数据库").hits] == ["pasted.md"]
