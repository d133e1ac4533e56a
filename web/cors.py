"""Cross-origin access to the JSON API, for the search box on the user's site.

The widget (``/widget.js``) runs on the site's pages (``https://blog.example``)
and calls ``/api/widget`` on zhsearch's origin (``https://search.example``);
the browser only hands it the answer when the response names the page's
origin in ``Access-Control-Allow-Origin``.  So:

* only the JSON API (``/api/…``, ``/healthz``) ever carries CORS headers; the
  HTML pages keep their Content-Security-Policy and ``X-Frame-Options`` and
  are never readable from another origin;
* an allowed origin (``zhsearch serve --allow-origin``, env
  ``ZHSEARCH_ALLOW_ORIGINS``) gets its own origin back, ``*`` allows any;
  a foreign origin gets no CORS header at all (the browser then refuses);
* a preflight (``OPTIONS`` with ``Access-Control-Request-Method``) is
  answered ``204`` with the methods and headers the API accepts;
* ``Vary: Origin`` on every API answer, so a shared cache never serves one
  origin's permission to another;
* one exception, :data:`PUBLIC_PATHS`: ``/api/widget/origin`` answers any
  origin (``*``), so that the widget on a page that is not allowed can learn
  why its searches fail; it tells the asking origin whether it is allowed,
  and nothing else.

No credentials: the API reads no cookies, so ``Allow-Credentials`` is never sent.
"""

from __future__ import annotations

from flask import Flask, request

#: What the API answers; everything else is refused by the browser.
ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"  # POST: /api/settle and /api/click only
#: Request headers a page may send (beyond the always-allowed simple ones).
ALLOWED_HEADERS = "Accept, Accept-Language, Content-Language, Content-Type, X-Requested-With"
#: The response header that carries a search's id (``web.analytics``)...
SEARCH_ID_HEADER = "X-Zhsearch-Search-Id"
#: ... the one response header a page may read beyond the simple ones.
EXPOSED_HEADERS = SEARCH_ID_HEADER
#: How long a browser may reuse a preflight answer (seconds).
PREFLIGHT_MAX_AGE = 600
#: API paths every origin may read: only what a page needs to learn that it is not allowed.
PUBLIC_PATHS = frozenset({"/api/widget/origin"})


def is_api(path: str) -> bool:
    return path.startswith("/api/") or path == "/healthz"


def allowed_origin(origin: str | None, allowed: tuple[str, ...]) -> str | None:
    """The ``Access-Control-Allow-Origin`` value for ``origin``, or None."""
    if not origin or not allowed:
        return None
    if "*" in allowed:
        return "*"
    return origin if origin.rstrip("/").lower() in allowed else None


def _is_preflight() -> bool:
    return request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers


def register(app: Flask, allowed: tuple[str, ...]) -> None:
    """Answer preflights and add CORS headers to API responses for ``allowed`` origins."""

    @app.before_request
    def _preflight():
        if _is_preflight() and is_api(request.path):
            return "", 204  # the headers are added below, for allowed origins only
        return None

    @app.after_request
    def _cors_headers(resp):
        if not is_api(request.path):
            return resp
        resp.vary.add("Origin")
        value = allowed_origin(request.headers.get("Origin"), allowed)
        if request.path in PUBLIC_PATHS and request.headers.get("Origin"):
            value = "*"
        if value is None:
            return resp
        resp.headers["Access-Control-Allow-Origin"] = value
        resp.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        if _is_preflight():
            resp.vary.update(("Access-Control-Request-Method", "Access-Control-Request-Headers"))
            resp.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            resp.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            resp.headers["Access-Control-Max-Age"] = str(PREFLIGHT_MAX_AGE)
        return resp
