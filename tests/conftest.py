"""Shared fixtures: real markdown files, real Whoosh indexes on disk, the
real site (``make_app``, ``app``, ``client``) and a real HTTP server in front
of it (``live_server``)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from tests.browser import browser, page  # noqa: F401  (pytest fixtures)
from web import close_app, create_app
from zhsearch.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "articles"
SHARED = ROOT.parent / "shared"
SHARED_CORPUS = SHARED / "corpus"
QRELS = SHARED / "qrels"

# The embeddings extra is installed for its own tests (tests/test_semantic.py turns it on
# where it is tested); everywhere else, and in every command a test starts, an update does not
# load the encoder and embed: the fault and watch tests run hundreds of updates.
os.environ["ZHSEARCH_EMBEDDINGS"] = "off"

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
    from search.engine import Engine

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


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, for a server a test starts in its own process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_site(root: Path, articles: dict[str, str]) -> Path:
    """``root/corpus`` holding ``articles`` (path → markdown) and ``root/ix``
    built from it; returns ``root``."""
    for rel, text in articles.items():
        write_article(root / "corpus", rel, text)
    build_index(root / "corpus", root / "ix")
    return root


# -------------------------------------------------------------- the site

MakeApp = Callable[..., Flask]


class WholeAnswerClient(FlaskClient):
    """A test client that reads every answer whole and closes it, so that a
    static file's handle is not left for the garbage collector (pytest turns
    the ResourceWarning into an error)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="module")
def make_app() -> Iterator[MakeApp]:
    """``make_app(index, corpus=CORPUS, config=None, **settings)``: the real
    site over ``index``, with its settings read as ``zhsearch serve`` reads
    them (``Settings.load``; ``config``: extra Flask configuration).

    Warm-up is off, so a test's own requests are the only ones.  The apps
    are closed (what analytics still has queued is written) when the
    module's tests are done: module-scoped, so that module-scoped fixtures
    can build theirs."""
    apps: list[Flask] = []

    def make(index: Path, corpus: Path = CORPUS, config: Mapping[str, Any] | None = None, **settings) -> Flask:
        app = create_app(Settings.load(corpus, index, warmup=False, **settings), config)
        app.test_client_class = WholeAnswerClient
        apps.append(app)
        return app

    yield make
    for app in apps:
        close_app(app)


@pytest.fixture(scope="module")
def app(make_app, corpus_index) -> Flask:
    """The site over the session's index of the embedded corpus (read only)."""
    return make_app(corpus_index)


@pytest.fixture
def client(app):
    """A Flask test client of ``app``."""
    return app.test_client()


@contextmanager
def _serving(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="zhsearch-live", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_server() -> Callable[[Flask], AbstractContextManager[str]]:
    """``with live_server(app) as url:`` ``app`` behind a real threaded HTTP
    server (werkzeug) on a free loopback port, stopped when the block ends;
    so a test, a module or the session can own one."""
    return _serving
