"""``/admin``: off without a token; refuses requests without the token, with a
wrong one, with the token in the URL and from other origins; never offered
cross-origin; CSRF-protected POSTs append pins and synonym groups to the
curation file, which the results follow at once."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from tests.conftest import build_site
from web import close_app
from web.admin import COOKIE, chart, new_session, valid_session

TOKEN = "correct-horse-battery-staple-42"
ORIGIN = "https://blog.example"
ARTICLES = {
    "db/redis.md": "---\ntitle: Redis 持久化\n---\n\nRedis 持久化有 RDB 和 AOF 两种方式。\n",
    "db/mysql.md": "---\ntitle: MySQL 索引\n---\n\nMySQL 的 B+ 树索引。\n",
    "web/a11y.md": "---\ntitle: 网页无障碍\n---\n\nAccessibility 让读屏软件也能读网页，accessibility 检查要趁早。\n",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("admin"), ARTICLES)


@pytest.fixture
def site(built, tmp_path):
    """The module's index; each test its own analytics file, and no curation file left behind."""
    yield built
    (built / "corpus" / "curation.yml").unlink(missing_ok=True)


def owner_app(make_app, site, tmp_path, **kw):
    """The site as its owner runs it: its own analytics file, the blog allowed to call the API."""
    kw.setdefault("analytics", tmp_path / "analytics.sqlite3")
    return make_app(site / "ix", site / "corpus", {"TESTING": True}, allow_origins=[ORIGIN], **kw)


@pytest.fixture
def app(make_app, site, tmp_path):
    a = owner_app(make_app, site, tmp_path, admin_token=TOKEN)
    yield a
    close_app(a)


def bearer(token: str = TOKEN) -> dict:
    return {"Authorization": f"Bearer {token}"}


