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
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit

from indexer.anchors import AnchorStyle
from indexer.build import IndexConfig
from indexer.segmenter import BACKENDS
from indexer.site import AUTO, parse_generator

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
    #: the site generator (``auto``: detected from the site's config; see
    #: ``indexer.site``): result URLs and ``#anchor`` ids are the ones it writes
    generator: str = AUTO
    #: the older ``--anchor-style``: names the generator by its id style (None: not given)
    anchor_style: AnchorStyle | None = None
    #: over the site config: the URL path the site is served under, and VitePress' cleanUrls
    base_path: str | None = None
    clean_urls: bool | None = None
    #: path under which a reverse proxy serves the site (``/zhsearch``), or ""
    url_prefix: str = ""
    #: word segmenter of new indexes: "auto" (rjieba when installed), "rjieba" or "jieba"
    segmenter: str = "auto"

    @classmethod
    def load(cls, corpus: str | Path | None = None, index: str | Path | None = None,
             userdict: str | Path | None = None, synonyms: str | Path | None = None, *,
             base_url: str | None = None, cache_size: int | None = None,
             warmup: bool = True, allow_origins: Iterable[str] | None = None,
             anchor_style: str | AnchorStyle | None = None, url_prefix: str | None = None,
             segmenter: str | None = None, generator: str | None = None,
             base_path: str | None = None, clean_urls: bool | None = None) -> "Settings":
        """Explicit values first, then ``ZHSEARCH_*`` environment variables, then defaults.

        Raises ``ValueError`` with a message for the user when an origin, the
        anchor style or the URL prefix is malformed (a typo there would
        silently break the site it is meant for)."""
        env = os.environ
        origins = list(allow_origins or ()) or env.get("ZHSEARCH_ALLOW_ORIGINS", "").split(",")
        return cls(
            corpus=Path(corpus or env.get("ZHSEARCH_CORPUS") or DEFAULT_CORPUS),
            index=Path(index or env.get("ZHSEARCH_INDEX") or DEFAULT_INDEX),
            userdict=_path(userdict or env.get("ZHSEARCH_USERDICT")),
            synonyms=_path(synonyms or env.get("ZHSEARCH_SYNONYMS")),
            base_url=clean_base_url(base_url or env.get("ZHSEARCH_BASE_URL")),
            cache_size=DEFAULT_CACHE_SIZE if cache_size is None else max(0, int(cache_size)),
            warmup=warmup,
            allow_origins=clean_origins(origins),
            generator=_generator(generator or env.get("ZHSEARCH_GENERATOR")),
            anchor_style=_anchor_style(anchor_style or env.get("ZHSEARCH_ANCHOR_STYLE")),
            base_path=base_path if base_path is not None else env.get("ZHSEARCH_BASE_PATH"),
            clean_urls=clean_urls if clean_urls is not None else _flag(env.get("ZHSEARCH_CLEAN_URLS")),
            url_prefix=clean_url_prefix(url_prefix if url_prefix is not None else env.get("ZHSEARCH_URL_PREFIX")),
            segmenter=clean_segmenter(segmenter or env.get("ZHSEARCH_SEGMENTER") or "auto"),
        )

    def index_config(self, workers: int = 0) -> IndexConfig:
        """What the indexer needs of these settings."""
        return IndexConfig(self.corpus, self.index, self.userdict, workers, segmenter=self.segmenter,
                           generator=self.generator, anchor_style=self.anchor_style,
                           base_path=self.base_path, clean_urls=self.clean_urls)


def _generator(value: str | None) -> str:
    """``auto`` or a generator's name (``ValueError`` names the choices)."""
    gen = parse_generator(value)
    return gen.value if gen is not None else AUTO


def _anchor_style(value: str | AnchorStyle | None) -> AnchorStyle | None:
    return AnchorStyle.parse(value) if value else None


def _flag(value: str | None) -> bool | None:
    """An environment variable as a yes/no, None when unset."""
    if value is None or not value.strip():
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")
