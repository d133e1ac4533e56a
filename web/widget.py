"""The embeddable search box: ``/widget.js`` and the ``/api/widget`` it calls.

A site adds ``<script src="https://search.example/widget.js" defer></script>``
and marks an input or button with ``data-zhsearch``; the script opens a search
dialog in a Shadow DOM root and asks ``/api/widget`` (on the script's own
origin) for results as the reader types.

``/api/widget`` is the widget's view of a result page, the way the HTML
results page has its own: every link is computed here, by the same rules as
the results page (``ZHSEARCH_BASE_URL`` + permalink + ``#anchor`` when the
site's base URL is set, else the built-in article page), so the script never
builds a URL from parts.  Links into zhsearch itself are root-relative (with
the URL prefix, if any); the script resolves them against its own origin.
The highlighted title and snippet are the engine's ``title_html`` /
``snippet_html``: escaped text plus ``<mark>``, which is all the script lets
through.

Each hit is an article with its best matching sections (``sections``, up to
three, each with its own link to its heading): the dialog lists them under
the article, as DocSearch does.  ``page`` pages through the results inside
the dialog.

The script's CSS (``static/widget.css``) is embedded into ``widget.js``: one
request, and a host page whose CSP forbids foreign style sheets still shows
the dialog styled (the script gives it to the shadow root as a constructed
style sheet).  So is the combobox core (``static/combobox.js``: keys, the
guard for Chinese input methods, request sequencing, the active option),
which zhsearch's own pages load as a file of its own: pasted into the
script's closure, it adds no global to the host page.

A page whose origin may not call the API (``--allow-origin``) only sees its
``fetch`` fail: CORS refusals are opaque, like a network error.  The script
then asks ``/api/widget/origin``, the one endpoint open to every origin
(:mod:`web.cors`), which tells the asking origin whether it is allowed and
nothing else; the script can then name the ``--allow-origin`` value that
fixes it.  (``/widget.js`` itself cannot carry that answer: a ``<script>``
request has no ``Origin`` header, and the script is cached and shared
between pages.)
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

from flask import Blueprint, Response, jsonify, request, url_for

from search.engine import search
from search.models import Hit

from . import analytics
from .assets import STATIC_DIR
from .cors import allowed_origin
from .params import BadParameter, parse_search_args
from .state import get_state
from .views import article_url, external_url, folder_names, format_date

bp = Blueprint("widget", __name__)

#: Results the dialog shows by default, and at most.
DEFAULT_LIMIT = 8
MAX_LIMIT = 20
#: The placeholders in widget.js that become the CSS text and the combobox core's code.
CSS_PLACEHOLDER = '/*zhsearch:css*/""'
CORE_PLACEHOLDER = "/*zhsearch:combobox*/"
#: The script URL carries no version, so browsers revalidate it after this long.
SCRIPT_MAX_AGE = 600


@lru_cache(maxsize=1)
def _script() -> tuple[bytes, str]:
    """widget.js with its CSS and the combobox core embedded, and its ETag (read once per process)."""
    def read(name: str) -> str:
        return (STATIC_DIR / name).read_text(encoding="utf-8")

    js = read("widget.js")
    for placeholder in (CORE_PLACEHOLDER, CSS_PLACEHOLDER):
        if js.count(placeholder) != 1:
            raise RuntimeError(f"widget.js must hold {placeholder} once")
    js = js.replace(CORE_PLACEHOLDER, read("combobox.js"))
    body = js.replace(CSS_PLACEHOLDER, json.dumps(read("widget.css"), ensure_ascii=True)).encode("utf-8")
    return body, hashlib.sha256(body).hexdigest()[:20]


@bp.route("/widget.js")
def widget_js():
    body, etag = _script()
    resp = Response(body, mimetype="text/javascript")
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = f"public, max-age={SCRIPT_MAX_AGE}"
    # a public script: loadable with crossorigin/SRI, and by pages that isolate themselves (COEP)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return resp.make_conditional(request)


def _limit() -> int:
    raw = request.args.get("limit", "")
    if not raw.strip():
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter("limit", "参数 limit 必须是整数") from None
    if not 1 <= value <= MAX_LIMIT:
        raise BadParameter("limit", f"参数 limit 必须在 1 到 {MAX_LIMIT} 之间")
    return value


def _link(h: Hit, q: str, anchor: str | None) -> str:
    """Where a result goes: the site's page (``ZHSEARCH_BASE_URL`` set), else the built-in one."""
    base = get_state().base_url
    # a permalink too long to be a link (search.bounds) goes to the built-in page
    return external_url(base, h.url, anchor) if base and h.url else article_url(h.path, q, anchor)


def _hit(h: Hit, q: str) -> dict:
    return {
        "title": h.title,
        "title_html": h.title_html,
        "snippet_html": h.snippet_html,
        "section": h.section,
        "url": _link(h, q, h.anchor or None),
        "article_url": _link(h, q, None),
        "path": h.path,
        "crumbs": list(h.categories) or folder_names(h.path),
        "date": format_date(h.date) or None,
        "sections": [{"heading": s.heading, "heading_html": s.heading_html, "anchor": s.anchor,
                      "snippet_html": s.snippet_html, "url": _link(h, q, s.anchor or None)}
                     for s in h.sections],
    }


@bp.route("/api/widget")
def api_widget():
    """One page of results shaped for the dialog, every link ready to use."""
    p = parse_search_args(request.args)
    if not p.q.strip():
        raise BadParameter("q", "缺少查询：请提供 q")
    limit = _limit()
    result = search(get_state().engine, p.q, page=p.page, per_page=limit, filters=p.filters(), sort=p.sort)
    resp = jsonify({
        "query": result.query,
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "took_ms": result.took_ms,
        "note": result.note,
        "suggestion": result.suggestion,
        "more_url": url_for("pages.search", q=p.q, tag=p.tags, category=p.categories),
        "hits": [_hit(h, p.q) for h in result.hits],
        # as-you-type: recorded only when the reader settles (web.analytics)
        "search_id": analytics.issue(result, p, analytics.Source.WIDGET),
    })
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@bp.route("/api/widget/origin")
def api_widget_origin():
    """Whether the asking page's origin may call the API (``--allow-origin``).

    Open to every origin (:data:`web.cors.PUBLIC_PATHS`): the answer is about
    the asker only.  A request without ``Origin`` comes from zhsearch's own
    origin (or is no browser's), which CORS never stops."""
    origin = request.headers.get("Origin")
    allowed = origin is None or allowed_origin(origin, get_state().settings.allow_origins) is not None
    resp = jsonify({"origin": origin, "allowed": allowed})
    resp.headers["Cache-Control"] = "no-store"
    return resp
