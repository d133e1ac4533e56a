"""``/admin``: the analytics report in the browser, for the site owner only.

Off unless ``--admin-token`` (env ``ZHSEARCH_ADMIN_TOKEN``) is set: without
a token every ``/admin`` URL is a 404.  With one:

* the token is sent in an ``Authorization: Bearer …`` (or
  ``X-Zhsearch-Admin-Token``) header, or typed into the login form, which
  POSTs it and gets a session cookie back (HttpOnly, ``SameSite=Strict``,
  ``Path=/admin``, 12 hours; a value signed with the token, so every server
  process accepts it and changing the token ends every session).  The token
  is compared in constant time.  It is never accepted in a URL: a request
  with a query parameter that looks like one, or whose value is the token,
  is refused (and a warning says to change a token that was sent so);
* nothing under ``/admin`` is offered to other origins: no CORS headers
  (those are for ``/api/`` only), a request with another ``Origin`` or that
  a browser marks cross-site (``Sec-Fetch-Site``) is refused, responses say
  ``Cross-Origin-Resource-Policy: same-origin`` and ``no-store``, and the
  site's strict Content-Security-Policy applies (the chart is inline SVG
  drawn with attributes and the site's own style sheet, no script);
* the forms that change something (append a pin or a synonym group to the
  curation file, log out) are POSTs carrying a CSRF token tied to the
  session; a POST authenticated by the header needs none (a page of another
  site cannot set that header).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass

from flask import Blueprint, abort, redirect, render_template, request, url_for

from search.curation import CurationEditError, append_pin, append_synonyms

from .analytics import own_origin
from .analytics_report import NoAnalytics, Report, build, open_db
from .state import get_state

log = logging.getLogger(__name__)

bp = Blueprint("admin", __name__, url_prefix="/admin")

COOKIE = "zhsearch_admin"
SESSION_S = 12 * 3600
HEADER = "X-Zhsearch-Admin-Token"
#: Query parameters that can only be an attempt to pass the token in a URL.
TOKEN_PARAMS = {"token", "admin_token", "access_token", "auth", "key", "password"}
DAYS = (7, 30, 90)
DONE = {"pin": "已添加置顶（curation 文件已更新，无需重建索引）",
        "synonyms": "已添加同义词组（curation 文件已更新，无需重建索引）"}


def _bytes(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


def same_secret(given: str | None, token: str) -> bool:
    """Constant-time comparison (of the UTF-8 bytes: any string is comparable)."""
    if given is None:
        return False
    return hmac.compare_digest(_bytes(given), _bytes(token))


def _mac(token: str, text: str) -> str:
    return hmac.new(_bytes(token), _bytes(text), hashlib.sha256).hexdigest()[:32]


def new_session(token: str, now: float | None = None) -> str:
    expires = int((now or time.time()) + SESSION_S)
    nonce = secrets.token_urlsafe(12)
    return f"{expires}.{nonce}.{_mac(token, f'session:{expires}:{nonce}')}"


def valid_session(value: str | None, token: str, now: float | None = None) -> bool:
    if not value or value.count(".") != 2:
        return False
    expires, nonce, mac = value.split(".")
    if not expires.isdigit() or int(expires) < (now or time.time()):
        return False
    return hmac.compare_digest(_bytes(mac), _bytes(_mac(token, f"session:{expires}:{nonce}")))


def csrf_token(token: str, session: str) -> str:
    return _mac(token, f"csrf:{session}")


def _token() -> str:
    token = get_state().settings.admin_token
    if not token:
        abort(404)  # no admin page at all
    return token


@bp.before_request
def _guard():
    token = _token()
    site = request.headers.get("Sec-Fetch-Site")  # the browser's own word, when it gives it
    origin = request.headers.get("Origin")
    if site in ("cross-site", "same-site") or (site != "same-origin" and origin is not None
                                               and not own_origin(origin)):
        abort(403)
    for name, value in request.args.items(multi=True):
        if same_secret(value, token):
            log.warning("the admin token was sent in a URL: it may now be in browser history and server "
                        "or proxy logs; change it (ZHSEARCH_ADMIN_TOKEN)")
            return _refuse_url()
        if name.lower() in TOKEN_PARAMS:
            return _refuse_url()
    return None


def _refuse_url():
    return render_template("admin_login.html", error="管理令牌不能放在网址里：请在登录表单中输入，或用 "
                           "Authorization 请求头发送。", days=30), 400


@bp.after_request
def _headers(resp):
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    resp.headers["X-Robots-Tag"] = "noindex, nofollow"
    return resp


def _auth(token: str) -> str | None:
    """How the request proves it knows the token: ``"header"``, ``"cookie"`` or None."""
    auth = request.headers.get("Authorization", "")
    given = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get(HEADER)
    if given is not None:
        return "header" if same_secret(given, token) else None
    if valid_session(request.cookies.get(COOKIE), token):
        return "cookie"
    return None


def _days() -> int:
    try:
        days = int(request.args.get("days", "30"))
    except ValueError:
        days = 30
    return min(max(days, 1), 3650)


@bp.route("", methods=["GET"], strict_slashes=False)
def page():
    token = _token()
    how = _auth(token)
    days = _days()
    if how is None:
        error = "令牌不正确。" if request.headers.get("Authorization") or request.headers.get(HEADER) else None
        return render_template("admin_login.html", error=error, days=days), 401
    return _render(token, days, done=DONE.get(request.args.get("done", "")))


def _render(token: str, days: int, done: str | None = None, error: str | None = None, status: int = 200):
    state = get_state()
    report: Report | None = None
    problem = None
    path = state.settings.analytics_file
    if path is None:
        problem = "这个服务器没有记录搜索（--no-analytics）。"
    else:
        try:
            conn = open_db(path)
        except NoAnalytics as exc:
            problem = str(exc)
        else:
            try:
                report = build(conn, path, days, engine=state.engine)
            finally:
                conn.close()
    session = request.cookies.get(COOKIE, "")
    return render_template(
        "admin.html", report=report, problem=problem, days=days, day_choices=DAYS, done=done, error=error,
        csrf=csrf_token(token, session), chart=chart(report) if report else None,
        recorder=state.analytics.store if state.analytics else None,
    ), status


@bp.route("/login", methods=["POST"])
def login():
    token = _token()
    if not same_secret(request.form.get("token", ""), token):
        log.warning("admin login refused: wrong token")
        return render_template("admin_login.html", error="令牌不正确。", days=30), 401
    resp = redirect(url_for("admin.page"), code=303)
    resp.set_cookie(COOKIE, new_session(token), max_age=SESSION_S, path=url_for("admin.page"), httponly=True,
                    samesite="Strict", secure=request.is_secure)
    return resp


def _post_auth(token: str) -> None:
    how = _auth(token)
    if how is None:
        abort(401)
    if how == "cookie" and not hmac.compare_digest(
            _bytes(request.form.get("csrf", "")), _bytes(csrf_token(token, request.cookies.get(COOKIE, "")))):
        abort(403)  # a form that did not come from our own page


@bp.route("/logout", methods=["POST"])
def logout():
    token = _token()
    _post_auth(token)
    resp = redirect(url_for("admin.page"), code=303)
    resp.delete_cookie(COOKIE, path=url_for("admin.page"))
    return resp


@bp.route("/curation", methods=["POST"])
def curation():
    """Append a pin (``action=pin``, ``query``, ``path``) or a synonym group
    (``action=synonyms``, ``term`` twice or more) to the corpus's curation file."""
    token = _token()
    _post_auth(token)
    days = _days_form()
    state = get_state()
    corpus = state.corpus_root()  # where the articles are read from, as the article page does
    action = request.form.get("action")
    try:
        if action == "pin":
            query, path = request.form.get("query", ""), request.form.get("path", "").strip()
            if state.engine.stored(path) is None:
                raise CurationEditError(f"没有这篇文章：{path}")
            written = append_pin(corpus, query, path)
        elif action == "synonyms":
            written = append_synonyms(corpus, request.form.getlist("term"))
        else:
            abort(400)
    except (CurationEditError, OSError) as exc:
        return _render(token, days, error=f"没有写入 curation 文件：{exc}", status=400)
    log.info("admin: %s appended to %s", action, written)
    return redirect(url_for("admin.page", days=days, done=action), code=303)


