"""Query units and the other ways to say them, each analysed once.

The index's analyzer cuts every clause a person typed into query units
(``Analyzer.query_units``: a Han word, a Latin word, a compound such as
``gpt-4``).  The query side then attaches *alternatives* to a unit — the
site's synonyms, the built-in glossary's terms (``search.synonyms``), the
word's region forms (``search.regions``) — and builds the query's clauses,
the snippet terms and the passage evidence from them.

An alternative is analysed when the file or table it comes from is loaded
(a synonyms file, the glossary, a region word the first time a query has
it) and carried as an :class:`Alternative`, with its units; a multi-word
synonym term carries the typed units it joins.  Nothing downstream cuts
text again: one query costs one analysis per clause.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from indexer.analysis import Analyzer, QueryUnit, UnitKind


@dataclass(frozen=True)
class Unit:
    """One thing a person asked for, with the ways it may be matched.

    ``text``, ``kind`` and ``parts`` are the analyzer's (``QueryUnit``: the
    folded word, and a compound's Latin parts or a Han word's cover by
    dictionary sub-words).  ``alts``: the other ways to say it.  A
    :attr:`~indexer.analysis.UnitKind.PHRASE` unit stands for several typed
    units that together are one synonym term (``负载 / 均衡``): ``parts``
    are their texts and ``words`` the units themselves."""

    text: str
    kind: UnitKind
    parts: tuple[str, ...] = ()
    alts: tuple[Alternative, ...] = ()
    words: tuple[Unit, ...] = ()

    @classmethod
    def of(cls, unit: QueryUnit) -> Unit:
        return cls(unit.text, unit.kind, tuple(unit.parts))


@dataclass(frozen=True)
class Alternative:
    """Another way to say a unit: a synonym, a glossary term or a region word."""

    text: str  # as written where it comes from (a synonyms file's term, a region table's word)
    folded: str  # what snippets mark (``Analyzer.fold_query``)
    units: tuple[Unit, ...]  # its analysis, by the index's analyzer
    #: a term of the built-in glossary (``search.glossary``): it ranks below
    #: the site's own synonyms (``Ranking.glossary_weight``)
    builtin: bool = False


def analyse(analyzer: Analyzer, text: str) -> tuple[Unit, ...]:
    """The units of ``text``: one call of the analyzer."""
    return tuple(Unit.of(u) for u in analyzer.query_units(text))


def alternative(analyzer: Analyzer, text: str, builtin: bool = False) -> Alternative:
    """``text`` as an alternative, analysed."""
    return Alternative(text, analyzer.fold_query(text), analyse(analyzer, text), builtin)


def replace_runs(units: list[Unit] | tuple[Unit, ...], longest: int, shortest: int,
                 join: Callable[[tuple[Unit, ...]], Unit | None]) -> list[Unit]:
    """``units`` with runs of ``shortest`` to ``longest`` of them replaced by
    one unit, leftmost first and the longest run at each place:
    ``join(run)`` is what replaces a run, or None when it is not one."""
    out: list[Unit] = []
    i = 0
    while i < len(units):
        for n in range(min(longest, len(units) - i), shortest - 1, -1):
            joined = join(tuple(units[i:i + n]))
            if joined is not None:
                out.append(joined)
                i += n
                break
        else:
            out.append(units[i])
            i += 1
    return out
