"""How informative a query word is: its document frequency, weighed by BM25's IDF.

The engine weighs the required clauses of a query by how rare their words
are (the coverage that ranks "most words" candidates), and passage evidence
weighs the query's terms the same way (``search.rerank``).  Both read the
document frequencies that query building looked up once
(``BuiltQuery.unit_dfs``, ``BuiltQuery.term_dfs``) and turn them into
weights with :func:`unit_weights`, BM25's IDF being the only IDF.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol


class ArticleCounts(Protocol):
    """How many articles of the index use a word (its document frequency in the body)."""

    def df(self, word: str) -> int: ...


def bm25_idf(df: int, n: int) -> float:
    """BM25's IDF (Robertson and Spärck Jones, as Lucene computes it) of a
    word ``df`` of ``n`` articles use: a word no article has counts as rare,
    and the value never goes below zero."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def unit_weights(dfs: Sequence[int | None], n: int) -> list[float]:
    """Each unit's :func:`bm25_idf`; a unit without a document frequency of
    its own (a group such as ``a OR b``) weighs the mean of the others."""
    out = [None if df is None else bm25_idf(df, n) for df in dfs]
    known = [w for w in out if w is not None]
    mean = sum(known) / len(known) if known else 1.0
    return [mean if w is None else w for w in out]


def words_df(text: str, counts: ArticleCounts) -> int:
    """Articles that have a required clause's word; for a multi-word synonym
    term (``负载 均衡``) its rarest word's count, as informative as that."""
    return min(counts.df(w) for w in text.split(" ")) if " " in text else counts.df(text)


def forms_df(forms: Sequence[str], counts: ArticleCounts) -> int:
    """Articles that have a unit's terms as passage evidence looks for them
    (its first form, then its other forms, best first): the most that use
    its first form or one of its next two single-word forms, so a word whose
    usual synonym is common does not pass for rare."""
    df = 0
    for form in list(forms[:1]) + [a for a in forms[1:] if " " not in a][:2]:
        df = max(df, counts.df(form))
    return df
