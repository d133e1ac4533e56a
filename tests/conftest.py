"""Shared fixtures: real markdown files, real Whoosh indexes on disk."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.browser import browser, page  # noqa: F401  (pytest fixtures)

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "articles"
SHARED = ROOT.parent / "shared"
SHARED_CORPUS = SHARED / "corpus"
QRELS = SHARED / "qrels"

needs_shared = pytest.mark.skipif(not SHARED_CORPUS.is_dir(), reason="needs ../shared/corpus")


def pytest_collection_modifyitems(config, items) -> None:
    """A test that starts Chromium (through the ``browser`` fixture, or
    ``page``, which uses it) is a browser test even if its author forgot the
    marker: ``pytest -m "not browser"`` must never launch one."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)


def build_index(corpus: Path, index: Path, **kw):
    from indexer.anchors import DEFAULT_STYLE
    from indexer.build import IndexConfig, update_index

    cfg = IndexConfig(corpus, index, workers=kw.pop("workers", 1), segmenter=kw.pop("segmenter", "auto"),
                      anchor_style=kw.pop("anchor_style", DEFAULT_STYLE))
    return update_index(cfg, **kw)


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Path:
    """An index of the embedded corpus, built once per test session (read only!)."""
    index = tmp_path_factory.mktemp("corpus-index") / "ix"
    build_index(CORPUS, index, workers=2)
    return index


@pytest.fixture(scope="session")
def engine(corpus_index):
    from search import Engine

    return Engine(corpus_index)


@pytest.fixture
def corpus_copy(tmp_path) -> Path:
    """A private, writable copy of the embedded corpus."""
    dst = tmp_path / "corpus"
    shutil.copytree(CORPUS, dst)
    return dst


def write_article(root: Path, rel: str, text: str) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def build_site(root: Path, articles: dict[str, str]) -> Path:
    """``root/corpus`` holding ``articles`` (path → markdown) and ``root/ix``
    built from it; returns ``root``."""
    for rel, text in articles.items():
        write_article(root / "corpus", rel, text)
    build_index(root / "corpus", root / "ix")
    return root
