"""Query side of zhsearch: what a person typed → ranked, highlighted results.

Reads the index, never writes it.  The names most callers need are exported
here (``from search import Engine, search``); the rest live in their modules.
"""

from __future__ import annotations

from .engine import Engine, highlight_terms, search
from .models import Facets, FacetValue, Filters, Hit, ResultPage, SectionHit
from .query import DEFAULT_RANKING, Ranking

__all__ = [
    "Engine", "search", "highlight_terms",
    "Hit", "SectionHit", "ResultPage", "Facets", "FacetValue", "Filters",
    "Ranking", "DEFAULT_RANKING",
]
