"""Query side of zhsearch: what a person typed → ranked, highlighted results.

Reads the index, never writes it.
"""

from .engine import Engine, highlight_terms, search
from .models import FacetValue, Facets, Hit, ResultPage
from .query import DEFAULT_RANKING, Ranking

__all__ = ["Engine", "search", "highlight_terms", "Hit", "ResultPage", "Facets", "FacetValue", "Ranking", "DEFAULT_RANKING"]
