"""``indexer.whoosh_compat``: the one place that touches Whoosh's internals.

Applied explicitly (not on import), refusing a Whoosh it does not know with a
message that says what to do, and the matcher fix that Whoosh's own
``test_function_weighting`` needed (the whole suite: test_whoosh_suite.py).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import whoosh
from click.testing import CliRunner
from whoosh import fields, scoring
from whoosh import query as Q
from whoosh.filedb.filestore import FileStorage

from indexer import whoosh_compat
from indexer.codec import ZhCodec
from tests.conftest import ROOT, build_index, write_article
from zhsearch.cli import main


def test_the_pinned_version_is_accepted_and_others_are_refused_with_a_clear_message():
    whoosh_compat.check_version((2, 7, 5))
    whoosh_compat.check_version()  # the installed one (pyproject.toml pins it)
    for other in [(2, 7, 4), (2, 7, 6), (3, 0, 0)]:
        with pytest.raises(whoosh_compat.UnsupportedWhooshVersion) as err:
            whoosh_compat.check_version(other)
        msg = str(err.value)
        assert ".".join(map(str, other)) in msg
        assert "pip install 'Whoosh-Reloaded==2.7.5'" in msg
        assert "indexer/whoosh_compat.py" in msg


@pytest.mark.slow
def test_importing_zhsearch_patches_nothing_opening_an_index_does(tmp_path):
    corpus = tmp_path / "corpus"
    write_article(corpus, "a.md", "# 标题\n\n正文内容。\n")
    build_index(corpus, tmp_path / "ix")
    code = (
        "import indexer.build, indexer.store, search, web, zhsearch.cli\n"
        "from whoosh.filedb import compound\n"
        "from indexer import store, whoosh_compat\n"
        "print(compound.BufferFile.__name__, whoosh_compat.installed())\n"
        "store.open_current(__import__('sys').argv[1])[0].close()\n"
        "print(compound.BufferFile.__name__, whoosh_compat.installed())\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ix")], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["BufferFile False", "ZeroCopyBufferFile True"]


def test_an_unknown_whoosh_stops_index_and_search_with_the_message(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    write_article(corpus, "a.md", "# 标题\n\n正文内容。\n")
    index = tmp_path / "ix"
    build_index(corpus, index)
    gens = sorted(p.name for p in index.iterdir())
    write_article(corpus, "b.md", "# 新文\n\n新的内容。\n")

    monkeypatch.setattr(whoosh, "__version__", (2, 8, 0))
    runner = CliRunner()
    for args in (["index", "--corpus", str(corpus), "--index", str(index)],
                 ["search", "内容", "--index", str(index)]):
        r = runner.invoke(main, args)
        assert r.exit_code == 1, r.output
        assert "Whoosh 2.8.0 is installed" in r.output and "Whoosh-Reloaded==2.7.5" in r.output
        assert "Traceback" not in r.output
    assert sorted(p.name for p in index.iterdir()) == gens  # nothing written


def _function_weighted_index(tmp_path):
    schema = fields.Schema(id=fields.STORED, text=fields.TEXT)
    ix = FileStorage(str(tmp_path)).create_index(schema)
    for seg in range(3):  # several segments, each with more hits than the limit
        with ix.writer(codec=ZhCodec()) as w:
            for i in range(6):
                w.add_document(id=f"{seg}{i}", text="bb " * i + "aa bb")
    return ix


def test_a_function_weighting_ranks_our_posting_lists_without_block_quality(tmp_path):
    """Whoosh's collector hands its lowest top-N score to ``replace()`` once
    its heap is full; ``FunctionWeighting`` has no quality bound to compare,
    and Whoosh's ``ListMatcher`` asked for one anyway (NotImplementedError)."""
    ix = _function_weighted_index(tmp_path)

    def first_position(searcher, fieldname, text, matcher):
        return 1.0 / (matcher.spans()[0].start + 1)

    with ix.searcher(weighting=scoring.FunctionWeighting(first_position)) as s:
        hits = s.search(Q.Term("text", "aa"), limit=5)
        assert [h["id"][1] for h in hits] == ["0"] * 3 + ["1"] * 2
        assert [round(h.score, 3) for h in hits] == [1.0] * 3 + [0.5] * 2
    ix.close()


def test_a_copied_matcher_keeps_its_term(tmp_path):
    ix = _function_weighted_index(tmp_path)
    with ix.searcher() as s:
        leaf = s.leaf_searchers()[0][0].reader()
        m = leaf.postings("text", b"aa")
        assert isinstance(m, whoosh_compat.TermListMatcher)
        m.next()
        c = m.copy()
        assert (c.term(), c.id(), list(c.all_ids())) == (("text", b"aa"), m.id(), list(m.all_ids()))
    ix.close()


def test_bm25f_parameters_and_null_query():
    p = whoosh_compat.bm25f_parameters(scoring.BM25F(B=0.5, K1=2.0, title_B=0.1))
    assert (p.b, p.k1, p.b_for("title"), p.b_for("body")) == (0.5, 2.0, 0.1, 0.5)
    assert whoosh_compat.is_null_query(Q.NullQuery) and whoosh_compat.is_null_query(Q.NullQuery())
    assert not whoosh_compat.is_null_query(Q.Every())
