"""The numpy evaluator must rank exactly as Whoosh's own matchers would.

Every query the builder makes for a set of real queries is run twice on a
real index of the embedded corpus: through :mod:`search.vector` and through
Whoosh's exhaustive collector (``limit=None``: score descending, then
document number).  Same documents, same order, same scores.
"""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
from whoosh import query as Q

from search import query as qbuild
from search import syntax, vector
from search.engine import Engine, search
from tests.conftest import CORPUS, build_index, write_article

QUERIES = [
    "GPT-4 参数", "ChatGPT", "gpt4", "GPT 4", "自然语言处理", "人民共和国", "大模型 微调",
    "如何在本地部署大模型", '"强化学习"', "模型 -训练", "lora OR 微调", "title:chatgpt",
    "Transformer 注意力 机制", "的", "模型的训练", "python 装饰器", "数据库 事务 隔离",
    "OpenAI 发布 了 什么 模型", "深度学习框架", "zzzqqq 模型", "微調 模型", "ＧＰＴ－４",
]


def _whoosh_ranking(searcher, q) -> list[tuple[int, float]]:
    results = searcher.search(q, limit=None)
    return [(hit.docnum, hit.score) for hit in results]


def _vector_ranking(searcher, q) -> list[tuple[int, float]]:
    out: list[tuple[int, float]] = []
    base = 0
    for leaf, _offset in searcher.leaf_searchers():
        ev = vector.SegmentEvaluator(searcher, leaf, vector.SegmentArrays(leaf.reader()), deadline=float("inf"))
        node = ev.evaluate(q)
        for d in np.flatnonzero(node.mask).tolist():
            out.append((base + d, float(node.score[d])))
        base += ev.n
    out.sort(key=lambda x: (-x[1], x[0]))
    return out


#: Versioned units (GPT-4) become ``search.versions.VersionQuery`` nodes, which
#: count mentions in a way Whoosh's matchers cannot express (tests/test_versions.py),
#: and a word's synonyms a ``DisjunctionMax``, which Whoosh's matcher scores wrongly
#: (the max of its two sides' current scores even when they sit on different
#: documents; test below); the evaluator's fidelity to Whoosh is checked without them.
PLAIN_RANKING = dataclasses.replace(qbuild.DEFAULT_RANKING, version_aware=False, alternatives_max=False)


def _queries_of(engine: Engine, text: str) -> list[Q.Query]:
    gen = engine.generation()
    built = qbuild.build(syntax.parse(text), gen.analyzer, PLAIN_RANKING, engine.synonyms(gen), gen.counts(gen.searcher()))
    return [q for q in (built.query, built.relaxed, built.exclude) if q is not None]


def _assert_same(searcher, q) -> int:
    want = _whoosh_ranking(searcher, q)
    got = _vector_ranking(searcher, q)
    assert [d for d, _ in got] == [d for d, _ in want], q
    for (_, a), (_, b) in zip(got, want, strict=True):
        assert a == pytest.approx(b, rel=1e-9), q
    return len(want)


def test_vector_ranking_equals_whoosh_on_real_queries(engine):
    searcher = engine.generation().searcher()
    matched = 0
    for text in QUERIES:
        for q in _queries_of(engine, text):
            matched += _assert_same(searcher, q)
    assert matched > 500  # the queries really match articles


def test_vector_ranking_equals_whoosh_with_several_segments_and_deletions(tmp_path):
    """An incremental update leaves several segments and deleted documents."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS / "chatgpt-info", corpus / "chatgpt-info")
    index = tmp_path / "ix"
    build_index(corpus, index)
    seed = corpus / "chatgpt-info" / "what-is-chatgpt.md"
    seed.write_text(seed.read_text(encoding="utf-8") + "\n\n## 补充\n\nGPT-4 的参数量没有公开。\n", encoding="utf-8")
    write_article(corpus, "new/一篇新文章.md", "# 大模型参数\n\nGPT-4 参数 与 模型 微调，自然语言处理。\n")
    build_index(corpus, index)
    engine = Engine(index)
    searcher = engine.generation().searcher()
    if len(searcher.leaf_searchers()) < 2:
        pytest.skip("the update merged everything into one segment")
    for text in ("GPT-4 参数", "自然语言处理", "模型 微调", "ChatGPT"):
        for q in _queries_of(engine, text):
            _assert_same(searcher, q)


def test_phrase_slop_follows_span_near_semantics(engine):
    """Sloppy phrases (the proximity boost) match like Whoosh's SpanNear2."""
    searcher = engine.generation().searcher()
    for words, slop in ((["模型", "训练"], 8), (["gpt", "模型"], 3), (["chatgpt", "openai"], 8),
                        (["语言", "模型", "训练"], 8), (["模型", "模型"], 2)):
        for f in ("body", "title"):
            _assert_same(searcher, Q.Phrase(f, words, slop=slop, boost=2.0))


