"""The on-disk layout: compact positions, our posting lists and term dictionary."""

from __future__ import annotations

import random
import shutil
from itertools import pairwise

import numpy as np
import pytest
from whoosh import query as Q
from whoosh.codec.whoosh3 import W3Codec
from whoosh.reading import TermNotFound

from indexer import postings, store, whoosh_compat
from indexer.codec import CompactPositions
from indexer.termdict import TermDictReader, TermDictWriter
from search.engine import Engine, search
from tests.conftest import CORPUS, build_index, write_article


@pytest.mark.parametrize("positions", [[], [0], [5, 9, 300], [1, 70_000, 70_001], list(range(0, 5000, 7))])
def test_compact_positions_round_trip(positions):
    fmt = CompactPositions()
    value = fmt.encode(positions)
    assert fmt.decode_positions(value) == positions
    assert fmt.decode_frequency(value) == len(positions)
    assert len(value) <= 1 + 4 * len(positions)



@pytest.mark.parametrize("postings", [
    [],
    [[4]],
    [[1, 2, 3], [0], [7, 300, 65_535]],  # all narrow (2-byte gaps)
    [[70_000, 70_001], [1, 90_000]],  # all wide (4-byte gaps)
    [[5, 9], [1, 70_000, 70_001], [3], [0, 65_536]],  # both widths: the per-posting path
])
def test_decode_many_equals_each_posting_decoded(postings):
    """The vectorized phrase path decodes many postings' positions at once;
    it must give exactly what decoding each value on its own gives."""
    fmt = CompactPositions()
    values = [fmt.encode(p) for p in postings]
    data = np.frombuffer(b"".join(values), dtype=np.uint8)
    offsets = np.concatenate(([0], np.cumsum([len(v) for v in values]))).astype(np.int64)
    counts, positions = fmt.decode_many(data, offsets)
    assert counts.tolist() == [len(p) for p in postings]
    assert positions.tolist() == [x for p in postings for x in p]

@pytest.mark.slow
def test_terms_and_postings_read_back_exactly_as_whoosh_w3_writes_them(tmp_path, monkeypatch):
    """The same articles indexed with Whoosh's stock W3 codec and with ours:
    every term, its statistics and its postings (IDs, weights, positions)
    must read back the same through Whoosh's reader API."""
    corpus = tmp_path / "corpus"
    for rel in sorted(p.relative_to(CORPUS) for p in CORPUS.rglob("*.md"))[:25]:
        (corpus / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CORPUS / rel, corpus / rel)
    ours, stock = tmp_path / "ours", tmp_path / "stock"
    build_index(corpus, ours, workers=1)
    monkeypatch.setattr("indexer.build.ZhCodec", W3Codec)
    build_index(corpus, stock, workers=1)

    ix_ours, _ = store.open_current(ours)
    ix_stock, _ = store.open_current(stock)
    with ix_ours.reader() as a, ix_stock.reader() as b:
        assert type(whoosh_compat.terms_reader(a)).__name__ == "ZhTermsReader"
        assert type(whoosh_compat.terms_reader(b)).__name__ == "W3TermsReader"
        terms = list(a.all_terms())
        assert terms == list(b.all_terms())
        assert len(terms) > 10_000
        for fieldname, btext in terms:
            ta, tb = a.term_info(fieldname, btext), b.term_info(fieldname, btext)
            assert (ta.doc_frequency(), ta.min_id(), ta.max_id(), ta.min_length(), ta.max_length()) == \
                   (tb.doc_frequency(), tb.min_id(), tb.max_id(), tb.min_length(), tb.max_length())
            assert ta.weight() == pytest.approx(tb.weight(), rel=1e-6)
            assert ta.max_weight() == pytest.approx(tb.max_weight(), rel=1e-6)
            assert a.doc_frequency(fieldname, btext) == tb.doc_frequency()
            ma, mb = a.postings(fieldname, btext), b.postings(fieldname, btext)
            assert _drain(ma) == _drain(mb), (fieldname, btext)
        # prefix walks, as the spelling vocabulary and pinyin index read them
        assert list(a.iter_field("body", "a")) and \
            [t for t, _ in a.iter_field("body", "a")] == [t for t, _ in b.iter_field("body", "a")]
        assert list(a.expand_prefix("body", "模")) == list(b.expand_prefix("body", "模"))
        assert a.frequency("body", "没有这个词zz") == 0 and a.doc_frequency("body", "没有这个词zz") == 0
        with pytest.raises(TermNotFound):
            a.term_info("body", "没有这个词zz")
        assert ("body", "没有这个词zz") not in a and ("nosuchfield", b"x") not in a


def _drain(m) -> list[tuple]:
    out = []
    while m.is_active():
        out.append((m.id(), m.weight(), m.value()))
        m.next()
    return out


