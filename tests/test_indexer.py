"""The indexer: full and incremental builds, generations, the writer lock, the
analysis identity of an index, and index-level matching (compounds, phrases)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from whoosh import query as Q

from indexer import analysis, store
from indexer.build import IndexConfig, update_index
from indexer.stored import sections_as_written
from search.engine import Engine, search
from tests.conftest import ROOT, build_index, write_article

USER_WORD = "熊猫快递站"  # jieba's stock dictionary cuts it 熊猫 / 快递 / 站

BASIC = {
    "gpt4.md": "---\ntitle: 大模型发展\ntags: [LLM]\ncategories: [AI]\ndate: 2024-03-01\n---\n\n"
               "GPT-4 拥有超过5000亿参数，支持多模态输入。\n",
    "gpt3.md": "---\ntitle: 早期模型\ntags: [LLM]\ncategories: [AI]\ndate: 2023-05-01\n---\n\n"
               "GPT-3 的参数量达到1750亿，是当时最大的语言模型。\n",
    "nlp/exact.md": "# 语言技术\n\n自然语言处理是人工智能的重要方向。\n",
    "nlp/loose.md": "# 文本笔记\n\n关于自然语言的处理，计算机需要先切分词语。\n",
    "user-word.md": f"# 物流\n\n我们楼下新开了一家{USER_WORD}，取件很方便。\n",
    "名字 有空格.md": "读书笔记：虚拟内存和网络编程。\n",
}


def write_corpus(root: Path, articles: dict[str, str]) -> Path:
    for rel, text in articles.items():
        write_article(root, rel, text)
    return root


def indexed_paths(index: Path) -> set[str]:
    ix, _gen = store.open_current(index)
    try:
        with ix.searcher() as s:
            return {d["path"] for d in s.all_stored_fields()}
    finally:
        ix.close()


def found(index: Path | Engine, q: str) -> list[str]:
    return [h.path for h in search(index if isinstance(index, Engine) else Engine(index), q, per_page=50).hits]


def current_name(index: Path) -> str:
    return (index / store.CURRENT).read_text(encoding="utf-8").strip()


def bump_mtime(path: Path, seconds: float = 10.0) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + int(seconds * 1e9)))


# ----------------------------------------------------------- a shared small index


@pytest.fixture(scope="module")
def basic(tmp_path_factory):
    """A small corpus (with a user dictionary) indexed once for read-only tests."""
    root = tmp_path_factory.mktemp("basic")
    corpus = write_corpus(root / "corpus", BASIC)
    (corpus / "userdict.txt").write_text(f"# comment line\n\n{USER_WORD} 500 n\n", encoding="utf-8")
    index = root / "ix"
    # jieba, not the default rjieba: this index also checks the reference backend
    report = build_index(corpus, index, segmenter="jieba")
    return {"corpus": corpus, "index": index, "report": report}


@pytest.fixture(scope="module")
def basic_engine(basic) -> Engine:
    """One engine over the shared index for the read-only tests: opening a
    generation loads jieba with its user dictionary, which is most of what
    these tests would otherwise spend."""
    return Engine(basic["index"])


def test_full_build_report_and_layout(basic):
    r, index = basic["report"], basic["index"]
    assert r.rebuilt and r.rebuild_reason == "no index yet"
    assert sorted(r.added) == sorted(BASIC)
    assert r.updated == [] and r.deleted == [] and r.skipped == [] and r.unchanged == 0
    assert r.total == len(BASIC)
    assert r.generation == "gen-000001" == current_name(index)
    meta = json.loads((index / r.generation / store.META).read_text(encoding="utf-8"))
    assert meta["documents"] == len(BASIC)
    assert meta["identity"]["analysis"] == analysis.ANALYSIS_VERSION
    assert meta["identity"]["userdict"] != "none"
    assert meta["identity"]["segmenter"] == "jieba"
    # the user dictionary travels with the generation, for query-time segmentation
    assert (index / r.generation / store.USERDICT).is_file()
    assert indexed_paths(index) == set(BASIC)


def test_stored_fields(basic, basic_engine):
    e = basic_engine
    doc = e.stored("gpt4.md")
    assert doc["title_text"] == "大模型发展"
    assert doc["url"] == "/gpt4.html"
    assert doc["date"].year == 2024
    assert any("5000亿参数" in text for _h, _a, text in sections_as_written(doc["sections"]))
    assert e.stored("名字 有空格.md")["url"] == "/名字 有空格.html"
    assert e.stored("missing.md") is None


def test_jieba_cache_lands_under_the_index_dir(basic, basic_engine):
    index = basic["index"]
    assert list(index.glob("jieba*.cache")), list(index.iterdir())
    analyzer = basic_engine.analyzer
    assert analyzer.backend == "jieba"
    tmp_dir = analyzer.segmenter.tokenizer.tmp_dir
    assert tmp_dir is not None  # None would mean tempfile.gettempdir(), i.e. /tmp
    assert Path(tmp_dir).resolve() == index.resolve()


def test_user_dictionary_word_is_one_token(basic, basic_engine):
    analyzer = basic_engine.analyzer  # the generation's copy of the dictionary
    assert [t for t, *_ in analyzer.word_tokens(USER_WORD)][0] == USER_WORD
    ix, _gen = store.open_current(basic["index"])
    with ix.searcher() as s:
        assert s.doc_frequency("body", USER_WORD) == 1
    ix.close()
    assert found(basic_engine, USER_WORD) == ["user-word.md"]


def test_gpt4_does_not_match_gpt3(basic, basic_engine):
    ix, _gen = store.open_current(basic["index"])
    with ix.searcher() as s:
        hits = [h["path"] for h in s.search(Q.Term("body", "gpt-4"))]
        assert hits == ["gpt4.md"]
        hits = [h["path"] for h in s.search(Q.Term("body", "gpt-3"))]
        assert hits == ["gpt3.md"]
    ix.close()
    assert found(basic_engine, "GPT-4") == ["gpt4.md"]
    assert found(basic_engine, "GPT-3") == ["gpt3.md"]
    assert found(basic_engine, "ＧＰＴ－４") == ["gpt4.md"]


def test_phrase_queries_use_word_positions(basic, basic_engine):
    ix, _gen = store.open_current(basic["index"])
    with ix.searcher() as s:
        def paths(q):
            return sorted(h["path"] for h in s.search(q))

        assert paths(Q.Phrase("body", ["自然语言", "处理"])) == ["nlp/exact.md"]
        assert paths(Q.Phrase("body", ["gpt", "4"])) == ["gpt4.md"]
        assert paths(Q.Phrase("body", ["5000", "亿", "参数"])) == ["gpt4.md"]
        assert paths(Q.Phrase("body", ["参数", "超过"])) == []
        assert paths(Q.Phrase("bigram", ["人工", "工智", "智能"])) == ["nlp/exact.md"]
    ix.close()
    assert found(basic_engine, '"自然语言处理"') == ["nlp/exact.md"]
    assert found(basic_engine, '"超过5000亿参数"') == ["gpt4.md"]


# ------------------------------------------------------------------- incremental


def test_incremental_add_change_delete_unchanged(tmp_path):
    corpus = write_corpus(tmp_path / "c", {
        "a.md": "# 甲\n\n原来的内容讲的是缓存穿透。\n",
        "b.md": "# 乙\n\n这篇文章会被删除，它讲布隆过滤器。\n",
        "d.md": "# 丁\n\n一直不变的文章讲限流算法。\n",
        "sub/e.md": "# 戊\n\n子目录里的文章讲熔断器。\n",
    })
    index = tmp_path / "ix"
    r0 = build_index(corpus, index)
    assert r0.total == 4 and r0.generation == "gen-000001"

    write_article(corpus, "a.md", "# 甲\n\n修改后的内容讲的是消息队列。\n")
    bump_mtime(corpus / "a.md")
    (corpus / "b.md").unlink()
    write_article(corpus, "c.md", "# 丙\n\n新增的文章讲分布式锁。\n")
    junk = index / "gen-000007"  # left by a killed indexer: never published
    junk.mkdir()
    (junk / "half-written.seg").write_bytes(b"x")
    r1 = build_index(corpus, index)
    assert not junk.exists()
    assert not r1.rebuilt and r1.rebuild_reason is None
    assert r1.added == ["c.md"]
    assert r1.updated == ["a.md"]
    assert r1.deleted == ["b.md"]
    assert r1.unchanged == 2
    assert r1.skipped == []
    assert r1.total == 4
    assert r1.generation == "gen-000002" == current_name(index)
    assert indexed_paths(index) == {"a.md", "c.md", "d.md", "sub/e.md"}
    e = Engine(index)
    assert found(e, "消息队列") == ["a.md"]
    assert found(e, "缓存穿透") == []
    assert found(e, "布隆过滤器") == []
    assert found(e, "分布式锁") == ["c.md"]
    assert found(e, "限流算法") == ["d.md"]

    # nothing changed: nothing written, no new generation
    r2 = build_index(corpus, index)
    assert (r2.added, r2.updated, r2.deleted, r2.skipped) == ([], [], [], [])
    assert r2.unchanged == 4 and not r2.changed
    assert r2.generation == "gen-000002" == current_name(index)
    assert r2.total == 4

    # a touch (new mtime, same bytes) is not a change
    for rel in ("a.md", "d.md"):
        bump_mtime(corpus / rel, 30)
    r3 = build_index(corpus, index)
    assert (r3.added, r3.updated, r3.deleted) == ([], [], [])
    assert r3.unchanged == 4
    assert r3.generation == "gen-000002" == current_name(index)


def test_changed_content_with_restored_mtime_is_detected(tmp_path):
    """The module promises size *and* mtime: a different size must be re-read
    even when the mtime was restored (cp -p, rsync -t, tar x)."""
    corpus = write_corpus(tmp_path / "c", {"a.md": "# 甲\n\n旧内容讲缓存。\n"})
    index = tmp_path / "ix"
    build_index(corpus, index)
    st = (corpus / "a.md").stat()
    write_article(corpus, "a.md", "# 甲\n\n新的内容更长一些，讲的是消息队列和削峰填谷。\n")
    os.utime(corpus / "a.md", ns=(st.st_atime_ns, st.st_mtime_ns))
    r = build_index(corpus, index)
    assert r.updated == ["a.md"]
    assert found(index, "消息队列") == ["a.md"]


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    root = tmp_path_factory.mktemp("broken")
    corpus = write_corpus(root / "c", {
        "good1.md": "# 一\n\n正常的文章讲索引。\n",
        "good2.md": "# 二\n\n另一篇正常的文章讲倒排表。\n",
    })
    (corpus / "bad.md").write_bytes(b"\x00\x01binary\x00" * 100)
    (corpus / "notes.txt").write_text("不是 markdown", encoding="utf-8")
    index = root / "ix"
    return corpus, index, build_index(corpus, index)


def test_broken_file_is_skipped_and_the_rest_indexed(broken):
    _corpus, index, r = broken
    assert r.added == ["good1.md", "good2.md"]
    assert len(r.skipped) == 1
    path, reason = r.skipped[0]
    assert path == "bad.md"
    assert "binary" in reason
    assert r.total == 2
    assert indexed_paths(index) == {"good1.md", "good2.md"}
    assert found(index, "倒排表") == ["good2.md"]


def test_persistently_broken_file_does_not_publish_new_generations(broken):
    """A run that changes nothing must not write and publish a generation, even
    when the corpus holds a file that is skipped every time."""
    corpus, index, r1 = broken
    gen = current_name(index)
    assert gen == r1.generation
    r2 = build_index(corpus, index)
    assert [p for p, _ in r2.skipped] == ["bad.md"]
    assert (r2.added, r2.updated, r2.deleted) == ([], [], [])
    assert r2.unchanged == 2
    assert not r2.changed
    assert current_name(index) == gen
    assert r2.generation == gen


def test_article_turned_binary_report_matches_index(tmp_path):
    """Whatever the policy for an article that became unreadable garbage (keep
    the old version, or delete it), the report must say what happened."""
    corpus = write_corpus(tmp_path / "c", {
        "a.md": "# 甲\n\n第一版讲的是缓存一致性。\n",
        "b.md": "# 乙\n\n另一篇。\n",
    })
    index = tmp_path / "ix"
    build_index(corpus, index)
    (corpus / "a.md").write_bytes(b"\x00garbage\x00" * 50)
    bump_mtime(corpus / "a.md")
    r = build_index(corpus, index)
    assert [p for p, _ in r.skipped] == ["a.md"]
    paths = indexed_paths(index)
    assert ("a.md" in paths) or ("a.md" in r.deleted), (paths, r)
    assert r.total == len(paths)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_file_keeps_its_previous_version(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.md": "# 甲\n\n第一版讲的是缓存一致性。\n", "b.md": "# 乙\n\n另一篇。\n"})
    index = tmp_path / "ix"
    build_index(corpus, index)
    p = corpus / "a.md"
    write_article(corpus, "a.md", "# 甲\n\n第二版。\n")
    bump_mtime(p)
    p.chmod(0)
    try:
        r = build_index(corpus, index)
    finally:
        p.chmod(0o644)
    assert [x for x, _ in r.skipped] == ["a.md"]
    assert "cannot read" in r.skipped[0][1]
    assert r.deleted == [] and r.updated == []
    assert "a.md" in indexed_paths(index)
    assert found(index, "缓存一致性") == ["a.md"]


# ------------------------------------------------------------------- generations


def test_rebuild_while_a_searcher_is_open(tmp_path):
    corpus = write_corpus(tmp_path / "c", {
        "a.md": "# 甲\n\n旧版本讲的是布隆过滤器。\n",
        "b.md": "# 乙\n\n不变的文章。\n",
    })
    index = tmp_path / "ix"
    build_index(corpus, index)
    old_engine = Engine(index)
    old_gen = old_engine.generation()
    old_searcher = old_gen.searcher()
    assert [h["path"] for h in old_searcher.search(Q.Term("body", "过滤器"))] == ["a.md"]

    write_article(corpus, "a.md", "# 甲\n\n新版本讲的是一致性哈希。\n")
    bump_mtime(corpus / "a.md")
    r = build_index(corpus, index, rebuild=True)
    assert r.rebuilt and r.rebuild_reason == "requested (--rebuild)"
    assert r.generation != old_gen.name == "gen-000001"
    assert (index / old_gen.name).is_dir()  # kept for readers still on it

    # the old searcher keeps answering from the old generation
    assert [h["path"] for h in old_searcher.search(Q.Term("body", "过滤器"))] == ["a.md"]
    assert list(old_searcher.search(Q.Term("body", "一致性哈希"))) == []
    assert old_searcher.doc_count() == 2
    # a new engine sees the new content, and the old engine switches by itself
    new_engine = Engine(index)
    assert found(new_engine, "一致性哈希") == ["a.md"]
    assert found(new_engine, "布隆过滤器") == []
    assert found(old_engine, "一致性哈希") == ["a.md"]
    assert old_engine.generation().name == r.generation


# -------------------------------------------------------------------------- lock

_HOLD_LOCK = """
import sys, time
sys.path.insert(0, {root!r})
from indexer.store import writer_lock
with writer_lock({index!r}):
    print("locked", flush=True)
    time.sleep(float(sys.argv[1]))
