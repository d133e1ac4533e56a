"""What a person typed → a structured query, before any analysis.

The syntax is deliberately small and forgiving: ``"quoted phrases"``,
``-exclusion``, ``OR`` between two terms, and the field filters ``tag:``,
``category:``, ``title:`` and ``date:`` (``date:2024``, ``date:2023-05``,
``date:2023..2024-06``, open ends allowed).  Every other character is plain
text, unbalanced quotes are closed, and nothing here ever raises.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

#: Queries are cut to this many characters (with a note): longer ones are
#: pasted documents, not questions, and would only cost time.
MAX_QUERY_CHARS = 256

FILTER_FIELDS = ("tag", "category", "title", "date")


@dataclass
class Clause:
    text: str
    phrase: bool = False
    negated: bool = False
    field: str | None = None  # "title" restricts matching to titles


@dataclass
class ParsedQuery:
    groups: list[list[Clause]] = field(default_factory=list)  # AND of ORs
    excluded: list[Clause] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    date_range: tuple[dt.datetime | None, dt.datetime | None] | None = None
    notes: list[str] = field(default_factory=list)
    cleaned: str = ""

    @property
    def empty(self) -> bool:
        return not self.groups


_TOKEN_RE = re.compile(
    r'(?P<neg>-)?(?:(?P<field>tag|category|title|date|标签|分类)[:：])?'
    r'(?:"(?P<q>[^"]*)"?|(?P<w>[^\s"]+))',
    re.I,
)
_FIELD_ALIASES = {"标签": "tag", "分类": "category"}


def _clean(text: str) -> str:
    """Drop control and unpaired surrogate characters, fold quotes and spaces."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs", "Co", "Cn") and ch not in "\t\n":
            continue
        out.append(ch)
    s = "".join(out)
    s = s.replace("“", '"').replace("”", '"').replace("＂", '"')
    s = s.replace("\u3000", " ")
    return re.sub(r"\s+", " ", s).strip()


def parse(raw: str) -> ParsedQuery:
    pq = ParsedQuery()
    text = _clean(raw or "")
    if len(text) > MAX_QUERY_CHARS:
        text = text[:MAX_QUERY_CHARS]
        pq.notes.append(f"查询过长，只使用了前 {MAX_QUERY_CHARS} 个字符。")
    pq.cleaned = text
    pending_or = False
    for m in _TOKEN_RE.finditer(text):
        neg = bool(m.group("neg"))
        fld = m.group("field")
        fld = _FIELD_ALIASES.get(fld, fld.lower()) if fld else None
        quoted = m.group("q") is not None
        value = (m.group("q") if quoted else m.group("w")) or ""
        value = value.strip()
        if not quoted and not fld and value == "OR":
            pending_or = bool(pq.groups)
            continue
        if fld in ("tag", "category"):
            if value:
                (pq.tags if fld == "tag" else pq.categories).append(value)
            continue
        if fld == "date":
            rng = parse_date_range(value)
            if rng is None:
                if value:
                    pq.notes.append(f"无法理解日期“{value}”，已忽略（示例：date:2024、date:2023-01..2024-06）。")
            else:
                pq.date_range = rng
            continue
        if not value:
            continue
        if not quoted and value.startswith("-") and len(value) > 1 and not neg:
            # "--x" or "-" inside a word: keep as text (it is not an exclusion)
            pass
        clause = Clause(value, phrase=quoted, negated=neg, field=fld)
        if neg:
            pq.excluded.append(clause)
            pending_or = False
            continue
        if pending_or and pq.groups:
            pq.groups[-1].append(clause)
        else:
            pq.groups.append([clause])
        pending_or = False
    return pq


_DATE_PART_RE = re.compile(r"^(\d{4})(?:[-/.](\d{1,2}))?(?:[-/.](\d{1,2}))?$")


def _date_bounds(s: str) -> tuple[dt.datetime, dt.datetime] | None:
    m = _DATE_PART_RE.match(s.strip())
    if not m:
        return None
    y = int(m.group(1))
    mo = int(m.group(2)) if m.group(2) else None
    d = int(m.group(3)) if m.group(3) else None
    try:
        if mo is None:
            return dt.datetime(y, 1, 1), dt.datetime(y + 1, 1, 1)
        if d is None:
            start = dt.datetime(y, mo, 1)
            end = dt.datetime(y + (mo == 12), mo % 12 + 1, 1)
            return start, end
        start = dt.datetime(y, mo, d)
        return start, start + dt.timedelta(days=1)
    except ValueError:
        return None


def parse_date_range(value: str) -> tuple[dt.datetime | None, dt.datetime | None] | None:
    """``2024`` / ``2024-05`` / ``2023..2024-06`` / ``2023..`` / ``..2022``.

    Returns ``(start, end)`` with ``end`` exclusive, or None if unreadable.
    """
    value = value.strip()
    if ".." in value:
        a, b = value.split("..", 1)
        lo = _date_bounds(a) if a else None
        hi = _date_bounds(b) if b else None
        if (a and lo is None) or (b and hi is None) or (not a and not b):
            return None
        return (lo[0] if lo else None, hi[1] if hi else None)
    for op in (">=", "<=", ">", "<"):
        if value.startswith(op):
            bounds = _date_bounds(value[len(op):])
            if bounds is None:
                return None
            if op in (">", ">="):
                return (bounds[1] if op == ">" else bounds[0], None)
            return (None, bounds[0] if op == "<" else bounds[1])
    bounds = _date_bounds(value)
    return bounds
