"""The analytics report: what ``zhsearch analytics`` prints and ``/admin`` shows.

Read from the analytics database (:mod:`web.analytics_store`) over the last
``days`` days:

* totals, by source (widget, results page, API), and rows dropped;
* top queries (grouped by their folded form, shown as most often typed),
  with how many found nothing, the click-through rate and the article
  clicked most;
* searches with no result, each with what the index could offer
  (:mod:`search.offers`: did you mean, pinyin, a synonym candidate, the
  closest title);
* queries with results but no click;
* click-through rate by rank (1–10): clicks on a rank / searches that
  showed it;
* searches, searches without results and clicks per day.

Clicks can only come from the widget and the results page, so the rates
count those searches only; API searches are in the totals and top queries.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

from indexer.store import IndexUnavailable
from search.offers import OfferFinder

from . import analytics_store as store

TOP = 20
RANKS = 10


class NoAnalytics(RuntimeError):
    """There is no analytics file (nothing recorded yet), or it cannot be read."""


@dataclass
class QueryRow:
    query: str  # the form typed most often
    key: str  # the folded form the rows are grouped by (and curation matches)
    searches: int
    no_results: int = 0
    clickable: int = 0  # searches from the widget or the results page
    clicked: int = 0  # of those, with at least one click
    last: str = ""  # last searched (local time, ISO)
    results: int = 0  # results of the latest search
    top_path: str | None = None  # the article clicked most
    top_clicks: int = 0
    offers: dict | None = None  # for searches without results: search.offers.Offers.to_dict()

    @property
    def ctr(self) -> float | None:
        return self.clicked / self.clickable if self.clickable else None


@dataclass
class RankRow:
    rank: int
    shown: int
    clicks: int

    @property
    def ctr(self) -> float | None:
        return self.clicks / self.shown if self.shown else None


@dataclass
class DayRow:
    day: str
    searches: int = 0
    no_results: int = 0
    clicks: int = 0


@dataclass
class Report:
    file: str
    days: int
    since: str
    until: str
    searches: int = 0
    clicks: int = 0
    dropped: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    top: list[QueryRow] = field(default_factory=list)
    no_results: list[QueryRow] = field(default_factory=list)
    no_clicks: list[QueryRow] = field(default_factory=list)
    ranks: list[RankRow] = field(default_factory=list)
    per_day: list[DayRow] = field(default_factory=list)
    #: curation entries naming no article of the live index
    curation_missing: list[dict] = field(default_factory=list)
    note: str | None = None  # why offers are missing, say

    def to_dict(self) -> dict:
        def rows(items):
            return [{**asdict(r), "ctr": _round(r.ctr)} for r in items]

        out = {k: v for k, v in asdict(self).items() if k not in ("top", "no_results", "no_clicks", "ranks")}
        out.update(top=rows(self.top), no_results=rows(self.no_results), no_clicks=rows(self.no_clicks),
                   ctr_by_rank=rows(self.ranks))
        return out


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def open_db(path: Path) -> sqlite3.Connection:
    """The analytics file for reading (migrated if an older zhsearch wrote it)."""
    path = Path(path)
    if not path.is_file():
        raise NoAnalytics(f"no analytics recorded yet: {path} does not exist (zhsearch serve records there)")
    try:
        return store.connect(path)
    except store.NewerSchema as exc:
        raise NoAnalytics(str(exc)) from None
    except sqlite3.DatabaseError as exc:
        if store.error_kind(exc) == "corrupt":
            raise NoAnalytics(f"{path} is corrupt ({exc}); zhsearch serve moves it aside and starts a new one") \
                from None
        raise NoAnalytics(f"cannot read {path}: {exc}") from None


def build(conn: sqlite3.Connection, file: Path | str, days: int, *, engine=None, top: int = TOP,
          now: float | None = None) -> Report:
    """The report over the last ``days`` days.  ``engine``: the live index,
    for what it could offer no-result searches (left out without one)."""
    now = time.time() if now is None else now
    since_ts = int(now - days * 86400)
    first_day = dt.date.fromtimestamp(since_ts)
    last_day = dt.date.fromtimestamp(now)
    rep = Report(str(file), days, first_day.isoformat(), last_day.isoformat())
    q = conn.execute
    rep.searches = q("SELECT COUNT(*) FROM searches WHERE ts >= ?", (since_ts,)).fetchone()[0]
    rep.clicks = q("SELECT COUNT(*) FROM clicks WHERE ts >= ?", (since_ts,)).fetchone()[0]
    rep.dropped = q("SELECT COALESCE(SUM(rows), 0) FROM dropped WHERE day >= ?",
                    (first_day.isoformat(),)).fetchone()[0]
    rep.sources = dict(q("SELECT source, COUNT(*) FROM searches WHERE ts >= ? GROUP BY source ORDER BY 2 DESC",
                         (since_ts,)).fetchall())

    grouped = """
        SELECT s.folded, COUNT(*) AS n, SUM(s.results = 0), SUM(s.source != 'api'),
               SUM(s.source != 'api' AND EXISTS (SELECT 1 FROM clicks c WHERE c.search_id = s.search_id)),
               MAX(s.ts)
        FROM searches s WHERE s.ts >= ? {where}
        GROUP BY s.folded {having} ORDER BY n DESC, MAX(s.ts) DESC, s.folded LIMIT ?"""
    rep.top = _rows(conn, grouped.format(where="", having=""), since_ts, top)
    rep.no_results = _rows(conn, grouped.format(where="AND s.results = 0", having=""), since_ts, top)
    rep.no_clicks = _rows(conn, grouped.format(
        where="AND s.results > 0 AND s.source != 'api'",
        having="HAVING SUM(EXISTS (SELECT 1 FROM clicks c WHERE c.search_id = s.search_id)) = 0"), since_ts, top)

    for rank in range(1, RANKS + 1):
        shown = q("SELECT COUNT(*) FROM searches WHERE ts >= ? AND source != 'api' "
                  "AND first_rank <= ? AND first_rank + shown > ?", (since_ts, rank, rank)).fetchone()[0]
        clicks = q("SELECT COUNT(*) FROM clicks c JOIN searches s ON s.search_id = c.search_id "
                   "WHERE s.ts >= ? AND s.source != 'api' AND c.rank = ?", (since_ts, rank)).fetchone()[0]
        rep.ranks.append(RankRow(rank, shown, clicks))

    days_rows = {d.isoformat(): DayRow(d.isoformat())
                 for d in (first_day + dt.timedelta(days=i) for i in range((last_day - first_day).days + 1))}
    for day, n, zero in q("SELECT date(ts, 'unixepoch', 'localtime') AS d, COUNT(*), SUM(results = 0) "
                          "FROM searches WHERE ts >= ? GROUP BY d", (since_ts,)):
        row = days_rows.setdefault(day, DayRow(day))
        row.searches, row.no_results = n, zero
    for day, n in q("SELECT date(ts, 'unixepoch', 'localtime') AS d, COUNT(*) FROM clicks WHERE ts >= ? GROUP BY d",
                    (since_ts,)):
        days_rows.setdefault(day, DayRow(day)).clicks = n
    rep.per_day = [days_rows[d] for d in sorted(days_rows)]

    if engine is not None:
        _add_index_knowledge(rep, engine)
    else:
        rep.note = "no index given: what the index could offer is left out"
    return rep


def _rows(conn: sqlite3.Connection, sql: str, since_ts: int, top: int) -> list[QueryRow]:
    out = []
    for key, n, zero, clickable, clicked, last in conn.execute(sql, (since_ts, top)).fetchall():
        typed, results = conn.execute(
            # the form typed most often; of forms typed as often, the latest (ids break a tie in one second)
            "SELECT query, (SELECT results FROM searches WHERE folded = ? AND ts >= ? ORDER BY ts DESC, id DESC "
            "LIMIT 1) FROM searches WHERE folded = ? AND ts >= ? GROUP BY query "
            "ORDER BY COUNT(*) DESC, MAX(ts) DESC, MAX(id) DESC LIMIT 1",
            (key, since_ts, key, since_ts)).fetchone()
        best = conn.execute(
            "SELECT c.path, COUNT(*) FROM clicks c JOIN searches s ON s.search_id = c.search_id "
            "WHERE s.folded = ? AND s.ts >= ? AND c.path IS NOT NULL GROUP BY c.path ORDER BY 2 DESC, 1 LIMIT 1",
            (key, since_ts)).fetchone()
        out.append(QueryRow(typed, key, n, zero or 0, clickable or 0, clicked or 0,
                            dt.datetime.fromtimestamp(last).isoformat(timespec="minutes"), results,
                            best[0] if best else None, best[1] if best else 0))
    return out


def _add_index_knowledge(rep: Report, engine) -> None:
    """Offers for the no-result rows; clicked paths that are no longer
    articles dropped; the curation entries that name no article."""
    try:
        finder = OfferFinder(engine)
        for row in rep.no_results:
            row.offers = finder.offers(row.query).to_dict()
        searcher = finder.searcher
        for row in rep.top + rep.no_clicks:
            if row.top_path and searcher.document_number(path=row.top_path) is None:
                row.top_path, row.top_clicks = None, 0
        gen = engine.generation()
        rep.curation_missing = [{"kind": r.kind, "query": r.query, "path": r.path}
                                for r in engine.curation().missing(gen.name, searcher)]
    except IndexUnavailable as exc:
        rep.note = f"index unavailable ({exc}): what the index could offer is left out"


# ----------------------------------------------------------------- text


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _cut(s: str, width: int) -> str:
    out, w = "", 0
    for c in s:
        cw = 2 if unicodedata.east_asian_width(c) in "WF" else 1
        if w + cw > width - 1 and _width(s) > width:
            return out + "…"
        out, w = out + c, w + cw
    return out


def _table(head: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    cells = [head] + rows
    widths = [max(_width(r[i]) for r in cells) for i in range(len(head))]
    out = []
    for r in cells:
        parts = []
        for i, c in enumerate(r):
            pad = " " * (widths[i] - _width(c))
            parts.append(pad + c if i in right else c + pad)
        out.append("  " + "  ".join(parts).rstrip())
    return out


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def format_text(rep: Report) -> str:
    lines = [f"zhsearch analytics: {rep.file}",
             f"last {rep.days} days ({rep.since} – {rep.until}): {rep.searches} searches, {rep.clicks} clicks"
             + (f", {rep.dropped} rows dropped (queue full)" if rep.dropped else "")]
    if rep.sources:
        lines.append("by source: " + ", ".join(f"{k} {v}" for k, v in rep.sources.items()))
    if rep.note:
        lines.append(f"note: {rep.note}")

    lines += ["", "Top queries"]
    lines += _table(["query", "searches", "no result", "CTR", "clicked most"],
                    [[_cut(r.query, 30), str(r.searches), str(r.no_results), _pct(r.ctr),
                      f"{_cut(r.top_path, 50)} ({r.top_clicks})" if r.top_path else ""] for r in rep.top],
                    {1, 2, 3}) if rep.top else ["  (none)"]

    lines += ["", "Searches with no result (and what the index could offer)"]
    if rep.no_results:
        rows = []
        for r in rep.no_results:
            o = r.offers or {}
            title = f"{_cut(o['closest_title'], 28)} ({_cut(o['closest_path'], 40)})" if o.get("closest_title") else ""
            rows.append([_cut(r.query, 30), str(r.searches), o.get("did_you_mean") or "", o.get("pinyin") or "",
                         _cut(o.get("synonym") or "", 30), title])
        lines += _table(["query", "searches", "did you mean", "pinyin", "synonym?", "closest title"], rows, {1})
    else:
        lines.append("  (none)")

    lines += ["", "Queries with results but no click"]
    lines += _table(["query", "searches", "results"],
                    [[_cut(r.query, 30), str(r.clickable), str(r.results)] for r in rep.no_clicks],
                    {1, 2}) if rep.no_clicks else ["  (none)"]

    lines += ["", "Click-through rate by rank (widget and results page)"]
    lines += _table(["rank", "shown", "clicks", "CTR"],
                    [[str(r.rank), str(r.shown), str(r.clicks), _pct(r.ctr)] for r in rep.ranks], {0, 1, 2, 3})

    lines += ["", "Searches per day"]
    shown = rep.per_day
    while shown and not (shown[0].searches or shown[0].clicks):
        shown = shown[1:]  # from the first day with something recorded
    peak = max((d.searches for d in shown), default=0)
    lines += _table(["day", "searches", "no result", "clicks", ""],
                    [[d.day, str(d.searches), str(d.no_results), str(d.clicks),
                      "█" * (round(30 * d.searches / peak) if peak else 0)] for d in shown],
                    {1, 2, 3}) if shown else ["  (none)"]
    if rep.curation_missing:
        lines += ["", "Curation entries that name no article (ignored)"]
        lines += [f"  {m['kind']}: {m['query']} → {m['path']}" for m in rep.curation_missing]
    return "\n".join(lines) + "\n"
