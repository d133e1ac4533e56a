"""The Whoosh schema: which fields exist, what is stored, what can be matched.

Field weights are applied at query time (``search.query``) so they can be
tuned without re-indexing; the schema only decides what can be matched.

The text fields take tokens, not text: the index's
:class:`indexer.analysis.Analyzer` analyses an article once
(``indexer.document.article_fields``) and Whoosh only files the postings.  So
the schema that Whoosh pickles into every index holds no analysis state,
and the analyzer is always the index's own, passed explicitly.
"""

from __future__ import annotations

from whoosh import columns
from whoosh.analysis import Tokenizer
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from .positions import CompactPositions
from .textfield import InterningText

#: Bump when fields change; together with the analyzer's identity it decides
#: whether an existing index can be updated in place.
SCHEMA_VERSION = 11


class Tokens(Tokenizer):
    """The analysis of a text field: tokens an ``Analyzer`` made beforehand.

    A placeholder in the schema (Whoosh wants one per text field); given
    text instead of tokens it says so rather than guessing an analysis.
    """

    def __init__(self, stream: str) -> None:
        self.stream = stream  # which Analyzer method makes this field's tokens

    def __call__(self, value, **kwargs):
        raise TypeError(f"this field is analysed by Analyzer.{self.stream}: index its tokens, not text")


def _text(stream: str, phrase: bool = True) -> TEXT:
    """A text field of ``stream`` tokens whose positions (if any) are stored compactly."""
    f = InterningText(analyzer=Tokens(stream), phrase=phrase)
    if phrase:
        f.format = CompactPositions(field_boost=f.format.field_boost)
    return f


def build_schema() -> Schema:
    zh = "indexed_words"
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
        code=_text("code_words", phrase=False),
        bigram=_text("indexed_bigrams"),
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
        # mostly a list of links (Article.overview): ranked like a folder's README
        overview=STORED,
    )


def versions() -> dict[str, int]:
    return {"schema": SCHEMA_VERSION}
