"""What every request of one site needs, and how a view reaches it.

``create_app`` builds one :class:`State` and keeps it in ``app.extensions``;
the blueprints read it with :func:`get_state`.  This module imports none of
them, so each can import it at the top.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask, current_app

from indexer.watchstate import WatchStatus
from search.engine import Engine
from zhsearch.settings import Settings

from .catalog import CatalogCache

if TYPE_CHECKING:  # a type only: web.analytics reads the state through this module
    from .analytics import Recorder

#: The key of the :class:`State` in ``app.extensions``.
EXTENSION = "zhsearch"


@dataclass
class State:
    """The settings, the engine, the catalog and the analytics recorder of one site."""

    settings: Settings
    engine: Engine
    catalog: CatalogCache
    #: records settled searches and clicks (None: ``--no-analytics``)
    analytics: Recorder | None = None
    #: the state of ``serve --watch``'s watch (None: the site does not watch)
    watch: WatchStatus | None = None

    def close(self, timeout: float = 5.0) -> None:
        """Write what analytics still has queued (the server is stopping)."""
        if self.analytics is not None:
            self.analytics.store.close(timeout)

    @property
    def corpus(self) -> Path:
        return self.settings.corpus

    @property
    def base_url(self) -> str | None:
        return self.settings.base_url

    def corpus_root(self) -> Path:
        """The folder the live index was built from (recorded in its meta),
        else the configured corpus: the index, not the server's working
        directory, knows where its articles are (and its curation file)."""
        recorded = self.engine.corpus_root()
        if recorded and recorded.is_dir():
            return recorded
        return self.corpus


def get_state() -> State:
    """The :class:`State` of the current application."""
    return current_app.extensions[EXTENSION]


def close_app(app: Flask, timeout: float = 5.0) -> None:
    """Let an application finish its background writes (a server process is stopping)."""
    state = app.extensions.get(EXTENSION)
    if state is not None:
        state.close(timeout)
