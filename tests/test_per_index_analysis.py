"""Analysis belongs to an index: two indexes with different user dictionaries,
served by two engines in one process (and from several threads), each
segmenting queries and synonyms with its own dictionary; and the site's
engine uses the synonyms file it was given (``serve --synonyms``)."""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from search.engine import Engine, search
from tests.conftest import build_index, free_port, write_article
from zhsearch.settings import Settings

#: Not a word in jieba's dictionary: cut into pieces unless a user dictionary says so.
NEW_WORD = "星河智算"

ARTICLES = {
    "platform.md": f"---\ntitle: {NEW_WORD}平台介绍\n---\n\n# {NEW_WORD}平台\n\n{NEW_WORD}是一个算力调度平台，"
                   f"提供训练与推理服务。{NEW_WORD}支持多种加速卡。\n",
    "other.md": "---\ntitle: 星河与智能计算\n---\n\n# 星空\n\n银河里的星河很美。智能算法可以计算轨道。\n",
}
SYNONYMS = f"{NEW_WORD}, 算力云\n"


@pytest.fixture(scope="module")
def two_indexes(tmp_path_factory):
    """The same articles and synonyms, indexed with and without ``NEW_WORD`` in
    the user dictionary."""
    out = {}
    for name, userdict in (("with", f"{NEW_WORD} 300\n"), ("without", None)):
        root = tmp_path_factory.mktemp(name)
        corpus = root / "corpus"
        for rel, text in ARTICLES.items():
            write_article(corpus, rel, text)
        (corpus / "synonyms.txt").write_text(SYNONYMS, encoding="utf-8")
        if userdict:
            (corpus / "userdict.txt").write_text(userdict, encoding="utf-8")
        build_index(corpus, root / "ix")
        out[name] = root
    return out


def test_each_engine_segments_with_its_own_dictionary(two_indexes):
    with_word = Engine(two_indexes["with"] / "ix")
    without = Engine(two_indexes["without"] / "ix")
    for _ in range(2):  # interleaved: nothing one engine loads changes the other
        assert [u.text for u in with_word.analyzer.query_units(NEW_WORD)] == [NEW_WORD]
        assert len(without.analyzer.query_units(NEW_WORD)) > 1
    assert with_word.analyzer.identity["userdict"] != without.analyzer.identity["userdict"]
    # synonyms are keyed by each index's own segmentation of the file
    assert (NEW_WORD,) in with_word.synonyms().table
    assert (NEW_WORD,) not in without.synonyms().table
    assert tuple(u.text for u in without.analyzer.query_units(NEW_WORD)) in without.synonyms().table
    # both find the article, by the word and by its synonym
    for engine in (with_word, without):
        assert search(engine, NEW_WORD).hits[0].path == "platform.md"
        assert search(engine, "算力云").hits[0].path == "platform.md"
    # only with the dictionary is the word one term of the index
    assert search(with_word, f'"{NEW_WORD}"').total == 1
    assert "智算" not in {u.text for u in with_word.analyzer.query_units(NEW_WORD)}


def test_two_engines_from_many_threads(two_indexes):
    engines = {name: Engine(root / "ix", cache_size=0) for name, root in two_indexes.items()}
    queries = [NEW_WORD, "算力云", "星河", "智能 计算", "平台 训练"]
    expected = {(name, q): _answer(e, q) for name, e in engines.items() for q in queries}
    jobs = [(name, q) for name in engines for q in queries] * 8
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda job: (job, _answer(engines[job[0]], job[1])), jobs))
    for job, answer in got:
        assert answer == expected[job], job
    # the segmentations differ, so the two indexes really are analysed apart
    assert engines["with"].analyzer.query_units(NEW_WORD) != engines["without"].analyzer.query_units(NEW_WORD)


def _answer(engine: Engine, q: str):
    page = search(engine, q)
    return page.total, [(h.path, h.snippet_html) for h in page.hits]


# ------------------------------------------------------- serve --synonyms


def test_create_app_uses_the_settings_synonyms(make_app, two_indexes, tmp_path):
    root = two_indexes["without"]
    extra = tmp_path / "extra-synonyms.txt"
    extra.write_text("算力调度, 资源编排\n", encoding="utf-8")
    plain = make_app(root / "ix", root / "corpus").test_client()
    custom = make_app(root / "ix", root / "corpus", synonyms=extra).test_client()
    assert plain.get("/api/search", query_string={"q": "资源编排"}).get_json()["total"] == 0
    hits = custom.get("/api/search", query_string={"q": "资源编排"}).get_json()["hits"]
    assert [h["path"] for h in hits] == ["platform.md"]


@pytest.mark.slow
def test_serve_synonyms_flag_changes_the_results(two_indexes, tmp_path):
    from tests.test_faults import finish, start_cli

    root = two_indexes["without"]
    extra = tmp_path / "extra-synonyms.txt"
    extra.write_text("算力调度, 资源编排\n", encoding="utf-8")
    answers = {}
    for label, flags in (("default", []), ("flag", ["--synonyms", str(extra)])):
        port = free_port()
        proc = start_cli("serve", "--corpus", str(root / "corpus"), "--index", str(root / "ix"),
                         "--port", str(port), *flags)
        try:
            answers[label] = _get_json(port, "/api/search?" + urllib.parse.urlencode({"q": "资源编排"}))
        finally:
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
            finish(proc)
    assert answers["default"]["total"] == 0
    assert [h["path"] for h in answers["flag"]["hits"]] == ["platform.md"]



def _get_json(port: int, path: str) -> dict:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
                return json.loads(r.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_the_segmenter_is_a_setting_and_part_of_the_identity(tmp_path, monkeypatch):
    """ZHSEARCH_SEGMENTER picks the backend; an index built with one is
    rebuilt (and says why) when another is asked for, and its engine
    segments queries with the one it was built with."""
    from indexer.build import update_index
    from indexer.segmenter import rjieba_available

    corpus = tmp_path / "corpus"
    for rel, text in ARTICLES.items():
        write_article(corpus, rel, text)
    monkeypatch.setenv("ZHSEARCH_SEGMENTER", "jieba")
    settings = Settings.load(corpus, tmp_path / "ix")
    assert settings.segmenter == "jieba"
    update_index(settings.index_config(workers=1))
    assert Engine(settings.index).analyzer.backend == "jieba"
    monkeypatch.setenv("ZHSEARCH_SEGMENTER", "bogus")
    with pytest.raises(ValueError, match="auto, rjieba, jieba"):
        Settings.load(corpus, tmp_path / "ix")
    if rjieba_available():
        monkeypatch.setenv("ZHSEARCH_SEGMENTER", "rjieba")
        report = update_index(Settings.load(corpus, tmp_path / "ix").index_config(workers=1))
        assert report.rebuilt and "segmenter jieba → rjieba" in report.rebuild_reason
        assert Engine(tmp_path / "ix").analyzer.backend == "rjieba"