def test_the_term_cursor_walks_one_field_in_order(tmp_path):
    corpus = tmp_path / "corpus"
    write_article(corpus, "a.md", "# 标题\n\napple banana cherry 苹果\n")
    write_article(corpus, "b.md", "# 其他\n\nbanana date\n")
    build_index(corpus, tmp_path / "ix")
    ix, _ = store.open_current(tmp_path / "ix")
    with ix.reader() as r:
        want = [t.decode("utf-8") for t, _ in r.iter_field("body")]
        cur = r.cursor("body")
        got = []
        while cur.is_valid():
            got.append(cur.text())
            assert cur.term_info().doc_frequency() >= 1
            cur.next()
        assert got == want and "banana" in got
        assert cur.find("c") == "cherry"
        assert cur.first() == want[0]
        assert cur.find("\uffff") is None and not cur.is_valid()


def test_an_index_on_the_new_codec_searches_short_and_long_lists(tmp_path):
    corpus = tmp_path / "corpus"
    write_article(corpus, "a.md", "# 熊猫快递\n\n熊猫快递站今天开张，快递小哥很忙。\n")
    write_article(corpus, "b.md", "# 快递\n\n快递站的快递很多。\n")
    for i in range(300):  # one term in 300 articles: ID gaps, two-byte lengths
        write_article(corpus, f"c{i:03d}.md", f"# 第{i}篇\n\n共同的词语出现在每一篇文章里。" + "词语。" * (i % 7) + "\n")
    index = tmp_path / "ix"
    build_index(corpus, index)
    engine = Engine(index)
    assert [h.path for h in search(engine, "开张").hits] == ["a.md"]
    assert [h.path for h in search(engine, '"熊猫快递站"').hits] == ["a.md"]
    assert search(engine, "词语").total == 300
    ix, _cur = store.open_current(index)
    with ix.searcher() as s:  # Whoosh's own matchers read the same postings
        assert len(s.search(Q.Phrase("body", ["今天", "开张"]))) == 1
        assert len(s.search(Q.Term("body", "词语"), limit=None)) == 300


def test_interning_text_shares_equal_posting_objects_and_pickles_clean():
    import pickle

    from indexer.analysis import Analyzer
    from indexer.schema import build_schema

    words = Analyzer().word_tokens
    field = build_schema()["body"]
    first = {t: (w, v) for t, _f, w, v in field.index(words("模型训练需要数据，数据决定模型。"))}
    second = {t: (w, v) for t, _f, w, v in field.index(words("数据和模型。"))}
    shared = [t for t in second if t in first]
    assert shared, "the two texts share words"
    for t in shared:
        t1 = next(k for k in first if k == t)
        t2 = next(k for k in second if k == t)
        assert t1 is t2  # one bytes object for the term across articles
    # the sharing table stays in the writer process: not pickled with the schema
    assert "_shared" in field.__dict__
    assert "_shared" not in pickle.loads(pickle.dumps(field)).__dict__
    # same weights and positions as Whoosh's own Positions format gives for the same tokens
    from whoosh import formats
    from whoosh.analysis import Token

    text = "数据和模型，模型和数据。"
    toks = words(text)

    def replay(value, **kwargs):
        for w, pos, *_ in toks:
            yield Token(text=w, pos=pos, boost=1.0, stopped=False, positions=True)

    plain = formats.Positions()
    ref = {w: (f, wt, plain.decode_positions(v)) for w, f, wt, v in plain.word_values(text, replay)}
    got = {t.decode(): (f, wt, field.format.decode_positions(v)) for t, f, wt, v in field.index(toks)}
    assert got == ref


@pytest.mark.parametrize("case", [
    ([7], [1.0], [b""]),
    ([0, 1, 2], [1.0, 2.0, 3.0], [b"\x02\x00\x00", b"", b"\x02\x01\x00\x02\x00"]),
    ([3, 300, 70_000, 5_000_000], [1.0, 300.0, 1.0, 2.0], [b"x" * 300, b"y", b"", b"z" * 70_000]),
    ([1, 2], [0.5, 1.25], [b"a", b"b"]),
    ([5, 6], [70_000.0, 1.0], [b"", b""]),
])
def test_posting_lists_round_trip(case):
    ids, weights, values = case
    blob = postings.encode(ids, weights, values)
    d = postings.decode(blob + b"trailing bytes of the next list", len(ids))
    assert d.ids.tolist() == ids
    assert d.weights.tolist() == weights
    want = values if any(values) else [None] * len(values)  # no values: None, as in Whoosh
    assert d.values() == want
    assert [d.value(i) for i in range(len(ids))] == want


