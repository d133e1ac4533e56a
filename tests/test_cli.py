"""The ``zhsearch`` command line: index, search and eval."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT, write_article
from zhsearch.cli import main

SUMMARY_RE = re.compile(
    r"^(\d+) added, (\d+) updated, (\d+) deleted, (\d+) unchanged, (\d+) skipped; (\d+) articles in ", re.M
)
ZHSEARCH = Path(sys.executable).with_name("zhsearch")


def summary(output: str) -> tuple[int, ...]:
    m = SUMMARY_RE.search(output)
    assert m, output
    return tuple(int(x) for x in m.groups())


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def make_corpus(c: Path) -> Path:
    write_article(c, "a b.md", "---\ntitle: 大模型发展\ntags: [LLM]\n---\n\nGPT-4 拥有超过5000亿参数。\n")
    write_article(c, "gpt3.md", "---\ntitle: 早期模型\ntags: [LLM]\n---\n\nGPT-3 的参数量达到1750亿。\n")
    write_article(c, "sub/tool.md", "# 锤子\n\n锤子是常用的工具。\n")
    (c / "bin.md").write_bytes(b"\x00\x01\x02binary" * 20)
    return c


@pytest.fixture
def corpus(tmp_path) -> Path:
    return make_corpus(tmp_path / "corpus")


def invoke(runner, args, **kw):
    result = runner.invoke(main, args, catch_exceptions=False, **kw)
    return result


# ------------------------------------------------------------------------ index


def test_index_summary_json_second_run_and_rebuild(runner, corpus, tmp_path):
    index = tmp_path / "ix"
    args = ["index", "--corpus", str(corpus), "--index", str(index)]
    r = invoke(runner, args)
    assert r.exit_code == 0, r.output
    assert summary(r.stdout) == (3, 0, 0, 0, 1, 3)
    assert "full build: no index yet" in r.stdout
    assert "skipped  bin.md: binary file (contains NUL bytes)" in r.stderr

    # second run: nothing to do
    r = invoke(runner, args)
    assert r.exit_code == 0, r.output
    assert summary(r.stdout) == (0, 0, 0, 3, 1, 3)
    assert "full build" not in r.stdout
    assert "skipped  bin.md" in r.stderr

    # --json
    r = invoke(runner, args + ["--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert set(d) == {"added", "updated", "deleted", "unchanged", "skipped", "warnings", "notes", "rebuilt",
                      "rebuild_reason", "site", "documents", "generation", "elapsed_s"}
    assert (d["added"], d["updated"], d["deleted"], d["unchanged"]) == ([], [], [], 3)
    assert d["skipped"] == [{"path": "bin.md", "reason": "binary file (contains NUL bytes)"}]
    assert d["rebuilt"] is False and d["rebuild_reason"] is None
    assert d["documents"] == 3

    # add one, delete one
    write_article(corpus, "new.md", "# 新\n\n新文章。\n")
    (corpus / "gpt3.md").unlink()
    r = invoke(runner, args + ["--json"])
    d = json.loads(r.stdout)
    assert (d["added"], d["updated"], d["deleted"], d["unchanged"]) == (["new.md"], [], ["gpt3.md"], 2)
    assert d["documents"] == 3

    # --rebuild
    r = invoke(runner, args + ["--rebuild"])
    assert r.exit_code == 0, r.output
    assert "full build: requested (--rebuild)" in r.stdout
    added, _updated, deleted, _unchanged, skipped, total = summary(r.stdout)
    assert (added, deleted, skipped, total) == (3, 0, 1, 3)


def test_index_environment_variables(runner, corpus, tmp_path):
    index = tmp_path / "env-ix"
    env = {"ZHSEARCH_CORPUS": str(corpus), "ZHSEARCH_INDEX": str(index)}
    r = invoke(runner, ["index"], env=env)
    assert r.exit_code == 0, r.output
    assert summary(r.stdout)[0] == 3
    assert (index / "CURRENT").is_file()
    r = invoke(runner, ["search", "--json", "锤子"], env=env)
    assert r.exit_code == 0, r.output
    assert [h["path"] for h in json.loads(r.stdout)["hits"]] == ["sub/tool.md"]


def test_index_missing_corpus_is_a_clean_error(runner, tmp_path):
    r = runner.invoke(main, ["index", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "ix")])
    assert r.exit_code == 1
    assert "does not exist" in r.stderr
    assert isinstance(r.exception, SystemExit)  # a ClickException, not a traceback


# ----------------------------------------------------------------------- search


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> Path:
    """Indexed once for the read-only search tests below."""
    root = tmp_path_factory.mktemp("cli-search")
    c = make_corpus(root / "corpus")
    index = root / "ix"
    r = CliRunner().invoke(main, ["index", "--corpus", str(c), "--index", str(index)], catch_exceptions=False)
    assert r.exit_code == 0
    return index


def test_search_json_on_the_embedded_corpus(runner, corpus_index):
    r = invoke(runner, ["search", "--index", str(corpus_index), "--json", "GPT-4 参数"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert set(d) == {"query", "total", "page", "per_page", "took_ms", "note", "suggestion", "hits", "facets"}
    assert d["hits"][0]["path"] == "chatgpt-info/what-is-chatgpt.md"
    assert "<mark>GPT-4</mark>" in d["hits"][0]["snippet_html"]
    assert set(d["hits"][0]) == {"path", "title", "url", "date", "tags", "categories", "score",
                                 "title_html", "snippet_html", "section", "anchor", "sections"}
    assert set(d["facets"]) == {"tags", "categories"}


def test_search_text_output(runner, small_index):
    r = invoke(runner, ["search", "--index", str(small_index), "GPT-4"])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("1 results")
    assert "a b.md" in r.stdout
    assert "<mark>" not in r.stdout  # plain text when not on a terminal
    assert "GPT-4 拥有超过5000亿参数" in r.stdout


def test_search_options(runner, small_index):
    r = invoke(runner, ["search", "--index", str(small_index), "--json", "--tag", "llm", "--per-page", "1",
                        "--sort", "date", "参数"])
    d = json.loads(r.stdout)
    assert d["total"] == 2 and d["per_page"] == 1 and len(d["hits"]) == 1
    r = invoke(runner, ["search", "--index", str(small_index), "--json", "--category", "nope", "参数"])
    assert json.loads(r.stdout)["total"] == 0


@pytest.mark.parametrize("args", [["-GPT-3 参数"], ["--", "-GPT-3 参数"], ["参数 -GPT-3"]])
def test_search_query_starting_with_dash(runner, small_index, args):
    r = invoke(runner, ["search", "--index", str(small_index), "--json", *args])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert [h["path"] for h in d["hits"]] == ["a b.md"]
    assert "-GPT-3" in d["query"]


def test_search_bare_exclusion(runner, small_index):
    r = invoke(runner, ["search", "--index", str(small_index), "--json", "-GPT-3"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["query"] == "-GPT-3"


def test_search_missing_index_in_process(runner, tmp_path):
    r = runner.invoke(main, ["search", "--index", str(tmp_path / "nope"), "参数"])
    assert r.exit_code == 1
    assert "no index in" in r.stderr and "zhsearch index" in r.stderr
    assert isinstance(r.exception, SystemExit)


def test_search_missing_index_subprocess(tmp_path):
    assert ZHSEARCH.is_file()
    p = subprocess.run([str(ZHSEARCH), "search", "--index", str(tmp_path / "nope"), "参数"],
                       capture_output=True, text=True, timeout=60, cwd=tmp_path,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert p.returncode != 0
    assert "Traceback" not in p.stderr + p.stdout
    assert "Error: no index in" in p.stderr
    assert "run `zhsearch index` first" in p.stderr


def test_search_damaged_index_is_a_clean_error(runner, small_index, tmp_path):
    damaged = tmp_path / "damaged"
    shutil.copytree(small_index, damaged)
    (damaged / "CURRENT").write_text("garbage\n", encoding="utf-8")
    r = runner.invoke(main, ["search", "--index", str(damaged), "参数"])
    assert r.exit_code == 1
    assert "--rebuild" in r.stderr
    assert isinstance(r.exception, SystemExit)


# ------------------------------------------------------------------------- eval


def test_eval_prints_measures_and_writes_run(runner, corpus, tmp_path):
    queries = tmp_path / "queries.tsv"
    queries.write_text("# comment\nq1\tGPT-4\nq2\t锤子\nq3\t早期模型\n", encoding="utf-8")
    qrels = tmp_path / "qrels.txt"
    qrels.write_text(
        "q1 0 a%20b.md 2\nq1 0 gpt3.md 0\nq2 0 sub/tool.md 1\nq3 0 gpt3.md 2\n", encoding="utf-8"
    )
    run = tmp_path / "out" / "run.txt"
    index = tmp_path / "ix"
    r = invoke(runner, ["eval", str(queries), str(qrels), "--corpus", str(corpus), "--index", str(index),
                        "--run", str(run), "--per-query"])
    assert r.exit_code == 0, r.output
    out = r.stdout
    values = {}
    for name in ("nDCG@10", "MRR@10", "R@10", "P@1"):
        m = re.search(rf"^{re.escape(name)}\s+([0-9.]+)$", out, re.M)
        assert m, (name, out)
        values[name] = float(m.group(1))
    assert re.search(r"^queries\s+3$", out, re.M)
    assert values == {"nDCG@10": 1.0, "MRR@10": 1.0, "R@10": 1.0, "P@1": 1.0}
    lines = run.read_text(encoding="utf-8").splitlines()
    rows = [ln.split() for ln in lines]
    assert all(len(row) == 6 and row[1] == "Q0" and row[5] == "zhsearch" for row in rows)
    by_q = {}
    for qid, _q0, did, rank, score, _tag in rows:
        by_q.setdefault(qid, []).append((int(rank), did, float(score)))
    assert by_q["q1"][0][:2] == (1, "a%20b.md")
    assert all(" " not in did for _r, did, _s in by_q["q1"])
    assert by_q["q2"][0][1] == "sub/tool.md"
    for hits in by_q.values():
        ranks = [rk for rk, _d, _s in hits]
        scores = [sc for _r, _d, sc in hits]
        assert ranks == list(range(1, len(ranks) + 1))
        assert scores == sorted(scores, reverse=True) and len(set(scores)) == len(scores)
    assert f"run written to {run}" in out


def test_the_command_line_loads_no_search_engine_or_web_framework_until_a_command_needs_one():
    """``zhsearch index`` runs after every edit: it should not pay for
    importing the query side and Flask (about 80 ms, a fifth of a no-change
    run). A fresh interpreter, as the ``zhsearch`` script starts one."""
    code = ("import sys, zhsearch.cli; "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('search', 'web', 'flask', 'waitress', 'ir_measures'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    loaded = set(out.split())
    assert not loaded & {"search.engine", "search.query", "web", "flask", "waitress", "ir_measures"}, loaded
