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
from dataclasses import dataclass, field, replace
from pathlib import Path

from indexer.analysis import Analyzer, QueryUnit, UnitKind

from .corpusfile import CorpusFile

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

    @classmethod
    def from_text(cls, text: str, analyzer: Analyzer) -> "Synonyms":
        """The groups of ``text``, segmented by ``analyzer`` (the index's own,
        so a synonym matches the words its queries are cut into)."""
        return cls.from_groups(parse_groups(text), analyzer)

    @classmethod
    def from_groups(cls, groups: list[list[str]], analyzer: Analyzer) -> "Synonyms":
        """Groups of equivalent terms (``[["k8s", "Kubernetes"], …]``)."""
        syn = cls()
        for group in groups:
            keyed = [(tuple(u.text for u in analyzer.query_units(t)), t) for t in group]
            for key, term in keyed:
                if not key:
                    continue
                others = [t for k, t in keyed if k != key and k]
                syn.table.setdefault(key, [])
                syn.table[key] += [o for o in others if o not in syn.table[key]]
                syn.longest = max(syn.longest, len(key))
        return syn

    def merged(self, other: "Synonyms") -> "Synonyms":
        """These synonyms and ``other``'s (``curation.yml`` groups beside ``synonyms.txt``)."""
        if not other.table:
            return self
        if not self.table:
            return other
        out = Synonyms({k: list(v) for k, v in self.table.items()}, max(self.longest, other.longest))
        for key, alts in other.table.items():
            mine = out.table.setdefault(key, [])
            mine += [a for a in alts if a not in mine]
        return out

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
                if n == 1:
                    u = units[i]
                    out.append(replace(u, alts=u.alts + [a for a in alts if a not in u.alts]))
                else:
                    out.append(QueryUnit(" ".join(key), UnitKind.PHRASE, list(key), list(alts)))
                i += n
                break
            else:
                out.append(units[i])
                i += 1
        return out


class SynonymFile(CorpusFile[Synonyms]):
    """A synonyms file, re-read when it changes on disk, and re-segmented
    when the index's analyzer changes (a new user dictionary)."""

    def __init__(self, path: Path | None) -> None:
        super().__init__(path, lambda text, analyzer, _path: Synonyms.from_text(text, analyzer), Synonyms,
                         "synonyms")
