"""Settings of one zhsearch installation, as typed values, in one place.

The command line and the web application read them the same way: a flag
(or an explicit argument) overrides an environment variable, which overrides
the default.  ``zhsearch serve`` builds one :class:`Settings` and hands it to
``web.create_app``; tests build one directly.  Nothing else reads
``ZHSEARCH_*`` variables.

It lives in ``zhsearch`` beside the command line: what reads it sits at the
top (the CLI and the web site), and what it derives for the layers below
(:meth:`Settings.index_config`, the indexer's own type) is handed down.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from indexer.anchors import AnchorStyle
from indexer.build import IndexConfig
from indexer.segmenter import BACKENDS
from indexer.site import AUTO, parse_generator
from search.lru import RESULT_CACHE_SIZE

log = logging.getLogger(__name__)

DEFAULT_CORPUS = "corpus"
DEFAULT_INDEX = ".zhsearch-index"


def clean_base_url(value: object) -> str | None:
    """Only http(s) base URLs (None for anything else): the value ends up in every result link."""
    s = str(value or "").strip().rstrip("/")
    if not s or not s.lower().startswith(("http://", "https://")):
        return None
    return s


def clean_segmenter(value: str) -> str:
    """One of :data:`indexer.segmenter.BACKENDS`, or a ``ValueError`` naming them."""
    name = str(value).strip().lower()
    if name not in BACKENDS:
        raise ValueError(f"unknown segmenter {value!r}: choose one of {', '.join(BACKENDS)}")
    return name


def clean_seconds(value: object) -> float:
    """A number of seconds, 0 or more."""
    try:
        seconds = float(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a number of seconds") from None
    if not seconds >= 0 or seconds == float("inf"):
        raise ValueError(f"{value!r} must be a number of seconds, 0 or more")
    return seconds


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
        raise ValueError(f"the admin token must be {MIN_ADMIN_TOKEN} or more printable "
                         "characters without spaces; make one with "
                         "`python3 -c 'import secrets; print(secrets.token_urlsafe())'`")
    return token


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
        raise ValueError(f"{v!r} must look like https://site.example (scheme and host)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{v!r} must be scheme://host[:port] only, without path or query")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{v!r} has an invalid port") from None
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


class SettingError(ValueError):
    """A malformed setting; the message starts with where it came from
    (``ZHSEARCH_ALLOW_ORIGINS: 'blog.example' must look like …``)."""


#: Where each setting can come from: its environment variable and its
#: command-line flag (None: there is none).
SOURCES: dict[str, tuple[str | None, str | None]] = {
    "corpus": ("ZHSEARCH_CORPUS", "--corpus"),
    "index": ("ZHSEARCH_INDEX", "--index"),
    "userdict": ("ZHSEARCH_USERDICT", "--userdict"),
    "synonyms": ("ZHSEARCH_SYNONYMS", "--synonyms"),
    "base_url": ("ZHSEARCH_BASE_URL", None),
    "cache_size": (None, "--cache-size"),
    "host": (None, "--host"),
    "port": (None, "--port"),
    "threads": (None, "--threads"),
    "workers": (None, "--workers"),
    "allow_origins": ("ZHSEARCH_ALLOW_ORIGINS", "--allow-origin"),
    "generator": ("ZHSEARCH_GENERATOR", "--generator"),
    "anchor_style": ("ZHSEARCH_ANCHOR_STYLE", "--anchor-style"),
    "base_path": ("ZHSEARCH_BASE_PATH", "--base-path"),
    "clean_urls": ("ZHSEARCH_CLEAN_URLS", "--clean-urls"),
    "url_prefix": ("ZHSEARCH_URL_PREFIX", "--url-prefix"),
    "segmenter": ("ZHSEARCH_SEGMENTER", None),
    "git_timeout": ("ZHSEARCH_GIT_TIMEOUT", None),
    "embeddings": ("ZHSEARCH_EMBEDDINGS", None),
    "analytics": ("ZHSEARCH_ANALYTICS", "--analytics"),
    "analytics_days": (None, "--analytics-days"),
    "admin_token": ("ZHSEARCH_ADMIN_TOKEN", "--admin-token"),
}


@dataclass(frozen=True)
class Settings:
    """Where the articles and the index are, and how the site behaves.

    The field defaults are the defaults, for the site and for every command's
    flags (``Settings()`` is an installation configured by nothing); a default
    that belongs to a layer below (the engine's result cache, the indexer's
    segmenter) is taken from there."""

    corpus: Path = Path(DEFAULT_CORPUS)
    index: Path = Path(DEFAULT_INDEX)
    #: jieba user dictionary; None: ``CORPUS/userdict.txt`` when present
    userdict: Path | None = None
    #: synonyms file; None: ``synonyms.txt`` of the corpus the index was built from
    synonyms: Path | None = None
    #: result links go to ``base_url + permalink`` instead of the built-in article page
    base_url: str | None = None
    #: result pages kept per process and generation (0: none)
    cache_size: int = RESULT_CACHE_SIZE
    #: where ``zhsearch serve`` listens, with how many WSGI threads per process
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int = 8
    #: server processes sharing the port (0: one per core)
    workers: int = 1
    #: load jieba and open the index in the background when the site starts
    warmup: bool = True
    #: origins (``https://site.example``) whose pages may call the JSON API; ``*``: any
    allow_origins: tuple[str, ...] = ()
    #: the site generator (``auto``: detected from the site's config; see
    #: ``indexer.site``): result URLs and ``#anchor`` ids are the ones it writes
    generator: str = IndexConfig.generator
    #: the older ``--anchor-style``: names the generator by its id style (None: not given)
    anchor_style: AnchorStyle | None = None
    #: over the site config: the URL path the site is served under, and VitePress' cleanUrls
    base_path: str | None = None
    clean_urls: bool | None = None
    #: path under which a reverse proxy serves the site (``/zhsearch``), or ""
    url_prefix: str = ""
    #: word segmenter of new indexes: "auto" (rjieba when installed), "rjieba" or "jieba"
    segmenter: str = IndexConfig.segmenter
    #: seconds the git step of an index update may take (0: no git dates)
    git_timeout: float = IndexConfig.git_timeout
    #: passage embeddings for questions, when the zhsearch[embeddings] extra is installed
    #: (indexer.embeddings, search.semantic); off: neither made nor used
    embeddings: bool = True
    #: analytics (web.analytics): the SQLite file, None for the default beside the index
    analytics: Path | None = None
    #: record settled searches and clicks at all (``--no-analytics``)
    analytics_enabled: bool = True
    #: days analytics rows are kept
    analytics_days: int = 90
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
             host: str | None = None, port: int | None = None, threads: int | None = None,
             workers: int | None = None,
             warmup: bool | None = None, allow_origins: Iterable[str] | None = None,
             anchor_style: str | AnchorStyle | None = None, url_prefix: str | None = None,
             segmenter: str | None = None, generator: str | None = None,
             base_path: str | None = None, clean_urls: bool | None = None,
             git_timeout: float | None = None, embeddings: bool | None = None,
             analytics: str | Path | None = None,
             analytics_enabled: bool | None = None, analytics_days: int | None = None,
             admin_token: str | None = None, uses: Iterable[str] | None = None) -> Settings:
        """Explicit values first, then ``ZHSEARCH_*`` environment variables, then
        the field defaults (None, "" or () for a value: not given).

        ``uses``: the settings the calling command uses (names of fields;
        None: all of them, as the web site does).  A setting not used keeps
        its default and its environment variable is not even read, so
        ``zhsearch index`` does not fail on a typo in a variable only
        ``serve`` reads.  Raises :class:`SettingError` (a ``ValueError``)
        naming the flag or variable when a used value is malformed (a typo
        there would silently break the site it is meant for)."""
        used = set(SOURCES) if uses is None else set(uses)
        unknown = used - set(SOURCES)
        if unknown:
            raise TypeError(f"unknown settings {sorted(unknown)}")
        defaults = cls()

        def given(value: object) -> bool:
            return value is not None and value != "" and value != ()

        def pick(name: str, explicit: object, clean):
            default = getattr(defaults, name)
            if name not in used:
                return default
            env_name, flag = SOURCES[name]
            if given(explicit):
                raw, source = explicit, flag or name
            elif env_name and os.environ.get(env_name, "").strip():
                raw, source = os.environ[env_name], env_name
            else:
                return default
            try:
                return clean(raw)
            except ValueError as exc:
                raise SettingError(f"{source}: {exc}") from None

        def origins(raw) -> tuple[str, ...]:
            return clean_origins(raw.split(",") if isinstance(raw, str) else raw)

        def base(raw) -> str | None:
            value = clean_base_url(raw)
            if value is None and str(raw).strip():
                log.warning("ignoring ZHSEARCH_BASE_URL %r: it must start with http:// or https://", raw)
            return value

        recorded = pick("analytics", analytics, str)  # a file, or "off"
        enabled = defaults.analytics_enabled if analytics_enabled is None else analytics_enabled
        if str(recorded or "").strip().lower() == "off":
            recorded, enabled = None, False

        return cls(
            corpus=Path(pick("corpus", corpus, str)),
            index=Path(pick("index", index, str)),
            userdict=pick("userdict", userdict, Path),
            synonyms=pick("synonyms", synonyms, Path),
            base_url=pick("base_url", base_url, base),
            cache_size=pick("cache_size", cache_size, lambda v: max(0, int(v))),
            host=pick("host", host, str),
            port=pick("port", port, int),
            threads=pick("threads", threads, int),
            workers=pick("workers", workers, int),
            warmup=defaults.warmup if warmup is None else warmup,
            allow_origins=pick("allow_origins", tuple(allow_origins or ()), origins),
            generator=pick("generator", generator, _generator),
            anchor_style=pick("anchor_style", anchor_style, AnchorStyle.parse),
            base_path=pick("base_path", base_path, str),
            clean_urls=pick("clean_urls", clean_urls, _flag),
            url_prefix=pick("url_prefix", url_prefix, clean_url_prefix),
            segmenter=pick("segmenter", segmenter, clean_segmenter),
            git_timeout=pick("git_timeout", git_timeout, clean_seconds),
            embeddings=pick("embeddings", embeddings, _flag),
            analytics=Path(recorded) if recorded else None,
            analytics_enabled=enabled,
            analytics_days=pick("analytics_days", analytics_days, clean_days),
            admin_token=pick("admin_token", admin_token, clean_admin_token),
        )

    def index_config(self, workers: int = IndexConfig.workers) -> IndexConfig:
        """What the indexer needs of these settings."""
        return IndexConfig(self.corpus, self.index, self.userdict, workers, segmenter=self.segmenter,
                           generator=self.generator, anchor_style=self.anchor_style,
                           base_path=self.base_path, clean_urls=self.clean_urls,
                           git_timeout=self.git_timeout, embeddings=self.embeddings)


def _generator(value: str | None) -> str:
    """``auto`` or a generator's name (``ValueError`` names the choices)."""
    gen = parse_generator(value)
    return gen.value if gen is not None else AUTO


def _flag(value: str | bool) -> bool:
    """A flag's value, or an environment variable's as a yes/no."""
    if isinstance(value, bool):
        return value
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} must be true or false (1/0, yes/no, on/off)")
