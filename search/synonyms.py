"""Query-time synonyms from a plain text file (``corpus/synonyms.txt``).

Format: one group of equivalent terms per line; ``#`` starts a comment.
Terms are separated by commas when the line has any (so a term may contain
spaces: ``向量数据库, vector database``), otherwise by whitespace
(``微调 fine-tune finetune``).  Matching uses the same analysis as the index,
so case, width and script do not matter.

Synonyms only widen what a query matches; the words the person typed are
always ranked first (see ``Ranking.synonym_weight``).  Because they are
applied to queries, editing the file needs no re-index: the engine reloads it
when its modification time changes.  Every term is analysed when the file is
loaded (:class:`search.units.Alternative`), never again per query.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from indexer.analysis import Analyzer, UnitKind

from .corpusfile import CorpusFile
from .units import Alternative, Unit, alternative, replace_runs

log = logging.getLogger(__name__)


def parse_groups(text: str) -> list[list[str]]:
    groups = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        terms = [t.strip() for t in (line.split(",") if "," in line else line.split())]
        terms = [t for t in terms if t]
        if len(terms) >= 2:
            groups.append(terms)
    return groups


@dataclass(eq=False)  # one object per loaded file: compared and hashed by identity (it keys cached pages)
class Synonyms:
    """Unit sequences (folded unit texts) → the other terms of their groups, analysed."""

    table: dict[tuple[str, ...], list[Alternative]] = field(default_factory=dict)
    longest: int = 0
    #: the keys whose terms come from the built-in glossary (``search.glossary``);
    #: their alternatives are marked ``builtin``
    builtin: set[tuple[str, ...]] = field(default_factory=set)

    @classmethod
    def from_text(cls, text: str, analyzer: Analyzer) -> Synonyms:
        """The groups of ``text``, segmented by ``analyzer`` (the index's own,
        so a synonym matches the words its queries are cut into)."""
        return cls.from_groups(parse_groups(text), analyzer)

    @classmethod
    def from_groups(cls, groups: list[list[str]], analyzer: Analyzer) -> Synonyms:
        """Groups of equivalent terms (``[["k8s", "Kubernetes"], …]``)."""
        syn = cls()
        analysed: dict[str, Alternative] = {}  # a term of several groups is analysed once
        for group in groups:
            alts = [analysed[t] if t in analysed else analysed.setdefault(t, alternative(analyzer, t)) for t in group]
            keyed = [(tuple(u.text for u in alt.units), alt) for alt in alts]
            for key, _alt in keyed:
                if not key:
                    continue
                mine = syn.table.setdefault(key, [])
                mine += _new([a for k, a in keyed if k != key and k], mine)
                syn.longest = max(syn.longest, len(key))
        return syn

    def over(self, base: Synonyms) -> Synonyms:
        """These (the site's) groups over ``base`` (the built-in glossary's):
        a term the site names keeps only the site's synonyms (its line
        overrides the glossary's); the glossary's other terms stay, marked
        built-in so that they rank below the site's.  A new object: this one
        is the site file's cached value."""
        out = Synonyms(dict(self.table), self.longest, set(self.builtin))
        for key, alts in base.table.items():
            if key not in out.table:
                out.table[key] = [replace(a, builtin=True) for a in alts]
                out.builtin.add(key)
                out.longest = max(out.longest, len(key))
        return out

    def site_only(self, phrases: bool = False) -> Synonyms:
        """These synonyms without the built-in glossary's (made once);
        ``phrases``: keeping its entries for one query word."""
        name = "_site_words" if phrases else "_site_only"
        got = self.__dict__.get(name)
        if got is None:
            table = {k: v for k, v in self.table.items() if k not in self.builtin or (phrases and len(k) == 1)}
            got = Synonyms(table, max((len(k) for k in table), default=0),
                           {k for k in self.builtin if k in table})
            self.__dict__[name] = got
        return got

    def merged(self, other: Synonyms) -> Synonyms:
        """These synonyms and ``other``'s (``curation.yml`` groups beside
        ``synonyms.txt``): the owner's groups add to the site's and, like the
        site's, override the built-in glossary's line for the same term."""
        if not other.table:
            return self
        out = Synonyms({k: list(v) for k, v in self.table.items()}, max(self.longest, other.longest),
                       set(self.builtin))
        for key, alts in other.table.items():
            if key in out.builtin:
                out.builtin.discard(key)
                out.table[key] = []
            mine = out.table.setdefault(key, [])
            mine += _new(alts, mine)
        return out

    def expand(self, units: list[Unit]) -> list[Unit]:
        """Attach synonyms to the units; a multi-unit match becomes one phrase unit."""
        if not self.table:
            return units
        return replace_runs(units, self.longest, 1, self._attach)

    def _attach(self, run: tuple[Unit, ...]) -> Unit | None:
        """The run with its synonyms attached, or None if it has none."""
        key = tuple(u.text for u in run)
        alts = self.table.get(key)
        if alts is None:
            return None
        if len(run) == 1:
            return replace(run[0], alts=run[0].alts + tuple(_new(alts, run[0].alts)))
        return Unit(" ".join(key), UnitKind.PHRASE, key, tuple(alts), run)


def _new(alts: list[Alternative], have: list[Alternative] | tuple[Alternative, ...]) -> list[Alternative]:
    """Those of ``alts`` whose term ``have`` does not hold yet (as written)."""
    written = {a.text for a in have}
    return [a for a in alts if a.text not in written]


class SynonymFile:
    """A synonyms file (re-read when it changes on disk, re-segmented when
    the index's analyzer changes: :class:`~search.corpusfile.CorpusFile`)
    over the built-in glossary (``builtin``: its text; "" for none)."""

    def __init__(self, path: Path | None, builtin: str = "") -> None:
        self._file: CorpusFile[Synonyms] = CorpusFile(
            path, lambda text, analyzer, _path: Synonyms.from_text(text, analyzer), Synonyms, "synonyms")
        self.builtin = builtin
        self._layered: tuple[Synonyms | None, Analyzer | None, Synonyms] = (None, None, Synonyms())
        self._lock = threading.Lock()

    @property
    def path(self) -> Path | None:
        return self._file.path

    def get(self, analyzer: Analyzer) -> Synonyms:
        """The synonyms, the same object while nothing changes (it keys cached pages)."""
        site = self._file.get(analyzer)
        if not self.builtin:
            return site
        old_site, old_analyzer, value = self._layered
        if old_site is site and old_analyzer is analyzer:
            return value
        with self._lock:
            old_site, old_analyzer, value = self._layered
            if old_site is not site or old_analyzer is not analyzer:
                value = site.over(Synonyms.from_text(self.builtin, analyzer))
                self._layered = (site, analyzer, value)
        return value
