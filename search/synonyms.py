"""Query-time synonyms from a plain text file (``corpus/synonyms.txt``).

Format: one group of equivalent terms per line; ``#`` starts a comment.
Terms are separated by commas when the line has any (so a term may contain
spaces: ``向量数据库, vector database``), otherwise by whitespace
(``微调 fine-tune finetune``).  Matching uses the same analysis as the index,
so case, width and script do not matter.

Synonyms only widen what a query matches; the words the person typed are
always ranked first (see ``Ranking.synonym_weight``).  Because they are
applied to queries, editing the file needs no re-index: the engine reloads it
when its modification time changes.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from indexer.analysis import Analyzer, QueryUnit, UnitKind

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


@dataclass
class Synonyms:
    """Unit sequences (folded unit texts) → the other terms of their group."""

    table: dict[tuple[str, ...], list[str]] = field(default_factory=dict)
    longest: int = 0
    #: the keys whose terms come from the built-in glossary (``search.glossary``)
    builtin: set[tuple[str, ...]] = field(default_factory=set)

    @classmethod
    def from_text(cls, text: str, analyzer: Analyzer) -> "Synonyms":
        """The groups of ``text``, segmented by ``analyzer`` (the index's own,
        so a synonym matches the words its queries are cut into)."""
        syn = cls()
        for group in parse_groups(text):
            keyed = [(tuple(u.text for u in analyzer.query_units(t)), t) for t in group]
            for key, term in keyed:
                if not key:
                    continue
                others = [t for k, t in keyed if k != key and k]
                syn.table.setdefault(key, [])
                syn.table[key] += [o for o in others if o not in syn.table[key]]
                syn.longest = max(syn.longest, len(key))
        return syn

    @classmethod
    def layered(cls, site_text: str, builtin_text: str, analyzer: Analyzer) -> "Synonyms":
        """The site's groups over the built-in glossary's: a term the site's
        file names keeps only the site's synonyms (it overrides the
        glossary's line for it); the glossary's other terms stay, marked
        built-in so that they rank below the site's."""
        site = cls.from_text(site_text, analyzer)
        base = cls.from_text(builtin_text, analyzer)
        for key, alts in base.table.items():
            if key not in site.table:
                site.table[key] = alts
                site.builtin.add(key)
                site.longest = max(site.longest, len(key))
        return site

    def site_only(self, phrases: bool = False) -> "Synonyms":
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

    def expand(self, units: list[QueryUnit]) -> list[QueryUnit]:
        """Attach synonyms to the units; a multi-unit match becomes one phrase unit."""
        if not self.table:
            return units
        out: list[QueryUnit] = []
        i = 0
        while i < len(units):
            for n in range(min(self.longest, len(units) - i), 0, -1):
                key = tuple(u.text for u in units[i:i + n])
                alts = self.table.get(key)
                if alts is None:
                    continue
                builtin = frozenset(alts) if key in self.builtin else frozenset()
                if n == 1:
                    u = units[i]
                    new = [a for a in alts if a not in u.alts]
                    out.append(replace(u, alts=u.alts + new, builtin_alts=u.builtin_alts | (builtin & set(new))))
                else:
                    out.append(QueryUnit(" ".join(key), UnitKind.PHRASE, list(key), list(alts), builtin))
                i += n
                break
            else:
                out.append(units[i])
                i += 1
        return out


class SynonymFile:
    """A synonyms file over the built-in glossary (``builtin``: its text; ""
    for none), re-read when the file changes on disk, and re-segmented when
    the index's analyzer changes (a new user dictionary)."""

    def __init__(self, path: Path | None, builtin: str = "") -> None:
        self.path = Path(path) if path else None
        self.builtin = builtin
        self._stamp: tuple[int, int] | None = None
        self._analyzer: Analyzer | None = None
        self._syn = Synonyms()
        self._lock = threading.Lock()

    def get(self, analyzer: Analyzer) -> Synonyms:
        """The synonyms, the same object while nothing changes (it keys cached pages)."""
        stamp = None
        if self.path is not None:
            try:
                st = os.stat(self.path)
                stamp = (st.st_mtime_ns, st.st_size)
            except OSError:
                stamp = None  # no file (or it went away): the glossary alone
        if stamp != self._stamp or analyzer is not self._analyzer:
            with self._lock:
                if stamp != self._stamp or analyzer is not self._analyzer:
                    self._syn = self._read(analyzer, stamp is not None)
                    self._stamp, self._analyzer = stamp, analyzer
        return self._syn

    def _read(self, analyzer: Analyzer, exists: bool) -> Synonyms:
        text = ""
        if exists:
            try:
                text = self.path.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                log.warning("cannot read synonyms file %s: %s", self.path, exc)
        syn = Synonyms.layered(text, self.builtin, analyzer) if self.builtin else Synonyms.from_text(text, analyzer)
        if exists:
            log.info("loaded %d synonym entries from %s (%d from the built-in glossary)",
                     len(syn.table), self.path, len(syn.builtin))
        return syn
