"""Recording settled searches and clicks: the web side of analytics.

A *settled* search is one the reader stopped at: 1 s without typing, Enter,
or a click on a result.  The keystrokes of as-you-type are not searches, and
the server cannot know, when it answers one, whether the reader will stop
there.  So:

* every answer that may be recorded carries a **search id**: a token the
  server signs (HMAC with the installation's key, kept in the analytics
  database, the same in every ``--workers`` process) holding what it
  answered — the query, the number of results, page, sort, filters, the
  ranks shown and the articles at those ranks, the source and the time
  (compressed: the paths share their folders).  ``/api/widget`` puts it in its JSON
  (``search_id``), every answer in the ``X-Zhsearch-Search-Id`` header.
* Answers of as-you-type (``/api/widget``, ``/api/search?settled=0``) are not
  recorded.  When the reader settles, the client sends the id once, with
  ``navigator.sendBeacon``, to ``POST /api/settle`` (1 s idle, Enter) or
  ``POST /api/click`` (a click settles the search too).  No second request
  per keystroke, none that navigation waits for.
* The results page (``/search``) is a settled search by itself (the reader
  pressed Enter or followed a link): recorded as it is served, its id in the
  page for the click beacon.  ``/api/search`` counts every call as a settled
  search (a script asks what it means) unless ``settled=0`` says it is a
  keystroke of someone's own as-you-type box, which then settles it like the
  widget does.

The server records only what the id says, plus the folded query (the key
curation matches), the settle reason and — for the widget — the host page's
path; a click only says its rank, and the article is the one the id has
there.  A forged or altered id is refused; the id is the row's unique key,
so a search settled twice (idle, then a click) or a replayed beacon is one
row.  Beacons are accepted from the site's own pages and from the allowed
origins (``--allow-origin``) only; the reader's address, cookies and
referrer are never read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from importlib import metadata
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import Forbidden

from search.curation import curation_key
from search.models import ResultPage

from .analytics_store import AnalyticsStore, ClickRow, SearchRow, filters_json
from .cors import SEARCH_ID_HEADER, allowed_origin
from .params import BadParameter, SearchParams
from .state import get_state

log = logging.getLogger(__name__)

bp = Blueprint("analytics", __name__)

#: The response header that carries a search's id (every recorded kind of answer).
HEADER = SEARCH_ID_HEADER
#: An id older than this is refused (a results page left open for days).
MAX_AGE_S = 2 * 86400
MAX_BEACON_BYTES = 16 * 1024
MAX_PATH = 500
#: A search id's payload unpacks to at most this (a forged one cannot make the server inflate more).
MAX_PAYLOAD_BYTES = 64 * 1024


class Source(StrEnum):
    WIDGET = "widget"
    PAGE = "page"
    API = "api"


class Settled(StrEnum):
    """Why a search counts: what the reader did, or what kind of request it was."""

    IDLE = "idle"
    ENTER = "enter"
    CLICK = "click"
    PAGE = "page"
    API = "api"


@dataclass(frozen=True)
class Answered:
    """What the server answered, as a search id carries it."""

    search_id: str
    ts: int
    query: str
    results: int
    page: int
    first_rank: int
    shown: int
    sort: str
    tags: tuple[str, ...]
    categories: tuple[str, ...]
    source: str
    paths: tuple[str, ...] = ()  # the articles shown, in rank order

    def _fields(self) -> list:
        return [self.search_id, self.ts, self.query, self.results, self.page, self.first_rank, self.shown,
                self.sort, list(self.tags), list(self.categories), self.source, list(self.paths)]

    @classmethod
    def _from(cls, v: list) -> Answered:
        sid, ts, q, results, page, first, shown, sort, tags, cats, source, paths = v
        if not (isinstance(sid, str) and isinstance(q, str) and isinstance(sort, str)
                and all(isinstance(x, int) for x in (ts, results, page, first, shown))
                and all(isinstance(x, list) for x in (tags, cats, paths)) and source in set(Source)):
            raise ValueError("malformed search id")
        return cls(sid, ts, q, results, page, first, shown, sort, tuple(map(str, tags)), tuple(map(str, cats)),
                   source, tuple(map(str, paths)))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Recorder:
    """Signs search ids and queues rows for the analytics store."""

    def __init__(self, store: AnalyticsStore, fold_key: Callable[[str], str]) -> None:
        """``fold_key``: a query → its curation key (the live index's folding)."""
        self.store = store
        self.fold_key = fold_key
        try:
            self.version = metadata.version("zhsearch")
        except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare checkout
            self.version = "unknown"

    # -- ids

    def answered(self, result: ResultPage, p: SearchParams, source: Source) -> Answered:
        per_page = max(1, result.per_page)
        return Answered(secrets.token_urlsafe(9), int(time.time()), p.q, result.total, result.page,
                        (result.page - 1) * per_page + 1, len(result.hits), p.sort, tuple(p.tags),
                        tuple(p.categories), str(source), tuple(h.path for h in result.hits))

    def sign(self, a: Answered) -> str:
        packed = json.dumps(a._fields(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        payload = _b64(zlib.compress(packed, 6))
        mac = hmac.new(self.store.keys[0], payload.encode("ascii"), hashlib.sha256).digest()[:16]
        return f"{payload}.{_b64(mac)}"

    def verify(self, token: object, now: float | None = None) -> Answered | None:
        """The answer a token names, or None (forged, altered, expired, garbage)."""
        if not isinstance(token, str) or len(token) > MAX_BEACON_BYTES or token.count(".") != 1:
            return None
        payload, mac = token.split(".")
        try:
            got = _unb64(mac)
        except (binascii.Error, ValueError):
            return None
        if not any(hmac.compare_digest(got, hmac.new(k, payload.encode("ascii", "replace"), hashlib.sha256)
                                       .digest()[:16]) for k in list(self.store.keys)):
            return None
        try:
            inflate = zlib.decompressobj()
            packed = inflate.decompress(_unb64(payload), MAX_PAYLOAD_BYTES)
            if inflate.unconsumed_tail:
                return None
            a = Answered._from(json.loads(packed))
        except (binascii.Error, zlib.error, ValueError, TypeError):
            return None
        if abs((now or time.time()) - a.ts) > MAX_AGE_S:
            return None
        return a

    # -- rows

    def record(self, a: Answered, settled: Settled, page_path: str | None = None) -> None:
        """Queue the search (a second time for the same id is ignored by the store)."""
        try:
            folded = self.fold_key(a.query)
        except Exception:  # the index went away: the query as typed, lower-cased
            folded = a.query.lower()
        self.store.put(SearchRow(a.search_id, a.ts, a.query, folded, a.results, a.page, a.first_rank, a.shown,
                                 a.sort, filters_json(a.tags, a.categories), a.source, str(settled), page_path,
                                 self.version))

    def click(self, a: Answered, rank: int, path: str | None) -> None:
        self.store.put(ClickRow(a.search_id, int(time.time()), rank, path))


def start(settings, engine) -> Recorder | None:
    """The recorder of one server process, or None with analytics off."""
    path = settings.analytics_file
    if path is None:
        return None
    store = AnalyticsStore(path, days=settings.analytics_days).start()
    folds: list = []

    def fold_key(q: str) -> str:
        # the index's folding, looked up once: it is a pure function of the text (indexer.folding),
        # and finding the live generation reads its pointer file, ~80 us a request
        if not folds:
            folds.append(engine.analyzer.fold_query)
        return curation_key(folds[0], q)

    return Recorder(store, fold_key)


# ------------------------------------------------------- for the views


def issue(result: ResultPage, p: SearchParams, source: Source) -> str | None:
    """The search id of an answer not recorded yet (as-you-type), or None."""
    rec = get_state().analytics
    if rec is None or not p.q.strip():
        return None
    return rec.sign(rec.answered(result, p, source))


def record(result: ResultPage, p: SearchParams, source: Source, settled: Settled) -> str | None:
    """Record a settled search now; its id (for the click beacon), or None."""
    rec = get_state().analytics
    if rec is None or not p.q.strip():
        return None
    a = rec.answered(result, p, source)
    rec.record(a, settled)
    return rec.sign(a)


# ---------------------------------------------------------- beacons


def own_origin(origin: str) -> bool:
    """``origin`` (an ``Origin`` header) is this site's: the host the request was sent to."""
    parts = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc.lower() == request.host.lower()


def beacon_allowed() -> bool:
    """From the site's own pages, an allowed origin, or no browser at all."""
    site = request.headers.get("Sec-Fetch-Site")
    if site == "same-origin":
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return site is None  # curl, a script: not a page another site could make send it
    if origin == "null":
        return False
    return own_origin(origin) or allowed_origin(origin, get_state().settings.allow_origins) is not None


def _beacon() -> tuple[Recorder, dict, Answered]:
    rec = get_state().analytics
    if rec is None:
        raise BadParameter("search", "analytics is off on this server")
    if not beacon_allowed():
        raise Forbidden("beacons are accepted from this site and the allowed origins only")
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BEACON_BYTES:
        raise BadParameter("body", "beacon too large")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadParameter("body", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadParameter("body", "the body must be a JSON object")
    a = rec.verify(body.get("search"))
    if a is None:
        raise BadParameter("search", "unknown, altered or expired search id")
    return rec, body, a


def _page_path(value: object) -> str | None:
    """The host page's path, and nothing more (no query string, no fragment)."""
    if not isinstance(value, str) or not value.startswith("/"):
        return None
    path = value.split("?", 1)[0].split("#", 1)[0]
    return path[:MAX_PATH] if all(c.isprintable() for c in path) else None


def _no_content() -> Response:
    resp = current_app.response_class(status=204)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/api/settle", methods=["POST"])
def settle():
    """The reader settled on a search (``{"search": id, "how": "idle"|"enter"}``)."""
    rec, body, a = _beacon()
    how = Settled.ENTER if body.get("how") == "enter" else Settled.IDLE
    rec.record(a, how, _page_path(body.get("page")) if a.source == Source.WIDGET else None)
    return _no_content()


@bp.route("/api/click", methods=["POST"])
def click():
    """A click on a result: ``{"search": id, "rank": n}``, ``n`` = 1 for the
    first result of that answer (the article is the one the id has there)."""
    rec, body, a = _beacon()
    rank = body.get("rank")
    if not isinstance(rank, int) or isinstance(rank, bool) or not 1 <= rank <= a.shown:
        # (a search that showed nothing has nothing to click: no click on no article)
        raise BadParameter("rank", f"rank must be 1 to {a.shown} for this search")
    path = a.paths[rank - 1] if rank <= len(a.paths) else None
    rec.record(a, Settled.CLICK, _page_path(body.get("page")) if a.source == Source.WIDGET else None)
    rec.click(a, a.first_rank + rank - 1, path)
    return _no_content()
