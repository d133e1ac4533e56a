"""How much of an article's text one answer may carry.

An article can hold anything: a 200,000-character heading, a title as long
as a chapter, ten thousand tags, a permalink of a megabyte.  Every one of
them used to travel whole in every answer that listed the article (one
widget keystroke was a 3 MB answer).  These caps apply to what a search
returns (:class:`~search.models.Hit`, facets) and to the suggestions, so an
answer stays within 64 KB of JSON per 10 hits whatever the corpus holds;
the text stays searchable in full (only what is *shown* is cut).

* A title or section heading is cut at a word's length under the cap and
  ends in "…".
* An anchor longer than the cap is dropped (the link goes to the article,
  not a fragment a cut anchor would never match); so is a permalink longer
  than a URL can usefully be (the link goes to the built-in article page).
* A tag or category longer than the cap is left out of what is shown (a cut
  value would filter for something no article has), and a hit shows at most
  :data:`MAX_LABELS` of each.
"""

from __future__ import annotations

from .models import FacetValue, Hit

MAX_TITLE_CHARS = 160
MAX_SECTION_CHARS = 100
MAX_ANCHOR_CHARS = 160
MAX_URL_CHARS = 1024
MAX_LABEL_CHARS = 40
MAX_LABELS = 8
ELLIPSIS = "…"


def cut(text: str | None, limit: int) -> str | None:
    """``text`` within ``limit`` characters, "…" marking a cut."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def title(text: str) -> str:
    return cut(text, MAX_TITLE_CHARS) or ""


def anchor(value: str | None) -> str | None:
    return value if value is None or len(value) <= MAX_ANCHOR_CHARS else None


def url(value: str) -> str:
    """A permalink, or "" when it is too long to be a link anyone made on purpose."""
    return value if len(value) <= MAX_URL_CHARS else ""


def labels(values: list[str]) -> list[str]:
    """The tags or categories a hit shows."""
    return [v for v in values if len(v) <= MAX_LABEL_CHARS][:MAX_LABELS]


def hit(h: Hit) -> Hit:
    """``h`` with its section heading, anchors, permalink and labels within
    the caps (its title is cut before it is highlighted: see :func:`title`)."""
    h.section = cut(h.section, MAX_SECTION_CHARS)
    h.anchor = anchor(h.anchor)
    h.url = url(h.url)
    h.tags = labels(h.tags)
    h.categories = labels(h.categories)
    for s in h.sections:  # headings come cut from the snippets, before they are marked
        s.anchor = anchor(s.anchor)
    return h


def facet_values(values: list[FacetValue]) -> list[FacetValue]:
    """Facet values that fit (a cut value would filter for nothing)."""
    return [v for v in values if len(v.value) <= MAX_LABEL_CHARS]
