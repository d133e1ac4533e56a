"""Settings of one zhsearch installation, as typed values, in one place.

The command line and the web application read them the same way: a flag
(or an explicit argument) overrides an environment variable, which overrides
the default.  ``zhsearch serve`` builds one :class:`Settings` and hands it to
``web.create_app``; tests build one directly.  Nothing else reads
``ZHSEARCH_*`` variables.

It lives in ``search`` because everything that needs it sits above or beside
search: the web site, the CLI, and the index configuration it derives
(:meth:`Settings.index_config`), which is the indexer's own type.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit

from indexer.anchors import DEFAULT_STYLE, AnchorStyle
from indexer.build import IndexConfig
from indexer.segmenter import BACKENDS

log = logging.getLogger(__name__)

DEFAULT_CORPUS = "corpus"
DEFAULT_INDEX = ".zhsearch-index"
#: Result pages an engine keeps per generation (see ``search.engine.ResultCache``).
DEFAULT_CACHE_SIZE = 1024


def clean_base_url(value: object) -> str | None:
    """Only http(s) base URLs: the value ends up in every result link."""
    s = str(value or "").strip().rstrip("/")
    if not s:
        return None
    if not s.lower().startswith(("http://", "https://")):
        log.warning("ignoring base URL %r: it must start with http:// or https://", s)
        return None
    return s


def clean_segmenter(value: str) -> str:
    """One of :data:`indexer.segmenter.BACKENDS`, or a ``ValueError`` naming them."""
    name = str(value).strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"unknown segmenter {value!r} (ZHSEARCH_SEGMENTER): choose one of {', '.join(BACKENDS)}")
    return name


#: Analytics rows are kept this many days (``--analytics-days``).
DEFAULT_ANALYTICS_DAYS = 90
#: An admin token shorter than this is refused: it guards the readers' queries.
MIN_ADMIN_TOKEN = 16


def clean_days(value: object) -> int:
    try:
        days = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"analytics days must be a whole number of days (got {value!r})") from None
    if days < 1:
        raise ValueError(f"analytics days must be 1 or more (got {days})")
    return days


def clean_admin_token(value: str | None) -> str | None:
    """None (no admin page) or a token long enough not to be guessed."""
    token = str(value or "").strip()
    if not token:
        return None
    if len(token) < MIN_ADMIN_TOKEN or not token.isprintable() or " " in token:
        raise ValueError(f"the admin token (ZHSEARCH_ADMIN_TOKEN) must be {MIN_ADMIN_TOKEN} or more printable "
                         "characters without spaces; make one with "
                         "`python3 -c 'import secrets; print(secrets.token_urlsafe())'`")
    return token


def _path(value: str | Path | None) -> Path | None:
    return Path(value) if value else None


#: Any origin may call the JSON API (``--allow-origin '*'``).
ANY_ORIGIN = "*"


def clean_origin(value: str) -> str:
    """``https://Site.example:8443/`` → ``https://site.example:8443``: the form
    a browser sends in its ``Origin`` header.  ``*`` means any origin.

    Raises ``ValueError`` (with the reason) for anything that is not a bare
    http(s) origin: a path or query would never match a browser's header."""
    v = str(value).strip()
    if v == ANY_ORIGIN:
        return v
    parts = urlsplit(v)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"origin {v!r} must look like https://site.example (scheme and host)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"origin {v!r} must be scheme://host[:port] only, without path or query")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"origin {v!r} has an invalid port") from None
    default = {"http": 80, "https": 443}[parts.scheme.lower()]
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port and port != default else "")


def clean_origins(values: Iterable[str]) -> tuple[str, ...]:
    """Every origin cleaned (see :func:`clean_origin`), duplicates dropped, order kept."""
    out: list[str] = []
    for v in values:
        if str(v).strip():
            o = clean_origin(v)
            if o not in out:
                out.append(o)
    return tuple(out)


_PREFIX_RE = re.compile(r"^(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$")


def clean_url_prefix(value: str | None) -> str:
    """``zhsearch/`` → ``/zhsearch``; empty for none.  ``ValueError`` when it
    is not a plain path."""
    v = str(value or "").strip().strip("/")
    if not v:
        return ""
    v = "/" + v
    if not _PREFIX_RE.match(v) or "/../" in v + "/" or "/./" in v + "/":
        raise ValueError(f"URL prefix {value!r} must be a path such as /zhsearch")
    return v