def _days_form() -> int:
    try:
        return min(max(int(request.form.get("days", "30")), 1), 3650)
    except ValueError:
        return 30


# ----------------------------------------------------------------- chart


@dataclass
class Bar:
    x: float
    width: float
    y_found: float
    h_found: float
    y_none: float
    h_none: float
    label: str


def chart(report: Report, width: int = 720, height: int = 180) -> dict:
    """Geometry of the searches-per-day chart (stacked bars: searches that
    found something, and those that found nothing; a line of clicks), drawn
    by the template as inline SVG."""
    days = report.per_day
    left, bottom, top = 36.0, 22.0, 8.0
    plot_w, plot_h = width - left - 8, height - bottom - top
    peak = max([d.searches for d in days] + [d.clicks for d in days] + [1])
    scale = _nice(peak)
    step = plot_w / max(1, len(days))
    bars, points = [], []
    for i, d in enumerate(days):
        x = left + i * step
        found = (d.searches - d.no_results) / scale * plot_h
        none = d.no_results / scale * plot_h
        y_found = top + plot_h - found
        bars.append(Bar(round(x + step * .12, 2), round(max(step * .76, 1), 2), round(y_found, 2), round(found, 2),
                        round(y_found - none, 2), round(none, 2),
                        f"{d.day}：{d.searches} 次搜索，{d.no_results} 次无结果，{d.clicks} 次点击"))
        points.append(f"{x + step / 2:.1f},{top + plot_h - d.clicks / scale * plot_h:.1f}")
    return {"width": width, "height": height, "left": left, "top": top, "base": top + plot_h,
            "right": width - 8, "scale": scale, "bars": bars, "clicks": " ".join(points),
            "first": days[0].day if days else "", "last": days[-1].day if days else ""}


def _nice(n: int) -> int:
    """The smallest of 1, 2, 5 × 10^k at least ``n``: a readable top of the axis."""
    k = 1
    while True:
        for m in (1, 2, 5):
            if m * k >= n:
                return m * k
        k *= 10
