"""Curation: ``curation.yml`` / ``.toml`` in the corpus pins and hides articles
for a query and adds synonym groups, read without re-indexing, matched on the
folded query; ``zhsearch eval`` ignores it unless ``--with-curation``; the
admin page's appends keep the owner's file as it was written."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer import store
from search.curation import CurationEditError, append_pin, append_synonyms, clean_path, curation_key, curation_path
from search.engine import Engine, search
from search.models import Filters
from tests.conftest import build_site, write_article
from zhsearch.cli import main

ARTICLES = {
    "llm/gpt4.md": "---\ntitle: GPT-4 的参数\ntags: [LLM]\ndate: 2024-03-01\n---\n\nGPT-4 拥有超过5000亿参数，参数量很大。\n",
    "llm/gpt3.md": "---\ntitle: GPT-3 简介\ntags: [LLM]\ndate: 2023-01-01\n---\n\nGPT-4 之前的 GPT-3 有1750亿参数。\n",
    "ops/deploy.md": "---\ntitle: 部署指南\ntags: [运维]\ndate: 2022-05-01\n---\n\n如何部署服务：先构建镜像，再部署到集群。\n",
    "drafts/old-notes.md": "---\ntitle: 旧笔记\ntags: [草稿]\ndate: 2021-01-01\n---\n\n部署的旧笔记，已经过时。部署部署。\n",
    "k8s/intro.md": "---\ntitle: Kubernetes 入门\ntags: [运维]\ndate: 2024-06-01\n---\n\nKubernetes 是容器编排系统。\n",
    "web/a11y.md": "---\ntitle: 网页无障碍\ntags: [前端]\ndate: 2023-06-01\n---\n\nAccessibility 让读屏软件也能读网页。\n",
    "misc/cooking.md": "---\ntitle: 红烧肉做法\ntags: [生活]\ndate: 2020-01-01\n---\n\n红烧肉需要五花肉和冰糖。\n",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("curation"), ARTICLES)


@pytest.fixture
def corpus(site, tmp_path):
    """The module's index, its corpus's curation file cleared after the test."""
    c = site / "corpus"
    yield c
    for name in ("curation.yml", "curation.yaml", "curation.toml"):
        (c / name).unlink(missing_ok=True)


def write(path: Path, text: str) -> None:
    """Write, and make sure the modification time moves (a stat-based reload must see it)."""
    old = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    if st.st_mtime_ns <= old:
        os.utime(path, ns=(st.st_atime_ns, old + 1_000_000_000))


def paths(page) -> list[str]:
    return [h.path for h in page.hits]


def test_key_folds_width_script_case_spaces_and_edge_punctuation(site):
    fold = Engine(site / "ix").analyzer.fold_query
    key = curation_key(fold, "GPT-4 参数")
    assert key == curation_key(fold, "ＧＰＴ－４ 參數") == curation_key(fold, "gpt-4参数") == \
        curation_key(fold, "  GPT-4   参数？ ")
    assert key != curation_key(fold, "GPT-3 参数")
    assert clean_path("./llm\\gpt4.md") == "llm/gpt4.md" == clean_path("/llm/gpt4.md")


def test_pins_come_first_in_order_and_hides_go(corpus, site):
    engine = Engine(site / "ix")
    before = paths(search(engine, "部署"))
    assert "drafts/old-notes.md" in before and "misc/cooking.md" not in before
    write(corpus / "curation.yml", (
        "# the owner's file\n"
        "pins:   # these first, in this order\n"
        "  - query: 部署\n    path: misc/cooking.md\n"
        "  - query: 部署\n    path: k8s/intro.md\n"
        "hide:\n  - query: 部署\n    path: drafts/old-notes.md\n"))
    page = search(engine, "部署")
    got = paths(page)
    assert got[:2] == ["misc/cooking.md", "k8s/intro.md"]  # pinned, though neither says 部署
    assert "drafts/old-notes.md" not in got
    assert got[2:] == [p for p in before if p != "drafts/old-notes.md"]
    assert page.total == len(before) - 1 + 2
    # the facets count what is shown: the hidden draft's tag is gone, the pins' tags are in
    tags = {f.value for f in page.facets.tags}
    assert "草稿" not in tags and {"生活", "运维"} <= tags
    # other queries are untouched
    assert "drafts/old-notes.md" in paths(search(engine, "旧笔记"))


def test_matching_uses_the_folded_query(corpus, site):
    engine = Engine(site / "ix")
    write(corpus / "curation.yml", "pins:\n  - query: GPT-4 参数\n    path: misc/cooking.md\n")
    for typed in ("GPT-4 参数", "ＧＰＴ－４ 參數", "gpt-4参数", "GPT-4 参数?"):
        assert paths(search(engine, typed))[0] == "misc/cooking.md", typed
    assert paths(search(engine, "GPT-4"))[0] != "misc/cooking.md"


def test_pins_respect_filters_and_the_date_sort(corpus, site):
    engine = Engine(site / "ix")
    write(corpus / "curation.yml", "pins:\n  - query: 部署\n    path: misc/cooking.md\n"
                                   "hide:\n  - query: 部署\n    path: drafts/old-notes.md\n")
    # a filter the pinned article does not pass keeps it out
    assert "misc/cooking.md" not in paths(search(engine, "部署", filters=Filters(tags=("运维",))))
    assert paths(search(engine, "部署", filters=Filters(tags=("生活",)))) == ["misc/cooking.md"]
    # newest first means newest first; the hide still holds
    by_date = paths(search(engine, "部署", sort="date"))
    assert by_date[0] != "misc/cooking.md" and "drafts/old-notes.md" not in by_date


def test_pins_page_through(corpus, site):
    engine = Engine(site / "ix")
    write(corpus / "curation.yml", "pins:\n  - query: 参数\n    path: misc/cooking.md\n")
    everything = paths(search(engine, "参数", per_page=10))
    assert everything[0] == "misc/cooking.md"
    one_by_one = [paths(search(engine, "参数", page=n, per_page=1)) for n in range(1, len(everything) + 1)]
    assert [p for page in one_by_one for p in page] == everything


def test_synonym_groups_join_the_synonyms(corpus, site):
    engine = Engine(site / "ix")
    assert paths(search(engine, "a11y")) == []  # a word the built-in glossary does not bridge
    write(corpus / "curation.yml", "synonyms:\n  - [a11y, Accessibility]\n")
    assert paths(search(engine, "a11y")) == ["web/a11y.md"]


def test_toml_works_the_same(corpus, site):
    engine = Engine(site / "ix")
    write(corpus / "curation.toml", 'synonyms = [["a11y", "Accessibility"]]\n\n'
                                    '[[pins]]\nquery = "部署"\npath = "misc/cooking.md"\n\n'
                                    '[[hide]]\nquery = "部署"\npath = "drafts/old-notes.md"\n')
    got = paths(search(engine, "部署"))
    assert got[0] == "misc/cooking.md" and "drafts/old-notes.md" not in got
    assert paths(search(engine, "a11y")) == ["web/a11y.md"]


def test_edits_apply_without_reindex_and_a_broken_save_keeps_the_last_good(corpus, site, caplog):
    engine = Engine(site / "ix")
    generation = store.read_current(site / "ix").name
    f = corpus / "curation.yml"
    write(f, "pins:\n  - query: 部署\n    path: misc/cooking.md\n")
    assert paths(search(engine, "部署"))[0] == "misc/cooking.md"
    with caplog.at_level(logging.WARNING, logger="search"):
        write(f, "pins:\n  - query: 部署\n    path: [misc/cooking.md\n")  # saved half-edited
        assert paths(search(engine, "部署"))[0] == "misc/cooking.md"
    assert any("not valid YAML" in r.getMessage() and "last good" in r.getMessage() for r in caplog.records)
    write(f, "pins:\n  - query: 部署\n    path: k8s/intro.md\n")
    assert paths(search(engine, "部署"))[0] == "k8s/intro.md"
    f.unlink()
    assert paths(search(engine, "部署"))[0] not in ("k8s/intro.md", "misc/cooking.md")
    assert store.read_current(site / "ix").name == generation  # no re-index happened


def test_an_entry_naming_no_article_is_reported_once_and_ignored(corpus, site, caplog):
    engine = Engine(site / "ix")
    write(corpus / "curation.yml", (
        "pins:\n  - query: 部署\n    path: nowhere/ghost.md\n  - query: 部署\n    path: misc/cooking.md\n"
        "  - query: 部署\n  - 42\n"
        "hide:\n  - query: 部署\n    path: also/missing.md\n"
        "colour: blue\n"))
    with caplog.at_level(logging.WARNING, logger="search"):
        for _ in range(3):
            assert paths(search(engine, "部署"))[0] == "misc/cooking.md"
        engine.curation().missing(engine.generation_name(), engine.generation().searcher())
    messages = [r.getMessage() for r in caplog.records]
    assert sum("nowhere/ghost.md" in m for m in messages) == 1
    assert sum("also/missing.md" in m for m in messages) == 1
    assert any("pins entry 3" in m and "no path" in m for m in messages)
    assert any("pins entry 4" in m for m in messages)
    assert any("unknown key 'colour'" in m for m in messages)
    missing = engine.curation().missing(engine.generation_name(), engine.generation().searcher())
    assert {(r.kind, r.path) for r in missing} == {("pins", "nowhere/ghost.md"), ("hide", "also/missing.md")}


def test_hide_wins_over_a_pin_of_the_same_article(corpus, site):
    engine = Engine(site / "ix")
    write(corpus / "curation.yml", "pins:\n  - query: 部署\n    path: misc/cooking.md\n"
                                   "hide:\n  - query: 部署\n    path: misc/cooking.md\n")
    assert "misc/cooking.md" not in paths(search(engine, "部署"))


def test_eval_ignores_curation_unless_asked(tmp_path):
    corpus = tmp_path / "corpus"
    for rel, text in ARTICLES.items():
        write_article(corpus, rel, text)
    queries = tmp_path / "queries.tsv"
    queries.write_text("q1\t部署\n", encoding="utf-8")
    qrels = tmp_path / "qrels.txt"
    qrels.write_text("q1 0 misc/cooking.md 1\n", encoding="utf-8")
    (corpus / "curation.yml").write_text("pins:\n  - query: 部署\n    path: misc/cooking.md\n", encoding="utf-8")
    args = [str(queries), str(qrels), "--corpus", str(corpus), "--index", str(tmp_path / "ix")]
    honest = CliRunner().invoke(main, ["eval", *args])
    assert honest.exit_code == 0, honest.output
    assert "P@1       0.0000" in honest.output
    curated = CliRunner().invoke(main, ["eval", *args, "--with-curation"])
    assert curated.exit_code == 0, curated.output
    assert "P@1       1.0000" in curated.output


# ------------------------------------------------------------- appending


def test_append_to_yaml_keeps_comments_and_layout(tmp_path):
    c = tmp_path / "c"
    c.mkdir()
    f = c / "curation.yml"
    original = ("# curation of my blog\n"
                "pins:   # these articles first\n"
                "- query: GPT-4 参数\n  path: llm/gpt4.md\n"
                "\n# hidden drafts\n"
                "hide:\n    - query: 部署\n      path: drafts/old-notes.md\n"
                "synonyms:\n  - [k8s, Kubernetes]\n  # more later\n")
    f.write_text(original, encoding="utf-8")
    assert append_pin(c, '部署 "指南"', "ops/deploy.md") == f
    assert append_synonyms(c, ["向量库", "向量数据库", "向量库"]) == f
    text = f.read_text(encoding="utf-8")
    assert text.startswith("# curation of my blog\npins:   # these articles first\n- query: GPT-4 参数\n"
                           "  path: llm/gpt4.md\n- query: \"部署 \\\"指南\\\"\"\n  path: \"ops/deploy.md\"\n")
    assert "# hidden drafts\nhide:\n    - query: 部署\n" in text
    assert '  - [k8s, Kubernetes]\n  - ["向量库", "向量数据库"]\n  # more later\n' in text
    import yaml

    data = yaml.safe_load(text)
    assert data["pins"][-1] == {"query": '部署 "指南"', "path": "ops/deploy.md"}
    assert data["synonyms"][-1] == ["向量库", "向量数据库"]


def test_append_creates_the_file_and_missing_sections(tmp_path):
    c = tmp_path / "c"
    c.mkdir()
    assert curation_path(c) == c / "curation.yml"
    append_pin(c, "部署", "ops/deploy.md")
    append_synonyms(c, ["k8s", "Kubernetes"])
    import yaml

    assert yaml.safe_load((c / "curation.yml").read_text(encoding="utf-8")) == {
        "pins": [{"query": "部署", "path": "ops/deploy.md"}], "synonyms": [["k8s", "Kubernetes"]]}
    (c / "curation.yml").write_text("pins: []\nhide:\n", encoding="utf-8")
    append_pin(c, "部署", "ops/deploy.md")
    assert yaml.safe_load((c / "curation.yml").read_text(encoding="utf-8"))["pins"] == [
        {"query": "部署", "path": "ops/deploy.md"}]


def test_append_to_toml(tmp_path):
    c = tmp_path / "c"
    c.mkdir()
    f = c / "curation.toml"
    f.write_text('# my curation\nsynonyms = [\n  ["k8s", "Kubernetes"],  # containers\n]\n\n'
                 '[[pins]]\nquery = "GPT-4 参数"\npath = "llm/gpt4.md"\n', encoding="utf-8")
    append_synonyms(c, ["向量库", "向量数据库"])
    append_pin(c, "部署", "ops/deploy.md")
    import tomllib

    text = f.read_text(encoding="utf-8")
    assert text.startswith("# my curation\n") and "# containers" in text
    data = tomllib.loads(text)
    assert data["synonyms"] == [["k8s", "Kubernetes"], ["向量库", "向量数据库"]]
    assert data["pins"] == [{"query": "GPT-4 参数", "path": "llm/gpt4.md"}, {"query": "部署", "path": "ops/deploy.md"}]
    g = tmp_path / "g"
    g.mkdir()
    (g / "curation.toml").write_text('[[hide]]\nquery = "部署"\npath = "drafts/x.md"\n', encoding="utf-8")
    append_synonyms(g, ["k8s", "Kubernetes"])  # a new array goes before the tables
    data = tomllib.loads((g / "curation.toml").read_text(encoding="utf-8"))
    assert data == {"synonyms": [["k8s", "Kubernetes"]], "hide": [{"query": "部署", "path": "drafts/x.md"}]}


def test_append_refuses_what_it_cannot_do_cleanly(tmp_path):
    c = tmp_path / "c"
    c.mkdir()
    f = c / "curation.yml"
    f.write_text("pins: [{query: a, path: b.md}]\n", encoding="utf-8")
    with pytest.raises(CurationEditError, match="inline"):
        append_pin(c, "部署", "ops/deploy.md")
    assert f.read_text(encoding="utf-8") == "pins: [{query: a, path: b.md}]\n"  # untouched
    (c / "curation.yml").unlink()
    (c / "curation.toml").write_text('pins = [{query = "a", path = "b.md"}]\n', encoding="utf-8")
    with pytest.raises(CurationEditError, match="no longer parse"):
        append_pin(c, "部署", "ops/deploy.md")
    for bad in ("", "  ", "a\x00b", "x" * 301):
        with pytest.raises(CurationEditError):
            append_pin(c, bad, "ops/deploy.md")
    with pytest.raises(CurationEditError, match="two different"):
        append_synonyms(c, ["k8s", "k8s"])


def test_an_appended_pin_is_in_force_at_once(corpus, site):
    engine = Engine(site / "ix")
    assert paths(search(engine, "红烧肉")) == ["misc/cooking.md"]
    append_pin(corpus, "红烧肉", "ops/deploy.md")
    assert paths(search(engine, "红烧肉"))[:2] == ["ops/deploy.md", "misc/cooking.md"]


def test_the_embedded_corpus_has_no_curation_file():
    """Shipping one would change every fresh install's results."""
    from tests.conftest import CORPUS

    assert not any((CORPUS / n).exists() for n in ("curation.yml", "curation.yaml", "curation.toml"))