@dataclass(frozen=True)
class Settings:
    """Where the articles and the index are, and how the site behaves."""

    corpus: Path
    index: Path
    #: jieba user dictionary; None: ``CORPUS/userdict.txt`` when present
    userdict: Path | None = None
    #: synonyms file; None: ``synonyms.txt`` of the corpus the index was built from
    synonyms: Path | None = None
    #: result links go to ``base_url + permalink`` instead of the built-in article page
    base_url: str | None = None
    #: result pages kept per process and generation (0: none)
    cache_size: int = DEFAULT_CACHE_SIZE
    #: load jieba and open the index in the background when the site starts
    warmup: bool = True
    #: origins (``https://site.example``) whose pages may call the JSON API; ``*``: any
    allow_origins: tuple[str, ...] = ()
    #: how the site generator makes heading ids (result links end in ``#anchor``)
    anchor_style: AnchorStyle = DEFAULT_STYLE
    #: path under which a reverse proxy serves the site (``/zhsearch``), or ""
    url_prefix: str = ""
    #: word segmenter of new indexes: "auto" (rjieba when installed), "rjieba" or "jieba"
    segmenter: str = "auto"
    #: analytics (web.analytics): the SQLite file, None for the default beside the index
    analytics: Path | None = None
    #: record settled searches and clicks at all (``--no-analytics``)
    analytics_enabled: bool = True
    #: days analytics rows are kept
    analytics_days: int = DEFAULT_ANALYTICS_DAYS
    #: the /admin page's token; None: no admin page
    admin_token: str | None = field(default=None, repr=False)

    @property
    def analytics_file(self) -> Path | None:
        """Where analytics are recorded, or None when they are off: by default
        beside the index (``.zhsearch-index.analytics.sqlite3``), not inside
        it, so a rebuild keeps them."""
        if not self.analytics_enabled:
            return None
        return self.analytics or self.index.with_name(self.index.name + ".analytics.sqlite3")

    @classmethod
    def load(cls, corpus: str | Path | None = None, index: str | Path | None = None,
             userdict: str | Path | None = None, synonyms: str | Path | None = None, *,
             base_url: str | None = None, cache_size: int | None = None,
             warmup: bool = True, allow_origins: Iterable[str] | None = None,
             anchor_style: str | AnchorStyle | None = None, url_prefix: str | None = None,
             segmenter: str | None = None, analytics: str | Path | None = None,
             analytics_enabled: bool = True, analytics_days: int | None = None,
             admin_token: str | None = None) -> "Settings":
        """Explicit values first, then ``ZHSEARCH_*`` environment variables, then defaults.

        Raises ``ValueError`` with a message for the user when an origin, the
        anchor style or the URL prefix is malformed (a typo there would
        silently break the site it is meant for)."""
        env = os.environ
        origins = list(allow_origins or ()) or env.get("ZHSEARCH_ALLOW_ORIGINS", "").split(",")
        analytics = analytics or env.get("ZHSEARCH_ANALYTICS") or None
        if str(analytics or "").strip().lower() == "off":
            analytics, analytics_enabled = None, False
        return cls(
            corpus=Path(corpus or env.get("ZHSEARCH_CORPUS") or DEFAULT_CORPUS),
            index=Path(index or env.get("ZHSEARCH_INDEX") or DEFAULT_INDEX),
            userdict=_path(userdict or env.get("ZHSEARCH_USERDICT")),
            synonyms=_path(synonyms or env.get("ZHSEARCH_SYNONYMS")),
            base_url=clean_base_url(base_url or env.get("ZHSEARCH_BASE_URL")),
            cache_size=DEFAULT_CACHE_SIZE if cache_size is None else max(0, int(cache_size)),
            warmup=warmup,
            allow_origins=clean_origins(origins),
            anchor_style=AnchorStyle.parse(anchor_style or env.get("ZHSEARCH_ANCHOR_STYLE")),
            url_prefix=clean_url_prefix(url_prefix if url_prefix is not None else env.get("ZHSEARCH_URL_PREFIX")),
            segmenter=clean_segmenter(segmenter or env.get("ZHSEARCH_SEGMENTER") or "auto"),
            analytics=_path(analytics),
            analytics_enabled=analytics_enabled,
            analytics_days=clean_days(DEFAULT_ANALYTICS_DAYS if analytics_days is None else analytics_days),
            admin_token=clean_admin_token(admin_token if admin_token is not None
                                          else env.get("ZHSEARCH_ADMIN_TOKEN")),
        )

    def index_config(self, workers: int = 0) -> IndexConfig:
        """What the indexer needs of these settings."""
        return IndexConfig(self.corpus, self.index, self.userdict, workers, segmenter=self.segmenter,
                           anchor_style=self.anchor_style)