def test_a_passed_deadline_cuts_optional_work_with_a_note(engine, monkeypatch):
    """The time limit is checked between phrase candidates and before optional
    clauses: with no time at all, a query still answers, marked as partial."""
    import search.engine as engine_mod
    from search.pipeline import TIMED_OUT_NOTE

    monkeypatch.setattr(engine_mod, "TIME_LIMIT_S", 0.0)
    cold = Engine(engine.index_dir)
    res = search(cold, "OpenAI 发布 了 什么 模型")
    assert res.timed_out and res.note and TIMED_OUT_NOTE in res.note
    assert res.total > 0
    assert "timed_out" not in res.to_dict()  # the note tells a reader
    assert len(cold.generation().results) == 0  # a partial page is not kept


def test_postings_cache_keeps_decoded_lists_within_its_budget(engine):
    """Decoded lists are reused, the oldest dropped once over budget, and
    results are the same with the cache on or off."""
    searcher = engine.generation().searcher()
    leaf = max((s for s, _ in searcher.leaf_searchers()), key=lambda s: s.doc_count_all())
    reader = leaf.reader()
    words = ("模型", "训练", "数据", "参数", "语言", "问题", "方法", "使用")
    sizing = vector.postings_cache(1 << 30)
    for w in words:
        sizing.get_or_make(("s", "body", w), lambda w=w: vector.read_postings(reader, "body", w.encode()))
    budget = sizing.total - 1  # all eight lists do not fit: the oldest must go
    cache = vector.postings_cache(budget)
    loads = []

    def loader(word):
        def load():
            loads.append(word)
            return vector.read_postings(reader, "body", word.encode())
        return load

    first = cache.get_or_make(("s", "body", "模型"), loader("模型"))
    assert cache.get_or_make(("s", "body", "模型"), loader("模型")) is first and loads == ["模型"]
    for w in words[1:]:
        cache.get_or_make(("s", "body", w), loader(w))
    assert cache.total <= budget and ("s", "body", "模型") not in cache

    off = Engine(engine.index_dir, cache_size=0, postings_cache_mb=0)
    on = Engine(engine.index_dir, cache_size=0)
    for q in ("GPT-4 参数", "自然语言处理", "模型 训练 数据"):
        a, b = search(off, q), search(on, q)
        search(on, q)  # now from cached lists
        c = search(on, q)
        assert [h.path for h in a.hits] == [h.path for h in b.hits] == [h.path for h in c.hits]
        assert a.total == b.total == c.total
    assert off.generation().postings.total == 0 and on.generation().postings.total > 0


@pytest.mark.slow  # seconds of waiting: the full suite runs it, the quick loop does not
def test_threads_searching_a_fresh_generation_get_the_sequential_answers(engine):
    """Per-segment arrays and decoded lists are filled lazily by whichever
    thread comes first, each through its own reader: eight threads starting
    together on a fresh engine answer exactly as one thread does."""
    from concurrent.futures import ThreadPoolExecutor

    queries = QUERIES * 2
    want = {q: [h.path for h in search(Engine(engine.index_dir, cache_size=0), q).hits] for q in QUERIES}
    fresh = Engine(engine.index_dir, cache_size=0)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda q: (q, [h.path for h in search(fresh, q).hits]), queries))
    for q, paths in got:
        assert paths == want[q], q


def test_disjunction_max_scores_each_document_by_its_best_alternative(engine):
    """A word with synonyms (``Ranking.alternatives_max``): each document scores
    the best of the ways it matches, computed here from the parts themselves."""
    searcher = engine.generation().searcher()
    parts = [Q.Term("body", "参数"), Q.Term("body", "模型", boost=0.8), Q.Term("title", "模型", boost=3.0)]
    for leaf, _offset in searcher.leaf_searchers():
        ev = vector.SegmentEvaluator(searcher, leaf, vector.SegmentArrays(leaf.reader()), deadline=float("inf"))
        got = ev.evaluate(Q.DisjunctionMax(parts, boost=2.0))
        each = [ev.evaluate(p) for p in parts]
        want_mask = each[0].mask | each[1].mask | each[2].mask
        want = np.maximum(np.maximum(each[0].score, each[1].score), each[2].score) * 2.0
        assert (got.mask == want_mask).all()
        assert np.allclose(got.score, want)
        assert want_mask.any()