def test_posting_lists_are_small():
    # one article, one position: flags, a one-byte ID, the value and its length
    assert len(postings.encode([5], [1.0], [b"\x02\x07\x00"])) == 1 + 1 + 1 + 3
    # IDs as one-byte gaps, weights of one omitted, no values
    assert len(postings.encode(list(range(0, 1000, 4)), [1.0] * 250, [b""] * 250)) == 1 + 250


def _dictionary(tmp_path, items, block_size=4):
    from whoosh.filedb.filestore import FileStorage

    st = FileStorage(str(tmp_path))
    w = TermDictWriter(st.create_file("t.trm"), block_size=block_size)
    w.extras["hello"] = "世界"
    for i, (k, v) in enumerate(items):
        w.add(k, v, base=i // block_size)
    w.close()
    return TermDictReader((tmp_path / "t.trm").read_bytes())


def test_term_dictionary_finds_every_key_and_no_other(tmp_path):
    rng = random.Random(7)
    keys = sorted({bytes(rng.choice(b"abc\xe4\xb8") for _ in range(rng.randint(0, 6))) for _ in range(400)})
    keys.append(b"\xff" * 300 + b"1")  # a suffix over 255 bytes
    keys.append(b"\xff" * 300 + b"2")
    keys.append(b"\xff" * 70_000)  # longer than two bytes can count (a front-matter tag may be)
    items = [(k, k[::-1][:200]) for k in keys]
    r = _dictionary(tmp_path, items)
    assert len(r) == len(items) and r.extras == {"hello": "世界"}
    for i, (k, v) in enumerate(items):
        assert r.find(k) == (v, i // 4)
    for probe in (b"abd", b"\xff", b"\xff" * 300, b"c" * 9):
        assert (r.find(probe) is None) == (probe not in keys)
    if keys[0] != b"":
        assert r.find(b"") is None
    assert [(k, v) for k, v, _ in r.items_from(b"")] == items
    for start in (b"", b"b", b"b\xe4", b"\xb9", b"\xff\xff"):
        assert [k for k, _, _ in r.items_from(start)] == [k for k in keys if k >= start]


def test_term_dictionary_refuses_keys_out_of_order_and_reads_empty(tmp_path):
    from whoosh.filedb.filestore import FileStorage

    dbfile = FileStorage(str(tmp_path)).create_file("bad.trm")
    w = TermDictWriter(dbfile)
    w.add(b"b", b"1")
    with pytest.raises(ValueError, match="out of order"):
        w.add(b"a", b"2")
    with pytest.raises(ValueError, match="out of order"):
        w.add(b"b", b"2")
    dbfile.close()  # a writer that refused its keys is abandoned: its file must not be left open
    empty = _dictionary(tmp_path, [])
    assert len(empty) == 0 and empty.find(b"a") is None and list(empty.items_from(b"")) == []
    with pytest.raises(ValueError, match="magic"):
        TermDictReader(b"\0" * 64)


def test_segments_merged_by_updates_keep_every_posting(tmp_path):
    """Whoosh merges small segments on update by reading every posting back
    through our terms reader and writing it again: after several updates
    (and a merge), each word finds exactly the articles a fresh build finds."""
    corpus = tmp_path / "corpus"
    for i in range(6):
        write_article(corpus, f"a{i}.md", f"# 文章{i}\n\n模型训练第{i}步，数据{i}号。共同词语。\n")
    index = tmp_path / "ix"
    build_index(corpus, index, workers=1)
    segment_counts = []
    for round_ in range(6):
        write_article(corpus, f"a{round_}.md", f"# 改写{round_}\n\n第{round_}轮改写：推理加速与量化，共同词语。\n")
        write_article(corpus, f"new{round_}.md", f"# 新文{round_}\n\n新增文章{round_}，讨论量化。\n")
        build_index(corpus, index, workers=1)
        ix, _ = store.open_current(index)
        with ix.reader() as r:
            segment_counts.append(len(list(r.leaf_readers())))
        ix.close()
    print("segments after each update:", segment_counts)
    assert any(b < a + 1 for a, b in pairwise(segment_counts)), \
        f"no update merged segments: {segment_counts}"
    fresh = tmp_path / "fresh"
    build_index(corpus, fresh, workers=1)

    def postings_by_path(index_dir):
        ix, _ = store.open_current(index_dir)
        out = {}
        with ix.searcher() as s:
            r = s.reader()
            paths = r.column_reader("path")
            for fieldname, btext in r.all_terms():
                if fieldname in ("body", "title", "bigram"):
                    m = r.postings(fieldname, btext)
                    got = set()
                    while m.is_active():
                        got.add((paths[m.id()], m.weight(), tuple(m.value_as("positions"))))
                        m.next()
                    if got:
                        out[(fieldname, btext)] = got
        ix.close()
        return out

    assert postings_by_path(index) == postings_by_path(fresh)