def login(client) -> str:
    """Log in through the form; the CSRF token of the page."""
    r = client.post("/admin/login", data={"token": TOKEN})
    assert r.status_code == 303
    page = client.get("/admin")
    assert page.status_code == 200
    return re.search(r'name="csrf" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_no_token_no_admin_page(make_app, site, tmp_path):
    a = owner_app(make_app, site, tmp_path)
    c = a.test_client()
    for method, url in (("get", "/admin"), ("post", "/admin/login"), ("post", "/admin/curation")):
        assert getattr(c, method)(url, headers=bearer()).status_code == 404


def test_refuses_without_or_with_a_wrong_token(app):
    c = app.test_client()
    r = c.get("/admin")
    assert r.status_code == 401 and 'type="password"' in r.get_data(as_text=True)
    assert "热门搜索" not in r.get_data(as_text=True)
    for headers in (bearer("wrong-token-wrong-token"), bearer(TOKEN[:-1]), bearer(TOKEN + "x"),
                    {"X-Zhsearch-Admin-Token": "nope"}, bearer("令牌" * 10)):
        r = c.get("/admin", headers=headers)
        assert r.status_code == 401 and "热门搜索" not in r.get_data(as_text=True), headers
    assert c.post("/admin/login", data={"token": "wrong"}).status_code == 401
    assert COOKIE not in c.post("/admin/login", data={"token": "wrong"}).headers.get("Set-Cookie", "")
    forged = f"9999999999.x.{'0' * 32}"
    c.set_cookie(COOKIE, forged, path="/admin")
    assert c.get("/admin").status_code == 401
    # and nothing changes without the token
    assert c.post("/admin/curation", data={"action": "synonyms", "term": ["a", "b"]}).status_code == 401


def test_token_by_header_or_login_form(app):
    c = app.test_client()
    for headers in (bearer(), {"X-Zhsearch-Admin-Token": TOKEN}):
        r = c.get("/admin", headers=headers)
        assert r.status_code == 200 and "热门搜索" in r.get_data(as_text=True)
    r = c.post("/admin/login", data={"token": TOKEN})
    cookie = r.headers["Set-Cookie"]
    assert r.status_code == 303 and r.headers["Location"].endswith("/admin")
    assert TOKEN not in cookie  # the cookie is a signed session, not the token
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/admin", "Max-Age=43200"):
        assert flag in cookie
    assert c.get("/admin").status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', c.get("/admin").get_data(as_text=True)).group(1)
    assert c.post("/admin/logout", data={"csrf": csrf}).status_code == 303
    assert c.get("/admin").status_code == 401


def test_sessions_expire_and_die_with_the_token():
    s = new_session(TOKEN, now=1000)
    assert valid_session(s, TOKEN, now=1001)
    assert not valid_session(s, TOKEN, now=1000 + 13 * 3600)
    assert not valid_session(s, "another-token-another-token")


def test_refuses_the_token_in_a_url(app, caplog):
    c = app.test_client()
    for url in (f"/admin?token={TOKEN}", f"/admin?t={TOKEN}", "/admin?admin_token=whatever",
                f"/admin/login?token={TOKEN}"):
        r = c.get(url, headers=bearer()) if "login" not in url else c.post(url, data={"token": TOKEN})
        assert r.status_code == 400, url
        assert "不能放在网址里" in r.get_data(as_text=True)
        assert "Set-Cookie" not in r.headers
    assert any("sent in a URL" in rec.getMessage() and "change it" in rec.getMessage() for rec in caplog.records)
    assert not any(TOKEN in rec.getMessage() for rec in caplog.records)


def test_refuses_other_origins_and_is_never_offered_cross_origin(app):
    c = app.test_client()
    evil = "https://evil.example"
    assert c.get("/admin", headers={**bearer(), "Origin": evil}).status_code == 403
    assert c.get("/admin", headers={**bearer(), "Origin": ORIGIN}).status_code == 403  # allowed for the API only
    assert c.get("/admin", headers={**bearer(), "Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert c.get("/admin", headers={**bearer(), "Sec-Fetch-Site": "same-site"}).status_code == 403
    assert c.post("/admin/login", data={"token": TOKEN}, headers={"Origin": evil}).status_code == 403
    ok = c.get("/admin", headers={**bearer(), "Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"})
    assert ok.status_code == 200
    for r in (ok, c.options("/admin", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})):
        assert not any(h.startswith("Access-Control-") for h in r.headers.keys())
    csp = ok.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert ok.headers["X-Frame-Options"] == "DENY"
    assert ok.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert ok.headers["Cache-Control"] == "no-store"
    html = ok.get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html and " on" + "click=" not in html


def test_the_report_and_its_chart(app):
    c = app.test_client()
    # "Redis 持久化" typed twice, "redis 持久化" once: one row, shown as typed most often
    # (a tie would show the latest form, which once made this test depend on the clock)
    for q in ("Redis 持久化", "redis 持久化", "Redis 持久化", "a11y", "mysql 索引"):
        c.get("/search", query_string={"q": q})
    assert app.extensions["zhsearch"].analytics.store.flush(10)
    html = c.get("/admin?days=7", headers=bearer()).get_data(as_text=True)
    assert '<svg class="admin-chart"' in html and html.count('<rect class="found"') == 8
    assert "data-admin-searches>5<" in html
    top = re.search(r'data-admin-table="top">(.*?)</table>', html, re.S).group(1)
    assert top.index("Redis 持久化") < top.index("a11y")
    none = re.search(r'data-admin-table="no-results">(.*?)</table>', html, re.S).group(1)
    assert "a11y" in none and "同义词：accessibility" in none  # a synonym candidate, offered as a button
    assert 'aria-current="true">最近 7 天' in html


def test_chart_geometry():
    from web.analytics_report import DayRow, Report

    rep = Report("f", 3, "2024-01-01", "2024-01-03",
                 per_day=[DayRow("2024-01-01", 10, 2, 3), DayRow("2024-01-02"), DayRow("2024-01-03", 4, 4, 0)])
    g = chart(rep, width=300, height=100)
    assert g["scale"] == 10 and len(g["bars"]) == 3
    first, empty, last = g["bars"]
    assert first.h_found + first.h_none == pytest.approx(g["base"] - g["top"])  # the tallest bar fills the plot
    assert first.h_none == pytest.approx(first.h_found / 4)
    assert empty.h_found == empty.h_none == 0 and last.h_found == 0 and last.h_none > 0
    assert len(g["clicks"].split()) == 3


def test_appending_needs_the_csrf_token(app, site):
    c = app.test_client()
    csrf = login(c)
    form = {"action": "synonyms", "term": ["a11y", "accessibility"], "days": "30"}
    assert c.post("/admin/curation", data=form).status_code == 403
    assert c.post("/admin/curation", data={**form, "csrf": "0" * 32}).status_code == 403
    assert not (site / "corpus" / "curation.yml").exists()
    r = c.post("/admin/curation", data={**form, "csrf": csrf})
    assert r.status_code == 303 and "done=synonyms" in r.headers["Location"]
    assert "已添加同义词组" in c.get(r.headers["Location"]).get_data(as_text=True)
    assert (site / "corpus" / "curation.yml").read_text(encoding="utf-8") == 'synonyms:\n  - ["a11y", "accessibility"]\n'
    # the results follow at once, without re-indexing
    data = c.get("/api/search?q=a11y").get_json()
    assert [h["path"] for h in data["hits"]] == ["web/a11y.md"]


def test_a_pin_from_the_report(app, site):
    c = app.test_client()
    assert c.get("/api/search?q=redis").get_json()["hits"][0]["path"] == "db/redis.md"
    # a header-authenticated POST (a script) needs no CSRF token: no page can set that header
    r = c.post("/admin/curation", headers=bearer(),
               data={"action": "pin", "query": "Redis", "path": "db/mysql.md", "days": "7"})
    assert r.status_code == 303
    hits = c.get("/api/search?q=ｒｅｄｉｓ").get_json()["hits"]
    assert [h["path"] for h in hits][:2] == ["db/mysql.md", "db/redis.md"]
    bad = c.post("/admin/curation", headers=bearer(),
                 data={"action": "pin", "query": "Redis", "path": "nope/ghost.md"})
    assert bad.status_code == 400 and "没有这篇文章" in bad.get_data(as_text=True)
    assert "ghost" not in (site / "corpus" / "curation.yml").read_text(encoding="utf-8")
    assert c.post("/admin/curation", headers=bearer(), data={"action": "delete-everything"}).status_code == 400


def test_admin_without_analytics_says_so(make_app, site, tmp_path):
    a = owner_app(make_app, site, tmp_path, admin_token=TOKEN, analytics_enabled=False)
    r = a.test_client().get("/admin", headers=bearer())
    assert r.status_code == 200 and "--no-analytics" in r.get_data(as_text=True)


def test_report_counts_match_the_database(app):
    c = app.test_client()
    c.get("/search?q=redis")
    sid = c.get("/api/widget?q=mysql").get_json()["search_id"]
    c.post("/api/click", data=json.dumps({"search": sid, "rank": 1}), headers={"Origin": ORIGIN})
    store = app.extensions["zhsearch"].analytics.store
    assert store.flush(10)
    conn = sqlite3.connect(store.path)
    n = conn.execute("SELECT COUNT(*) FROM searches").fetchone()[0]
    conn.close()
    html = c.get("/admin", headers=bearer()).get_data(as_text=True)
    assert f"data-admin-searches>{n}<" in html and "data-admin-clicks>1<" in html