"""


def _hold_lock(index: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK.format(root=str(ROOT), index=str(index)), str(seconds)],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout.readline().strip() == "locked"
    proc.stdout.close()  # it says nothing more: its pipe is not left for the garbage collector
    return proc


def test_second_indexer_is_refused_with_a_clear_message(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.md": "# 甲\n\n内容。\n"})
    index = tmp_path / "ix"
    proc = _hold_lock(index, 30)
    try:
        with pytest.raises(store.IndexLocked) as exc_info:
            update_index(IndexConfig(corpus, index, workers=1), wait=0)
        assert proc.poll() is None  # refused while the lock was held: it did not wait for it
        msg = str(exc_info.value)
        assert f"pid {proc.pid}" in msg
        assert str(index) in msg
        assert "--wait" in msg
    finally:
        proc.kill()
        proc.wait()
    assert store.read_current(index) is None  # the refused run wrote nothing


@pytest.mark.slow
def test_second_indexer_waits_for_the_lock(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.md": "# 甲\n\n内容讲索引。\n"})
    index = tmp_path / "ix"
    proc = _hold_lock(index, 1.5)
    try:
        t0 = time.monotonic()
        r = update_index(IndexConfig(corpus, index, workers=1), wait=30)
        waited = time.monotonic() - t0
    finally:
        proc.wait()
    assert waited >= 0.8
    assert r.added == ["a.md"]
    assert found(index, "索引") == ["a.md"]


def test_lock_held_by_a_thread_blocks_too(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.md": "# 甲\n\n内容。\n"})
    index = tmp_path / "ix"
    held, release = threading.Event(), threading.Event()

    def hold():
        with store.writer_lock(index):
            held.set()
            release.wait(30)

    t = threading.Thread(target=hold)
    t.start()
    try:
        assert held.wait(10)
        with pytest.raises(store.IndexLocked, match="another"):
            update_index(IndexConfig(corpus, index, workers=1), wait=0)
    finally:
        release.set()
        t.join()


def test_stale_lock_file_from_a_dead_process_does_not_block(tmp_path, caplog):
    corpus = write_corpus(tmp_path / "c", {"a.md": "# 甲\n\n内容讲倒排。\n"})
    index = tmp_path / "ix"
    index.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (index / store.LOCK).write_text(f"{dead.pid}\n", encoding="ascii")
    with caplog.at_level(logging.WARNING, logger="indexer.store"):
        r = update_index(IndexConfig(corpus, index, workers=1), wait=0)
    assert r.added == ["a.md"]
    assert any("stale" in rec.getMessage() and str(dead.pid) in rec.getMessage() for rec in caplog.records)
    assert (index / store.LOCK).read_text() == ""  # released


# ------------------------------------------------------------ analysis identity


def test_analysis_version_change_forces_rebuild(tmp_path, monkeypatch):
    corpus = write_corpus(tmp_path / "c", {"a.md": "# 甲\n\n内容。\n", "b.md": "# 乙\n\n内容。\n"})
    index = tmp_path / "ix"
    build_index(corpus, index)
    old = analysis.ANALYSIS_VERSION
    monkeypatch.setattr(analysis.Analyzer, "version", old + 1)
    r = build_index(corpus, index)
    assert r.rebuilt
    assert "analysis version" in r.rebuild_reason
    assert f"{old} → {old + 1}" in r.rebuild_reason
    assert sorted(r.added) == ["a.md", "b.md"] and r.total == 2
    meta = json.loads((index / r.generation / store.META).read_text(encoding="utf-8"))
    assert meta["identity"]["analysis"] == old + 1
    # and with the new version in place, the next run is incremental again
    r2 = build_index(corpus, index)
    assert not r2.rebuilt and r2.unchanged == 2


def test_an_outdated_index_is_searched_as_it_is_and_said_to_be_outdated(tmp_path, caplog):
    """``serve`` and ``search`` never rebuild: an index an older zhsearch
    built still answers, with a warning that names the command that brings
    it up to date; an index of this version opens without one."""
    corpus = write_corpus(tmp_path / "c", {"a.md": "# 甲\n\n内容。\n"})
    index = tmp_path / "ix"
    r = build_index(corpus, index)
    with caplog.at_level(logging.WARNING, logger="search.engine"):
        assert search(Engine(index), "内容").total == 1
    assert not [m for m in caplog.messages if "zhsearch index" in m]
    meta_path = index / r.generation / store.META
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["identity"]["schema"] -= 1
    store.write_meta(index / r.generation, meta)
    with caplog.at_level(logging.WARNING, logger="search.engine"):
        assert search(Engine(index), "内容").total == 1
    [warning] = [m for m in caplog.messages if "zhsearch index" in m]
    assert f"schema version {meta['identity']['schema']}" in warning


@pytest.mark.slow
def test_user_dictionary_change_forces_rebuild(tmp_path):
    corpus = write_corpus(tmp_path / "c", {"a.md": f"# 甲\n\n楼下的{USER_WORD}开门了。\n"})
    index = tmp_path / "ix"
    r0 = build_index(corpus, index)
    assert r0.rebuilt
    ix, _ = store.open_current(index)
    with ix.searcher() as s:
        assert s.doc_frequency("body", USER_WORD) == 0
    ix.close()

    (corpus / "userdict.txt").write_text(f"{USER_WORD} 500 n\n", encoding="utf-8")
    r1 = build_index(corpus, index)
    assert r1.rebuilt
    assert "user dictionary" in r1.rebuild_reason
    ix, _ = store.open_current(index)
    with ix.searcher() as s:
        assert s.doc_frequency("body", USER_WORD) == 1
    ix.close()

    (corpus / "userdict.txt").write_text(f"{USER_WORD} 500 n\n量子纠缠态 300 n\n", encoding="utf-8")
    r2 = build_index(corpus, index)
    assert r2.rebuilt and "user dictionary" in r2.rebuild_reason
    r3 = build_index(corpus, index)
    assert not r3.rebuilt and r3.unchanged == 1


def test_missing_corpus_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        update_index(IndexConfig(tmp_path / "nope", tmp_path / "ix"))


def test_article_with_stray_nul_bytes_is_indexed_with_a_warning(tmp_path):
    """A real article with 3 NUL bytes is indexed (they are
    dropped, with a warning); a real binary file beside it stays skipped."""
    src = ROOT / "corpus" / "karminski__one-small-step" / "20250123-what-is-LLM-distill" / "what-is-LLM-distill.md"
    raw = src.read_bytes()
    cut = [len(raw) // 4, len(raw) // 2, 3 * len(raw) // 4]
    cut = [raw.index(b"\n", c) for c in cut]  # between lines, never inside a character
    dirty = raw[:cut[0]] + b"\x00" + raw[cut[0]:cut[1]] + b"\x00" + raw[cut[1]:cut[2]] + b"\x00" + raw[cut[2]:]
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "distill.md").write_bytes(dirty)
    (corpus / "shot.md").write_bytes((ROOT / "docs" / "screenshot-home.png").read_bytes())
    r = build_index(corpus, tmp_path / "ix")
    assert r.added == ["distill.md"]
    assert [p for p, _ in r.skipped] == ["shot.md"] and "binary" in r.skipped[0][1]
    assert ("distill.md", "3 stray NUL bytes dropped") in r.warnings
    assert found(tmp_path / "ix", "知识蒸馏") == ["distill.md"]
