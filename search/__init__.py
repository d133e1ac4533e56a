"""Query side of zhsearch: what a person typed → ranked, highlighted results.

Reads the index, never writes it.  The public names are imported on first
use, so ``search.settings`` can be read (by ``zhsearch index``, say) without
loading the query machinery.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Engine": "engine", "search": "engine", "highlight_terms": "engine",
    "Hit": "models", "SectionHit": "models", "ResultPage": "models", "Facets": "models", "FacetValue": "models", "Filters": "models",
    "Ranking": "query", "DEFAULT_RANKING": "query",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
