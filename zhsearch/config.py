"""Settings in one place: flags override environment variables override defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CORPUS = "corpus"
DEFAULT_INDEX = ".zhsearch-index"


@dataclass(frozen=True)
class Settings:
    corpus: Path
    index: Path
    base_url: str | None = None
    userdict: Path | None = None
    synonyms: Path | None = None  # None: CORPUS/synonyms.txt of the indexed corpus

    @classmethod
    def load(cls, corpus: str | Path | None = None, index: str | Path | None = None,
             userdict: str | Path | None = None, synonyms: str | Path | None = None) -> "Settings":
        env = os.environ
        corpus = Path(corpus or env.get("ZHSEARCH_CORPUS") or DEFAULT_CORPUS)
        index = Path(index or env.get("ZHSEARCH_INDEX") or DEFAULT_INDEX)
        ud = userdict or env.get("ZHSEARCH_USERDICT")
        syn = synonyms or env.get("ZHSEARCH_SYNONYMS")
        base = (env.get("ZHSEARCH_BASE_URL") or "").strip() or None
        return cls(corpus=corpus, index=index, base_url=base.rstrip("/") if base else None,
                   userdict=Path(ud) if ud else None, synonyms=Path(syn) if syn else None)
