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
from dataclasses import dataclass
from pathlib import Path

from indexer.anchors import DEFAULT_STYLE, AnchorStyle
from indexer.build import IndexConfig

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


def _path(value: str | Path | None) -> Path | None:
    return Path(value) if value else None


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
    #: how the site generator makes heading ids (result links end in ``#anchor``)
    anchor_style: AnchorStyle = DEFAULT_STYLE

    @classmethod
    def load(cls, corpus: str | Path | None = None, index: str | Path | None = None,
             userdict: str | Path | None = None, synonyms: str | Path | None = None, *,
             base_url: str | None = None, cache_size: int | None = None,
             warmup: bool = True, anchor_style: str | AnchorStyle | None = None) -> "Settings":
        """Explicit values first, then ``ZHSEARCH_*`` environment variables, then defaults.

        ``ValueError`` (naming the choices) for an unknown anchor style."""
        env = os.environ
        return cls(
            corpus=Path(corpus or env.get("ZHSEARCH_CORPUS") or DEFAULT_CORPUS),
            index=Path(index or env.get("ZHSEARCH_INDEX") or DEFAULT_INDEX),
            userdict=_path(userdict or env.get("ZHSEARCH_USERDICT")),
            synonyms=_path(synonyms or env.get("ZHSEARCH_SYNONYMS")),
            base_url=clean_base_url(base_url or env.get("ZHSEARCH_BASE_URL")),
            cache_size=DEFAULT_CACHE_SIZE if cache_size is None else max(0, int(cache_size)),
            warmup=warmup,
            anchor_style=AnchorStyle.parse(anchor_style or env.get("ZHSEARCH_ANCHOR_STYLE")),
        )

    def index_config(self, workers: int = 0) -> IndexConfig:
        """What the indexer needs of these settings."""
        return IndexConfig(self.corpus, self.index, self.userdict, workers, self.anchor_style)
