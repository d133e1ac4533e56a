"""JSON endpoints: ``/api/search``, ``/api/suggest`` and ``/healthz``.

``/api/search`` returns exactly ``ResultPage.to_dict()`` (the same shape as
``zhsearch search --json``), so scripts can switch between the two.  Bad
parameters are 400s with ``{"error": {"code", "message", "param"}}``; a
missing or broken index is a 503 with the same error shape (see
:mod:`web.errors`).
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify, request, url_for

from indexer import filenames
from indexer.store import IndexMissing, IndexUnavailable
from search import bounds
from search.engine import search

from . import analytics
from .params import BadParameter, parse_search_args
from .state import get_state
from .views import article_url, external_url

bp = Blueprint("api", __name__)

MAX_SUGGEST_QUERY = 100


@bp.route("/api/search")
def api_search():
    p = parse_search_args(request.args, allow_per_page=True)
    if p.empty:
        raise BadParameter("q", "缺少查询：请提供 q，或至少一个 tag / category 筛选条件")
    state = get_state()
    result = search(state.engine, p.q, page=p.page, per_page=p.per_page, filters=p.filters(), sort=p.sort)
    resp = jsonify(result.to_dict())
    # a script's search is a settled one, unless it says it is a keystroke of its own
    # as-you-type box (settled=0): then it settles it with POST /api/settle (web.analytics)
    if request.args.get("settled", "1").strip().lower() in ("0", "false", "no"):
        search_id = analytics.issue(result, p, analytics.Source.API)
    else:
        search_id = analytics.record(result, p, analytics.Source.API, analytics.Settled.API)
    if search_id:
        resp.headers[analytics.HEADER] = search_id
    return resp


@bp.route("/api/suggest")
def api_suggest():
    """As-you-type suggestions: titles (prefix first, Chinese prefixes too) and tags."""
    q = request.args.get("q", "")
    if len(q) > MAX_SUGGEST_QUERY:
        raise BadParameter("q", f"建议查询最多 {MAX_SUGGEST_QUERY} 个字符")
    limit_raw = request.args.get("limit", "8")
    try:
        limit = int(limit_raw)
    except ValueError:
        raise BadParameter("limit", "参数 limit 必须是整数") from None
    if not 1 <= limit <= 20:
        raise BadParameter("limit", "参数 limit 必须在 1 到 20 之间")
    state = get_state()
    out: dict = {"query": q, "titles": [], "tags": []}
    if q.strip():
        cat = state.catalog.get()
        for e in cat.suggest_titles(q, limit):
            permalink = bounds.url(e.url)
            url = external_url(state.base_url, permalink) if state.base_url and permalink else article_url(e.path)
            out["titles"].append({"title": bounds.title(e.title), "path": e.path, "name": filenames.display(e.path),
                                  "url": url})
        for t in cat.suggest_tags(q, max(1, min(5, limit))):
            if len(t.value) > bounds.MAX_LABEL_CHARS:
                continue  # (a cut value would filter for nothing)
            out["tags"].append({"value": t.value, "count": t.count,
                                "url": url_for("pages.search", tag=t.value)})
    resp = jsonify(out)
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.route("/healthz")
def healthz():
    """Liveness plus whether the index can be searched (503 when it cannot),
    how old the published generation is, and what the watch is doing
    (``watching``, ``restarting``, ``failed``… and since when; ``off``
    without ``--watch``).  A watch in trouble does not make this a 503: the
    site still answers from the last published index."""
    state = get_state()
    watch = state.watch.get() if state.watch is not None else {"state": "off"}
    try:
        stats = state.engine.stats()
    except IndexUnavailable as exc:
        code = "index_missing" if isinstance(exc, IndexMissing) else "index_unavailable"
        return jsonify({"status": "unavailable", "error": code, "watch": watch}), 503
    return jsonify({"status": "ok", **stats, "generation_age_s": _age_s(stats.get("updated")), "watch": watch})


def _age_s(updated: str | None) -> float | None:
    """Seconds since a generation was written (its meta's local ``updated`` time)."""
    try:
        return round(max(0.0, (dt.datetime.now() - dt.datetime.fromisoformat(updated)).total_seconds()), 1)
    except (TypeError, ValueError):
        return None

