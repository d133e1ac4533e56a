"""Questions: the frame of a question is not a required word."""

from __future__ import annotations

from dataclasses import replace

import pytest

from search import syntax
from search.engine import Engine, search
from search.query import DEFAULT_RANKING, build
from tests.conftest import build_index, write_article

ARTICLES = {
    "cache/compare.md": "# Redis 与 Memcached 对照\n\nRedis 支持多种数据结构和持久化，Memcached 只有字符串。"
                        "Redis 是单线程模型，Memcached 是多线程。两者都常用作缓存。\n",
    "cache/redis.md": "# Redis 入门\n\nRedis 是一个内存数据库。它和关系数据库的区别在于数据放在内存里。\n",
    "cache/memcached.md": "# Memcached 入门\n\nMemcached 是一个分布式内存缓存。它与本地缓存的区别是可以跨进程共享。\n",
    "py/mirror.md": "# pip 换源\n\n临时使用镜像源安装：pip install -i https://mirrors.example/simple some-package\n\n"
                    "设置 pip 默认镜像源：pip config set global.index-url https://mirrors.example/simple\n",
    "py/other.md": "# 编译安装\n\n下载太慢时可以先把源码包拷到本地。然后编译安装。\n",
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    root = tmp_path_factory.mktemp("questions")
    for rel, text in ARTICLES.items():
        write_article(root / "c", rel, text)
    build_index(root / "c", root / "ix")
    return Engine(root / "ix", cache_size=0)


def test_the_comparing_article_comes_first_without_saying_the_comparison_word(engine):
    page = search(engine, "Redis和Memcached有什么区别")
    assert page.hits[0].path == "cache/compare.md"
    # 区别 was not required: the comparing article has every word asked for ("most words" follow)
    assert page.note.startswith("只有 1 篇文章包含所有关键词")
    strict = replace(DEFAULT_RANKING, question_frame=False)
    assert search(engine, "Redis和Memcached有什么区别", ranking=strict).note.startswith("没有同时包含所有关键词")
    # as a plain word outside a question it is asked for like any other
    plain = search(engine, "Redis 区别")
    assert plain.hits[0].path == "cache/redis.md" and plain.note.startswith("只有 1 篇文章包含所有关键词")


@pytest.mark.parametrize("q", ["Redis 和 Memcached 有 什么 区别", "Redis 和 Memcached 有什么区别？", "Redis 和 Memcached 有啥 区别"])
def test_scaffolding_typed_apart_is_not_required_either(engine, q):
    """A question typed in chunks ("有 什么", "有啥") asks for what the
    same words typed together ask for: its scaffolding is no required word."""
    page = search(engine, q)
    assert page.hits[0].path == "cache/compare.md"
    assert page.note.startswith("只有 1 篇文章包含所有关键词")  # Redis and Memcached: 和, 有, 什么 are not asked for
    assert search(engine, "Redis和Memcached有什么区别").note == page.note


@pytest.mark.parametrize("q, asked", [
    ("Redis能不能替代Memcached", ["redis", "替代", "memcached"]),  # jieba: 能 / 不能
    ("Redis 会不会 丢 数据", ["redis", "丢", "数据"]),  # 会 / 不会; 丢 typed alone is asked for, as 快 is
    ("要不要用Redis", ["redis"]),  # 要 / 不要 (用: a character)
])
def test_a_question_word_jieba_cuts_is_still_scaffolding(engine, q, asked):
    gen = engine.generation()
    built = build(syntax.parse(q), gen.analyzer, DEFAULT_RANKING, None, gen.counts(gen.searcher()))
    assert built.question and built.unit_texts == asked


def test_pieces_that_only_happen_to_be_in_a_question_word_are_words(engine):
    """写 / 到 / 底层 spells no 到底; 不能 typed alone is no 能不能."""
    gen = engine.generation()
    for q, asked in [("写到底层存储", {"底层", "存储"}), ("Redis 不能 连接", {"redis", "不能", "连接"})]:
        built = build(syntax.parse(q), gen.analyzer, DEFAULT_RANKING, None, gen.counts(gen.searcher()))
        assert not built.question and asked <= set(built.unit_texts), built.unit_texts


def test_a_query_of_weak_words_alone_still_asks_for_them(engine):
    """With nothing else asked, the weak words are the query (not an empty page)."""
    page = search(engine, "区别 在于")
    assert {h.path for h in page.hits} >= {"cache/redis.md", "cache/memcached.md"}


def test_the_symptom_of_a_how_to_question_only_adds_score(engine):
    page = search(engine, "pip安装太慢怎么办")
    assert page.hits[0].path == "py/mirror.md"
    strict = replace(DEFAULT_RANKING, question_frame=False)
    assert "部分关键词" in (search(engine, "pip安装太慢怎么办", ranking=strict).note or "")


GLUED = {  # the same 查询 and 优化; 慢 once in 慢查询, five times on its own, or not at all
    "db/slow.md": "# 数据库\n\n先看慢查询日志，再做优化。\n",
    "db/scatter.md": "# 网络\n\n网络慢，页面慢，请求慢，启动慢，下载慢。先看查询日志，再做优化。\n",
    "db/general.md": "# 查询优化\n\n查询优化的通用方法：先看查询日志，再做优化。\n",
    "run/slow.md": "# 跑步\n\n跑得慢也要坚持。\n",  # 慢 and no word of the query
    # and articles about something else, as a corpus has (慢 is not in most articles)
    **{f"other/{i}.md": f"# 其他主题 {i}\n\n这篇文章讲部署、监控和备份。\n" for i in range(8)},
}


def test_a_character_cut_off_a_word_counts_as_that_word_not_scattered(tmp_path):
    """慢查询 is cut 慢 / 查询 (jieba lacks the word): the article that says 慢查询
    ranks above one with 慢 scattered through it."""
    for rel, text in GLUED.items():
        write_article(tmp_path / "c", rel, text)
    build_index(tmp_path / "c", tmp_path / "ix")
    engine = Engine(tmp_path / "ix", cache_size=0)
    glued = {h.path: h.score for h in search(engine, "慢查询 优化").hits}
    alone = {h.path: h.score for h in search(engine, "慢查询 优化", ranking=replace(DEFAULT_RANKING, glue_weight=0.0)).hits}
    # the article without 慢 comes last, among "most words" (it has 查询 and 优化 in its title)
    assert list(glued) == ["db/slow.md", "db/scatter.md", "db/general.md"]  # never run/slow.md: 慢 alone
    assert list(alone)[0] == "db/general.md"  # 慢 optional: the title wins
    assert glued["db/scatter.md"] < alone["db/scatter.md"]  # its five scattered 慢 no longer count
    assert glued["db/slow.md"] > alone["db/slow.md"]  # 慢查询 written whole does
    # in a question a cut-off character stays optional, as its frame words are
    asked = [(h.path, h.score) for h in search(engine, "怎么优化慢查询").hits]
    optional = replace(DEFAULT_RANKING, glue_required=False)
    assert asked == [(h.path, h.score) for h in search(engine, "怎么优化慢查询", ranking=optional).hits]
    assert {p for p, _s in asked} == {"db/slow.md", "db/scatter.md", "db/general.md"}
