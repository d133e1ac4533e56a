"""The on-disk posting layout: compact positions and inlined short lists."""

from __future__ import annotations

import pytest
from whoosh import query as Q

from indexer import store
from indexer.codec import INLINE_LIMIT, CompactPositions
from search import Engine, search
from tests.conftest import build_index, write_article


@pytest.mark.parametrize("positions", [[], [0], [5, 9, 300], [1, 70_000, 70_001], list(range(0, 5000, 7))])
def test_compact_positions_round_trip(positions):
    fmt = CompactPositions()
    value = fmt.encode(positions)
    assert fmt.decode_positions(value) == positions
    assert fmt.decode_frequency(value) == len(positions)
    assert len(value) <= 1 + 4 * len(positions)


def test_short_posting_lists_are_inlined_and_still_found(tmp_path):
    corpus = tmp_path / "corpus"
    write_article(corpus, "a.md", "# 熊猫快递\n\n熊猫快递站今天开张，快递小哥很忙。\n")
    write_article(corpus, "b.md", "# 快递\n\n快递站的快递很多。\n")
    for i in range(INLINE_LIMIT + 2):
        write_article(corpus, f"c{i}.md", f"# 第{i}篇\n\n共同的词语出现在每一篇文章里。\n")
    index = tmp_path / "ix"
    build_index(corpus, index)
    ix, _cur = store.open_current(index)
    with ix.reader() as r:
        assert r.term_info("body", "开张").is_inlined()  # one article
        assert not r.term_info("body", "词语").is_inlined()  # more than INLINE_LIMIT
    engine = Engine(index)
    assert [h.path for h in search(engine, "开张").hits] == ["a.md"]
    assert [h.path for h in search(engine, '"熊猫快递站"').hits] == ["a.md"]
    assert len(search(engine, "词语").hits) == INLINE_LIMIT + 2
    # Whoosh's own matchers read the same postings (spans from inlined positions)
    with ix.searcher() as s:
        assert len(s.search(Q.Phrase("body", ["今天", "开张"]))) == 1


def test_interning_text_shares_equal_posting_objects_and_pickles_clean():
    import pickle

    from indexer.schema import build_schema

    field = build_schema()["body"]
    first = {t: (w, v) for t, _f, w, v in field.index("模型训练需要数据，数据决定模型。")}
    second = {t: (w, v) for t, _f, w, v in field.index("数据和模型。")}
    shared = [t for t in second if t in first]
    assert shared, "the two texts share words"
    for t in shared:
        t1 = next(k for k in first if k == t)
        t2 = next(k for k in second if k == t)
        assert t1 is t2  # one bytes object for the term across articles
    # the sharing table stays in the writer process: not pickled with the schema
    assert "_shared" in field.__dict__
    assert "_shared" not in pickle.loads(pickle.dumps(field)).__dict__
    # same weights and positions as Whoosh's own Positions format would give
    from whoosh import formats
    plain = formats.Positions()
    fmt = field.format
    for word, freq, weight, value in fmt.word_values("数据和模型，模型和数据。", field.analyzer):
        ref = {w: (f, wt, plain.decode_positions(v)) for w, f, wt, v in
               plain.word_values("数据和模型，模型和数据。", field.analyzer)}[word]
        assert (freq, weight, fmt.decode_positions(value)) == ref
