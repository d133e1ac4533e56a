"""zhsearch's URLs and anchors against what the real generators built.

Each site under ``tests/fixtures/sites`` was built once with its generator
(``tests/fixtures/sites/build.py``); ``built.json`` lists the pages that
build wrote and each page's element ids.  Here the sources are indexed with
``--generator auto`` (the site's own config is read) and every result link
is checked against that record by the same code ``zhsearch check-links``
runs: every article's URL is a page reached without a redirect, every
section's anchor an id of that page.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from indexer.build import IndexConfig, update_index
from indexer.site import Generator, detect_site
from search.checklinks import Problem, check_links, load_record

SITES = Path(__file__).resolve().parent / "fixtures" / "sites"
#: site → (folder a user points --corpus at, the generator auto must find)
CORPORA = {
    "vuepress": ("docs", Generator.VUEPRESS),
    "vuepress2": ("docs", Generator.VUEPRESS2),
    "vitepress": ("docs", Generator.VITEPRESS),
    "hexo": ("source", Generator.HEXO),
    "hugo": ("content", Generator.HUGO),
}


def _tz_utc(monkeypatch) -> None:
    """The records were built on a UTC machine; Hexo formats post dates in
    the building machine's time zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()


@pytest.fixture
def utc(monkeypatch):
    _tz_utc(monkeypatch)
    yield
    monkeypatch.undo()
    time.tzset()


def _index(site: str, tmp_path: Path, **cfg) -> tuple[Path, object]:
    corpus = SITES / site / CORPORA[site][0]
    index = tmp_path / f"ix-{site}"
    report = update_index(IndexConfig(corpus, index, workers=1, **cfg))
    assert not report.skipped, report.skipped
    return index, report


@pytest.mark.parametrize("site", list(CORPORA))
def test_every_link_is_a_built_page_and_every_anchor_an_id(site, tmp_path, utc):
    built = load_record(SITES / site / "built.json")
    index, report = _index(site, tmp_path)
    assert report.site.startswith(CORPORA[site][1].value), report.site
    articles = list((SITES / site / CORPORA[site][0]).rglob("*.md"))
    result = check_links(index, built)
    assert result.articles == len(articles) == report.total
    assert result.issues == [], "\n".join(f"{i.problem.value}: {i.path} {i.url} {i.detail}" for i in result.issues)
    assert result.pages_found == len(articles)
    assert result.anchors_checked > 10 * len(articles)  # the headings were really checked


@pytest.mark.parametrize("site", list(CORPORA))
def test_auto_finds_the_generator_from_the_corpus_or_a_parent(site):
    folder, gen = CORPORA[site]
    assert detect_site(SITES / site / folder).generator is gen
    if site in ("hexo", "hugo"):  # the site root itself as the corpus (VuePress: docs/ is the root)
        assert detect_site(SITES / site).generator is gen


def test_a_wrong_generator_gives_broken_links(tmp_path, utc):
    """The check is not vacuous: the same Hexo site indexed as VuePress 1
    (the old default) has links to pages that do not exist."""
    built = load_record(SITES / "hexo" / "built.json")
    index, _ = _index("hexo", tmp_path, generator="vuepress")
    result = check_links(index, built)
    assert result.count(Problem.MISSING_PAGE) >= 8


def test_vdoing_permalink_without_slash_is_linked_with_it(tmp_path):
    """vdoing writes ``permalink: /pages/a1b2c3`` and VuePress 1 serves and
    links it as ``/pages/a1b2c3/``: the bare form is a 301."""
    built = load_record(SITES / "vuepress" / "built.json")
    index, _ = _index("vuepress", tmp_path)
    from search.engine import Engine

    urls = {t.url for t in Engine(index).listing().titles}
    bare = [u for u in urls if u.startswith("/pages/")]
    assert bare and all(u.endswith("/") for u in bare)
    assert built.resolve(bare[0].rstrip("/")) == (bare[0].strip("/") + "/index.html", True)  # a redirect


def test_site_config_change_rebuilds_and_says_why(tmp_path, utc):
    site = tmp_path / "hexo"
    shutil.copytree(SITES / "hexo", site, ignore=shutil.ignore_patterns("built.json"))
    (site / ".git").mkdir()  # the site is its own repository
    index = tmp_path / "ix"
    first = update_index(IndexConfig(site / "source", index, workers=1))
    assert first.rebuilt and first.site.startswith("hexo (_config.yml")
    again = update_index(IndexConfig(site / "source", index, workers=1))
    assert not again.changed
    cfg = site / "_config.yml"
    cfg.write_text(cfg.read_text(encoding="utf-8").replace("root: /blog/", "root: /new/"), encoding="utf-8")
    moved = update_index(IndexConfig(site / "source", index, workers=1))
    assert moved.rebuilt and "base '/blog/' → '/new/'" in moved.rebuild_reason
    gen = update_index(IndexConfig(site / "source", index, workers=1, generator="plain"))
    assert gen.rebuilt and "generator 'hexo' → 'plain'" in gen.rebuild_reason


def test_broken_site_config_is_a_clear_error(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "scaffolds").mkdir()
    (tmp_path / "_config.yml").write_text("permalink: [unclosed\n", encoding="utf-8")
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "a.md").write_text("# 标题\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"cannot parse .*_config.yml"):
        update_index(IndexConfig(tmp_path / "source", tmp_path / "ix", workers=1))


@pytest.mark.parametrize("site", ["hexo", "hugo"])
def test_the_site_root_as_corpus_gives_the_same_links(site, tmp_path, utc):
    """``--corpus`` at the site root: the articles under the content folder
    get the same URLs; files outside it (a README, a theme's docs) are
    skipped, not given made-up URLs."""
    root = tmp_path / site
    shutil.copytree(SITES / site, root)
    (root / ".git").mkdir()
    (root / "README.md").write_text("# 关于这个仓库\n", encoding="utf-8")
    report = update_index(IndexConfig(root, tmp_path / "ix", workers=1))
    outside = {"README.md", "scaffolds/post.md"} if site == "hexo" else {"README.md"}
    assert {p for p, _ in report.skipped} == outside and all("outside" in why for _, why in report.skipped)
    built = load_record(SITES / site / "built.json")
    result = check_links(tmp_path / "ix", built)
    assert result.articles == len(list((SITES / site / CORPORA[site][0]).rglob("*.md"))) and result.ok
