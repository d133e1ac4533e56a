"""The zhsearch web site: a Flask application factory.

``create_app`` builds one application around one :class:`search.Engine`.
The engine (kept in ``app.extensions``) re-reads the index's ``CURRENT``
pointer on every request and switches to a newly published generation by
itself, so ``zhsearch index`` (or ``--rebuild``) in another terminal is picked
up without a restart and no request ever sees a half-written index.

Settings are one :class:`zhsearch.settings.Settings` value: ``zhsearch serve``
passes the one it built from its flags; without one, the environment
(``ZHSEARCH_INDEX``, ``ZHSEARCH_CORPUS``, ``ZHSEARCH_SYNONYMS``,
``ZHSEARCH_BASE_URL`` …) is read the same way the command line reads it.

Besides its own pages the site serves ``/widget.js``, the search box for the
user's own site (:mod:`web.widget`), answers cross-origin API requests from
the allowed origins (:mod:`web.cors`) and can live under a path prefix behind
a reverse proxy (``Settings.url_prefix``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask, request, url_for

from indexer.store import IndexUnavailable
from indexer.watchstate import WatchStatus
from search.engine import Engine, search
from zhsearch.settings import Settings

from . import admin, analytics, api, cors, errors, views, widget
from .assets import asset_versions
from .catalog import CatalogCache
from .state import EXTENSION, State, close_app, get_state

__all__ = ["create_app", "close_app", "get_state", "State"]

log = logging.getLogger(__name__)

#: No inline script or style anywhere: everything comes from /static.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


def create_app(settings: Settings | None = None, config: Mapping[str, Any] | None = None, *,
               watch: WatchStatus | None = None) -> Flask:
    """Build the site for ``settings`` (default: from the environment).

    ``config``: extra Flask configuration (``TESTING``, say).  ``watch``: the
    state of the watch that keeps the index up to date, when the server runs
    one (``/healthz`` reports it)."""
    settings = settings or Settings.load()
    app = Flask(__name__)
    app.config.update(
        SEND_FILE_MAX_AGE_DEFAULT=86400,  # static URLs carry a content hash
        MAX_CONTENT_LENGTH=64 * 1024,  # the site takes no uploads
    )
    if config:
        app.config.update(dict(config))
    engine = Engine(settings.index, settings.synonyms, cache_size=settings.cache_size, semantic=settings.embeddings)
    state = State(settings, engine, CatalogCache(engine), analytics.start(settings, engine), watch)
    app.extensions[EXTENSION] = state

    # "/a//etc/passwd" must not be "normalised" into a redirect: it is simply not a page
    app.url_map.merge_slashes = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # readable Chinese in the API
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep ResultPage field order

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(widget.bp)
    app.register_blueprint(analytics.bp)
    app.register_blueprint(admin.bp)
    errors.register(app)
    cors.register(app, settings.allow_origins)
    if settings.url_prefix:
        app.wsgi_app = PrefixMiddleware(app.wsgi_app, settings.url_prefix)  # type: ignore[method-assign]

    versions = asset_versions()

    @app.context_processor
    def _globals() -> dict[str, Any]:
        def asset(name: str) -> str:
            return url_for("static", filename=name, v=versions.get(name, "0"))

        return {"asset": asset, "base_url": state.base_url}

    @app.after_request
    def _security_headers(resp):
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        if request.endpoint != "static":
            resp.headers.setdefault("Cache-Control", "no-cache")
        return resp

    log.info("zhsearch web: index %s, corpus %s%s%s%s", settings.index, settings.corpus,
             f", base URL {settings.base_url}" if settings.base_url else "",
             f", API open to {', '.join(settings.allow_origins)}" if settings.allow_origins else "",
             f", under {settings.url_prefix}/" if settings.url_prefix else "")
    if settings.warmup:
        threading.Thread(target=_warm_up, args=(state,), name="zhsearch-warmup", daemon=True).start()
    return app


class PrefixMiddleware:
    """Serve the site under ``prefix`` behind a reverse proxy that passes the
    path through (``location /zhsearch/ { proxy_pass http://127.0.0.1:8000; }``):
    the prefix moves from ``PATH_INFO`` to ``SCRIPT_NAME``, so every URL the
    site generates (``url_for``) carries it.  Requests without the prefix
    (straight to the port) are served as they are."""

    def __init__(self, app, prefix: str) -> None:
        self.app = app
        self.prefix = prefix.rstrip("/")

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == self.prefix or path.startswith(self.prefix + "/"):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + self.prefix
            environ["PATH_INFO"] = path[len(self.prefix):] or "/"
        return self.app(environ, start_response)


def _warm_up(state: State) -> None:
    """Load jieba, open the index and read the catalog before the first visitor
    does: otherwise the first search of a fresh server takes seconds."""
    try:
        state.catalog.get()
        search(state.engine, "中文 搜索", per_page=1)
        state.engine.prepare_rescue()
        state.engine.prepare_semantic()
    except IndexUnavailable as exc:
        log.warning("index not ready yet: %s", exc)
    except Exception:  # a failed warm-up only costs the first visitor time
        log.exception("warm-up failed")
