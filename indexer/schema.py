"""The Whoosh schema: which fields exist, how they are analysed, what is stored.

Field weights are applied at query time (``search.query``) so they can be
tuned without re-indexing; the schema only decides what can be matched.
"""

from __future__ import annotations

from whoosh import columns
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from .analysis import ANALYSIS_VERSION, bigram_analyzer, chinese_analyzer, code_analyzer
from .codec import CompactPositions, InterningText

#: Bump when fields change; together with the analysis version and the user
#: dictionary it decides whether an existing index can be updated in place.
SCHEMA_VERSION = 9

#: Word fields searched by a plain query, in order of display importance.
WORD_FIELDS = ("title", "keywords", "headings", "description", "body", "code")


def _text(analyzer, phrase: bool = True) -> TEXT:
    """A text field whose positions (if any) are stored compactly."""
    f = InterningText(analyzer=analyzer, phrase=phrase)
    if phrase:
        f.format = CompactPositions(field_boost=f.format.field_boost)
    return f


def build_schema() -> Schema:
    zh = chinese_analyzer()
    return Schema(
        # identity and change detection (columns: cheap to read for every doc)
        path=ID(unique=True, stored=True, sortable=True),
        hash=COLUMN(columns.VarBytesColumn()),
        mtime_ns=COLUMN(columns.NumericColumn("q", default=0)),
        size=COLUMN(columns.NumericColumn("q", default=0)),
        # searchable text
        title=_text(zh),
        keywords=_text(zh),
        headings=_text(zh),
        description=_text(zh),
        body=_text(zh),
        code=_text(code_analyzer(), phrase=False),
        bigram=_text(bigram_analyzer()),
        # filters and facets (values folded like the text: NFKC + lower case)
        tag=KEYWORD(commas=True, lowercase=False, scorable=False),
        category=KEYWORD(commas=True, lowercase=False, scorable=False),
        date=DATETIME(stored=True, sortable=True),
        # display (stored only)
        title_text=STORED,
        url=STORED,
        description_text=STORED,
        tags=COLUMN(columns.PickleColumn(columns.VarBytesColumn())),
        categories=COLUMN(columns.PickleColumn(columns.VarBytesColumn())),
        # (title, url) for as-you-type suggestions without unpickling sections
        display=COLUMN(columns.PickleColumn(columns.VarBytesColumn())),
        sections=STORED,
    )


def versions() -> dict[str, int]:
    return {"schema": SCHEMA_VERSION, "analysis": ANALYSIS_VERSION}
