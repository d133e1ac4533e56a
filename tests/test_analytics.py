"""Analytics: settled searches and clicks recorded in a real SQLite file, off
the request path, privately; the store's failure modes (locked, corrupt,
newer schema, queue full); the report and ``zhsearch analytics``."""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import time
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import build_site
from web import analytics_store as st
from web import close_app
from web.analytics import Answered, Recorder
from web.analytics_report import build, format_text, open_db
from zhsearch.cli import main
from zhsearch.settings import Settings

ARTICLES = {
    "k8s/intro.md": "---\ntitle: Kubernetes 入门\n---\n\nKubernetes 是容器编排系统，kubernetes 集群由节点组成。\n",
    "k8s/deploy.md": "---\ntitle: 在 Kubernetes 上部署\n---\n\n部署 kubernetes 应用需要 YAML 与参数配置。\n",
    "llm/chatgpt.md": "---\ntitle: ChatGPT 是什么\n---\n\nChatGPT 的参数很多。chatgpt 是对话模型，参数规模巨大。\n",
    "web/sse.md": "---\ntitle: Server-Sent Events 入门\n---\n\n服务器把事件流推给浏览器，调整参数。\n",
    "web/a11y.md": "---\ntitle: 网页无障碍\n---\n\nAccessibility 让读屏软件也能读网页，accessibility 检查要趁早。\n",
    "db/redis.md": "---\ntitle: Redis 持久化\n---\n\nRedis 持久化有 RDB 和 AOF 两种方式。\n",
}
ORIGIN = "https://blog.example"
CLIENT_ADDRESS = "203.0.113.77"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("analytics"), ARTICLES)


@pytest.fixture
def app(make_app, site, tmp_path):
    """A site recording to its own analytics file (``app.db`` is its path)."""
    db = tmp_path / "analytics.sqlite3"
    a = make_app(site / "ix", site / "corpus", {"TESTING": True}, analytics=db, allow_origins=[ORIGIN])
    a.db = db
    yield a
    close_app(a)


def store_of(app) -> st.AnalyticsStore:
    return app.extensions["zhsearch"].analytics.store


def rows(app, sql: str = "SELECT * FROM searches ORDER BY id", args=()) -> list[sqlite3.Row]:
    assert store_of(app).flush(10)
    conn = sqlite3.connect(app.db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def beacon(client, endpoint: str, body: dict | str, origin: str | None = ORIGIN, **headers):
    if origin is not None:
        headers["Origin"] = origin
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(endpoint, data=data, headers={"Content-Type": "text/plain;charset=UTF-8", **headers},
                       environ_base={"REMOTE_ADDR": CLIENT_ADDRESS})


def page_id(resp) -> str:
    m = re.search(r'data-zs-search="([^"]+)"', resp.get_data(as_text=True))
    assert m, "the results page carries its search id"
    return m.group(1)


# ------------------------------------------------------------- recording


def test_the_file_is_sqlite_in_wal_mode_beside_the_index(site, tmp_path):
    s = Settings.load(site / "corpus", tmp_path / "my-index", warmup=False)
    assert s.analytics_file == tmp_path / "my-index.analytics.sqlite3"  # beside, not inside: a rebuild keeps it
    store = st.AnalyticsStore(tmp_path / "a.sqlite3").start()
    try:
        conn = sqlite3.connect(tmp_path / "a.sqlite3")
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == st.SCHEMA_VERSION
        assert store.state == "ok" and len(store.keys) == 1
        conn.close()
    finally:
        store.close()


def test_results_page_api_and_settled_widget_searches_are_recorded(app):
    c = app.test_client()
    assert c.get("/search?q=Redis 持久化").status_code == 200
    assert c.get("/search?tag=运维").status_code == 200  # browsing a tag is not a search
    r = c.get("/api/search?q=kubernetes&per_page=1")
    assert r.status_code == 200 and r.headers["X-Zhsearch-Search-Id"]
    keystroke = c.get("/api/search?q=kub&settled=0")
    # as-you-type: the widget's answers and settled=0 are not recorded by themselves
    for q in ("c", "ch", "cha", "chatgpt"):
        c.get(f"/api/widget?q={q}")
    assert [r["query"] for r in rows(app)] == ["Redis 持久化", "kubernetes"]
    widget = c.get("/api/widget?q=chatgpt").get_json()
    assert beacon(c, "/api/settle", {"search": widget["search_id"], "how": "idle", "page": "/notes/a.html?x=1#y"}
                  ).status_code == 204
    assert beacon(c, "/api/settle", {"search": keystroke.headers["X-Zhsearch-Search-Id"], "how": "enter"},
                  origin=None).status_code == 204
    got = {r["query"]: dict(r) for r in rows(app)}
    assert set(got) == {"Redis 持久化", "kubernetes", "chatgpt", "kub"}
    assert got["Redis 持久化"]["source"] == "page" and got["Redis 持久化"]["settled"] == "page"
    assert got["kubernetes"]["source"] == "api" and got["kubernetes"]["shown"] == 1
    assert got["chatgpt"]["source"] == "widget" and got["chatgpt"]["settled"] == "idle"
    assert got["chatgpt"]["page_path"] == "/notes/a.html"  # the host page's path, nothing more
    assert got["kub"]["settled"] == "enter" and got["kub"]["page_path"] is None
    assert got["chatgpt"]["results"] == 1 and got["chatgpt"]["folded"] == "chatgpt"
    assert got["kubernetes"]["version"]


def test_a_search_settled_twice_and_clicked_is_one_row(app):
    c = app.test_client()
    sid = c.get("/api/widget?q=ＲＥＤＩＳ 持久化").get_json()["search_id"]
    for _ in range(2):
        assert beacon(c, "/api/settle", {"search": sid, "how": "idle"}).status_code == 204
    for _ in range(2):  # the reader came back and clicked the same result again
        # the article is the one the id has at that rank, whatever the body says
        assert beacon(c, "/api/click", {"search": sid, "rank": 1, "path": "evil/forged.md"}).status_code == 204
    searches = rows(app)
    assert len(searches) == 1 and searches[0]["folded"] == "redis持久化"  # folded: width, case, spaces
    clicks = rows(app, "SELECT * FROM clicks")
    assert [(r["rank"], r["path"], r["search_id"]) for r in clicks] == [(1, "db/redis.md", searches[0]["search_id"])]


def test_a_click_settles_a_search_and_its_rank_counts_from_the_page(app):
    c = app.test_client()
    sid = c.get("/api/search?q=参数&per_page=1&page=2&settled=0").headers["X-Zhsearch-Search-Id"]
    assert beacon(c, "/api/click", {"search": sid, "rank": 1}).status_code == 204
    (click,) = rows(app, "SELECT * FROM clicks")
    assert click["rank"] == 2  # the first result of page 2 of one per page
    (search_row,) = [r for r in rows(app) if r["search_id"] == click["search_id"]]
    assert search_row["settled"] == "click" and search_row["first_rank"] == 2
    # a rank beyond what the answer showed is refused, and an answer that showed nothing has no rank 1
    assert beacon(c, "/api/click", {"search": sid, "rank": 2}).status_code == 400
    empty = c.get("/api/search?q=红烧肉&settled=0")
    assert empty.get_json()["total"] == 0
    assert beacon(c, "/api/click", {"search": empty.headers["X-Zhsearch-Search-Id"], "rank": 1}).status_code == 400
    assert len(rows(app, "SELECT * FROM clicks")) == 1


def test_beacons_are_refused_from_other_origins_and_when_forged(app):
    c = app.test_client()
    sid = c.get("/api/widget?q=redis").get_json()["search_id"]
    assert beacon(c, "/api/click", {"search": sid, "rank": 1}, origin="https://evil.example").status_code == 403
    assert beacon(c, "/api/click", {"search": sid, "rank": 1}, origin="null").status_code == 403
    assert beacon(c, "/api/settle", {"search": sid}, origin=None, **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    import base64
    import zlib

    payload, mac = sid.split(".")
    altered = json.loads(zlib.decompress(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
    altered[3] = 0  # "it found nothing"
    forged = base64.urlsafe_b64encode(zlib.compress(json.dumps(altered).encode())).rstrip(b"=").decode() + "." + mac
    bomb = base64.urlsafe_b64encode(zlib.compress(b"[" + b" " * 10_000_000 + b"]")).rstrip(b"=").decode() + "." + mac
    for body, code in (({"search": forged, "rank": 1}, 400), ({"search": "x.y", "rank": 1}, 400),
                       ({"search": bomb, "rank": 1}, 400),
                       ({"search": sid, "rank": 9}, 400), ({"search": sid, "rank": "1"}, 400),
                       ({"search": sid, "rank": True}, 400), ("not json", 400), ("[1]", 400)):
        r = beacon(c, "/api/click", body)
        assert r.status_code == code, body
        assert r.get_json()["error"]["code"] == "bad_parameter"
    assert beacon(c, "/api/click", {"search": sid, "rank": 1}, origin="http://localhost").status_code == 204
    assert beacon(c, "/api/click", {"search": sid, "rank": 1}, origin=None,
                  **{"Sec-Fetch-Site": "same-origin"}).status_code == 204
    assert len(rows(app)) == 1 and rows(app)[0]["results"] == 1


def test_cors_lets_allowed_pages_call_and_read_the_id(app):
    c = app.test_client()
    r = c.get("/api/search?q=redis", headers={"Origin": ORIGIN})
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "X-Zhsearch-Search-Id" in r.headers["Access-Control-Expose-Headers"]
    pre = c.options("/api/click", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204 and "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Origin" not in c.options(
        "/api/click", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}).headers


def test_ids_are_signed_by_the_installation_and_expire(app, tmp_path):
    rec: Recorder = app.extensions["zhsearch"].analytics
    a = Answered("abc", int(time.time()), "redis", 1, 1, 1, 1, "relevance", (), (), "widget")
    token = rec.sign(a)
    assert rec.verify(token) == a
    assert rec.verify(token, now=time.time() + 3 * 86400) is None
    other = st.AnalyticsStore(tmp_path / "other.sqlite3").start()
    try:
        assert Recorder(other, str.lower).verify(token) is None  # another installation's key
    finally:
        other.close()
    # every process of one installation signs with the same key (kept in the file)
    second = st.AnalyticsStore(app.db).start()
    try:
        assert Recorder(second, str.lower).verify(token) == a
    finally:
        second.close()


def test_privacy_no_address_cookie_or_referrer_is_kept(app, caplog):
    c = app.test_client()
    secret_ref = "https://blog.example/private/page?user=alice&session=s3cr3t"
    headers = {"Referer": secret_ref, "X-Forwarded-For": "198.51.100.9", "User-Agent": "Mozilla/5.0 (Alice)",
               "Cookie": "uid=alice-42"}
    env = {"REMOTE_ADDR": CLIENT_ADDRESS}
    with caplog.at_level(logging.DEBUG):
        responses = [c.get("/search?q=redis", headers=headers, environ_base=env),
                     c.get("/api/search?q=kubernetes", headers=headers, environ_base=env)]
        sid = c.get("/api/widget?q=chatgpt", headers=headers, environ_base=env).get_json()["search_id"]
        responses.append(beacon(c, "/api/click", {"search": sid, "rank": 1, "page": "/private/page?user=alice"},
                                **{k: v for k, v in headers.items() if k != "Origin"}))
        dump = [tuple(r) for r in rows(app)] + [tuple(r) for r in rows(app, "SELECT * FROM clicks")]
    text = json.dumps(dump, ensure_ascii=False, default=str)
    for leak in (CLIENT_ADDRESS, "198.51.100.9", "alice", "s3cr3t", "Mozilla", "blog.example"):
        assert leak not in text, leak
        assert not any(leak in r.getMessage() for r in caplog.records), leak
    assert all("Set-Cookie" not in r.headers for r in responses)
    conn = sqlite3.connect(app.db)
    columns = {row[1] for t in ("searches", "clicks", "dropped", "meta")
               for row in conn.execute(f"PRAGMA table_info({t})")}
    conn.close()
    assert not columns & {"ip", "address", "remote_addr", "user", "user_id", "cookie", "session", "referrer",
                          "referer", "user_agent"}


def test_no_analytics_records_nothing(make_app, site, tmp_path):
    a = make_app(site / "ix", site / "corpus", analytics_enabled=False)
    c = a.test_client()
    assert c.get("/search?q=redis").status_code == 200
    assert "data-zs-search" not in c.get("/search?q=redis").get_data(as_text=True)
    assert c.get("/api/widget?q=redis").get_json()["search_id"] is None
    assert "X-Zhsearch-Search-Id" not in c.get("/api/search?q=redis").headers
    assert not (site / "ix.analytics.sqlite3").exists()
    assert beacon(c, "/api/click", {"search": "x.y", "rank": 1}).status_code == 400


def test_settings_from_flags_and_environment(site, tmp_path, monkeypatch):
    monkeypatch.setenv("ZHSEARCH_ANALYTICS", str(tmp_path / "env.sqlite3"))
    monkeypatch.setenv("ZHSEARCH_ADMIN_TOKEN", "t" * 16)
    s = Settings.load(site / "corpus", site / "ix")
    assert s.analytics_file == tmp_path / "env.sqlite3" and s.admin_token == "t" * 16
    assert "t" * 16 not in repr(s)  # the token never lands in a log line that prints the settings
    assert Settings.load(site / "corpus", site / "ix", analytics=tmp_path / "flag.db").analytics_file == \
        tmp_path / "flag.db"
    monkeypatch.setenv("ZHSEARCH_ANALYTICS", "off")
    assert Settings.load(site / "corpus", site / "ix").analytics_file is None
    monkeypatch.delenv("ZHSEARCH_ANALYTICS")
    assert Settings.load(site / "corpus", site / "ix", analytics_enabled=False).analytics_file is None
    for bad in ({"admin_token": "short"}, {"admin_token": "has a space in it!!"}, {"analytics_days": 0}):
        with pytest.raises(ValueError):
            Settings.load(site / "corpus", site / "ix", **bad)
    r = CliRunner().invoke(main, ["serve", "--index", str(site / "ix"), "--admin-token", "short"])
    assert r.exit_code == 2 and "16 or more" in r.output


# ------------------------------------------------------------- the store


def test_an_older_schema_is_migrated_keeping_its_rows(tmp_path):
    db = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    for statement in st._statements(st.MIGRATIONS[0][1]):
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO searches (search_id, ts, query, folded, results, page, first_rank, shown, sort, "
                 "source, settled, version) VALUES ('old', ?, 'redis', 'redis', 3, 1, 1, 3, 'relevance', 'page', "
                 "'page', '0.0.1')", (int(time.time()),))
    conn.close()
    store = st.AnalyticsStore(db).start()
    try:
        store.put(st.ClickRow("old", int(time.time()), 1, "db/redis.md"))
        assert store.flush(10)
    finally:
        store.close()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == st.SCHEMA_VERSION
    assert conn.execute("SELECT query FROM searches").fetchall() == [("redis",)]
    assert conn.execute("SELECT COUNT(*) FROM dropped").fetchone() == (0,)  # the table version 2 added
    conn.close()


def test_a_newer_schema_is_left_alone(tmp_path, caplog):
    db = tmp_path / "new.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE future (x)")
    conn.execute(f"PRAGMA user_version = {st.SCHEMA_VERSION + 5}")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    with caplog.at_level(logging.WARNING):
        store = st.AnalyticsStore(db, retry_first=0.01, retry_max=0.02).start()
        store.put(st.ClickRow("x", 1, 1, None))
        time.sleep(0.1)
        store.close(timeout=1)
    assert db.read_bytes() == before and not list(tmp_path.glob("*.corrupt-*"))
    assert any("newer" in r.getMessage() for r in caplog.records)


def test_queue_full_drops_the_oldest_and_counts_them(tmp_path, caplog):
    db = tmp_path / "locked.sqlite3"
    store = st.AnalyticsStore(db, queue_size=10, busy_timeout=0.05, retry_first=0.02, retry_max=0.05).start()
    try:
        blocker = sqlite3.connect(db, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with caplog.at_level(logging.WARNING):
            for i in range(25):
                store.put(st.SearchRow(f"s{i}", int(time.time()), f"q{i}", f"q{i}", 1, 1, 1, 1, "relevance",
                                       None, "api", "api", None, "test"))
            deadline = time.monotonic() + 10
            while store.state != "locked" and time.monotonic() < deadline:
                time.sleep(0.01)
            assert store.state == "locked" and store.pending() <= 10
        blocker.execute("ROLLBACK")
        blocker.close()
        assert store.flush(10)
    finally:
        store.close()
    conn = sqlite3.connect(db)
    assert [q for (q,) in conn.execute("SELECT query FROM searches ORDER BY id")] == [f"q{i}" for i in range(15, 25)]
    assert conn.execute("SELECT SUM(rows) FROM dropped").fetchone() == (15,)
    conn.close()
    assert store.dropped == 15
    messages = [r.getMessage() for r in caplog.records]
    assert any("locked" in m for m in messages) and any("queue full" in m for m in messages)


def test_a_corrupt_file_is_moved_aside_at_start(tmp_path, caplog):
    db = tmp_path / "a.sqlite3"
    db.write_bytes(b"this is not a database at all\n" * 200)
    with caplog.at_level(logging.WARNING):
        store = st.AnalyticsStore(db).start()
    try:
        assert store.state == "ok"
        store.put(st.ClickRow("x", 1, 1, None))
        assert store.flush(10)
    finally:
        store.close()
    (aside,) = tmp_path.glob("a.sqlite3.corrupt-*")
    assert aside.read_bytes().startswith(b"this is not a database")
    assert sqlite3.connect(db).execute("SELECT COUNT(*) FROM clicks").fetchone() == (1,)
    assert any("corrupt" in r.getMessage() and "moved aside" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("how", ["overwritten", "replaced"])
def test_a_file_corrupted_while_running_is_moved_aside(tmp_path, caplog, how):
    db = tmp_path / "a.sqlite3"
    store = st.AnalyticsStore(db).start()
    try:
        store.put(st.ClickRow("before", 1, 1, None))
        assert store.flush(10)
        if how == "overwritten":  # something wrote over the file in place
            with open(db, "r+b") as f:
                f.write(b"\xde\xad\xbe\xef" * 1024)
        else:  # or put another file in its place
            tmp = tmp_path / "junk"
            tmp.write_bytes(b"junk" * 1024)
            tmp.replace(db)
        with caplog.at_level(logging.WARNING):
            store.put(st.ClickRow("after", 2, 1, None))
            assert store.flush(10)
        assert store.state == "ok"
    finally:
        store.close()
    assert list(tmp_path.glob("a.sqlite3.corrupt-*"))
    assert sqlite3.connect(db).execute("SELECT search_id FROM clicks").fetchall() == [("after",)]


def test_old_rows_are_pruned(tmp_path):
    db = tmp_path / "a.sqlite3"
    now = time.time()
    conn = st.connect(db)
    for sid, age in (("old", 100), ("new", 1)):
        conn.execute("INSERT INTO searches (search_id, ts, query, folded, results, page, first_rank, shown, sort, "
                     "source, settled, version) VALUES (?, ?, 'q', 'q', 1, 1, 1, 1, 'relevance', 'page', 'page', 'x')",
                     (sid, int(now - age * 86400)))
        conn.execute("INSERT INTO clicks (search_id, ts, rank) VALUES (?, ?, 1)", (sid, int(now - age * 86400)))
    conn.close()
    store = st.AnalyticsStore(db, days=90).start()  # prunes when it starts, then hourly
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            c = sqlite3.connect(db)
            left = c.execute("SELECT search_id FROM searches").fetchall()
            c.close()
            if left == [("new",)]:
                break
            time.sleep(0.02)
    finally:
        store.close()
    c = sqlite3.connect(db)
    assert c.execute("SELECT search_id FROM searches").fetchall() == [("new",)]
    assert c.execute("SELECT search_id FROM clicks").fetchall() == [("new",)]


def test_a_query_is_shown_as_typed_most_often_and_a_tie_as_typed_last(tmp_path):
    """Rows of one folded query in the same second: the form typed most
    often names the row; between forms typed as often, the one typed last."""
    db = tmp_path / "a.sqlite3"
    st.AnalyticsStore(db).start().close()
    conn = sqlite3.connect(db)
    now = int(time.time())
    for i, q in enumerate(["Redis 持久化", "redis 持久化", "REDIS 持久化", "redis 持久化", "Redis 持久化"]):
        conn.execute("INSERT INTO searches (search_id, ts, query, folded, results, page, first_rank, shown, sort, "
                     "source, settled, version) VALUES (?, ?, ?, 'redis 持久化', 1, 1, 1, 1, 'relevance', 'page', "
                     "'page', 'x')", (f"s{i}", now, q))
    conn.commit()
    assert [r.query for r in build(conn, db, 7).top] == ["Redis 持久化"]  # twice, and typed after "redis"
    conn.execute("DELETE FROM searches WHERE search_id = 's4'")
    conn.commit()
    assert [r.query for r in build(conn, db, 7).top] == ["redis 持久化"]  # now the only one typed twice
    conn.close()


# ------------------------------------------------------------- the report


def seed(app) -> None:
    """Searches as readers would make them."""
    c = app.test_client()

    def settle(q: str, click: int | None = None, path: str | None = None) -> None:
        answer = c.get("/api/widget", query_string={"q": q}).get_json()
        sid = answer["search_id"]
        if click:
            assert answer["hits"][click - 1]["path"] == path
            assert beacon(c, "/api/click", {"search": sid, "rank": click}).status_code == 204
        else:
            assert beacon(c, "/api/settle", {"search": sid, "how": "idle"}).status_code == 204

    for _ in range(3):
        settle("Redis 持久化", 1, "db/redis.md")
    settle("redis持久化")  # the same query, typed another way: no click
    settle("kubernetes", 2, "k8s/deploy.md")
    settle("kubernetes")
    settle("RDB")  # found, never clicked
    # words the built-in glossary does not bridge (it knows k8s, kube and RAG)
    for q in ("a11y", "a11y", "canshu", "chatgtp", "sse", "accessib", "红烧肉"):
        settle(q)
    c.get("/search?q=docker 镜像")  # found nothing either
    c.get("/api/search?q=chatgpt")


def test_the_report_tables(app, site):
    seed(app)
    assert store_of(app).flush(10)
    from search.engine import Engine

    conn = open_db(app.db)
    try:
        rep = build(conn, app.db, 30, engine=Engine(site / "ix"))
    finally:
        conn.close()
    assert rep.searches == 16 and rep.clicks == 4
    assert rep.sources == {"widget": 14, "page": 1, "api": 1}
    top = {r.key: r for r in rep.top}
    redis = top["redis持久化"]
    assert (redis.query, redis.searches, redis.clicked, redis.clickable) == ("Redis 持久化", 4, 3, 4)
    assert redis.ctr == 0.75 and (redis.top_path, redis.top_clicks) == ("db/redis.md", 3)
    assert rep.top[0].key == "redis持久化" and top["a11y"].searches == 2
    none = {r.query: r.offers for r in rep.no_results}
    assert set(none) == {"a11y", "canshu", "chatgtp", "sse", "accessib", "红烧肉", "docker 镜像"}
    assert none["a11y"]["synonym"] == "accessibility"  # a numeronym spelled out
    assert none["accessib"]["synonym"] == "accessibility"  # the word a prefix begins
    assert none["sse"]["synonym"] == "Server-Sent Events"  # an acronym a title spells out
    assert none["canshu"]["pinyin"] == "参数" and none["canshu"]["did_you_mean"] is None
    assert none["chatgtp"]["did_you_mean"] == "chatgpt"
    assert none["chatgtp"]["closest_path"] == "llm/chatgpt.md"
    assert none["红烧肉"]["closest_title"] is None  # nothing in the index is like it
    assert [(r.query, r.clickable, r.results) for r in rep.no_clicks] == [("RDB", 1, 1)]
    ranks = {r.rank: r for r in rep.ranks}
    # shown: widget and page searches whose answer had that rank (Redis x4, kubernetes x2, RDB)
    assert [(ranks[n].shown, ranks[n].clicks) for n in (1, 2, 3)] == [(7, 3), (2, 1), (0, 0)]
    assert ranks[1].ctr == 3 / 7 and ranks[3].ctr is None
    today = rep.per_day[-1]
    assert (today.searches, today.clicks, today.no_results) == (16, 4, 8)
    assert len(rep.per_day) == 31
    text = format_text(rep)
    for needle in ("Top queries", "Redis 持久化", "kubernetes", "Server-Sent Events", "参数",
                   "Click-through rate by rank", "Searches per day"):
        assert needle in text, needle


def test_zhsearch_analytics_command(app, site):
    seed(app)
    assert store_of(app).flush(10)
    args = ["analytics", "--index", str(site / "ix"), "--analytics", str(app.db)]
    r = CliRunner().invoke(main, [*args, "--json", "--days", "7"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output[r.output.index("{"):])
    assert data["searches"] == 16 and data["days"] == 7 and len(data["per_day"]) == 8
    assert data["top"][0]["query"] == "Redis 持久化" and data["top"][0]["ctr"] == 0.75
    assert {"did_you_mean", "pinyin", "synonym", "closest_title", "closest_path"} <= set(data["no_results"][0]["offers"])
    assert [r["rank"] for r in data["ctr_by_rank"]] == list(range(1, 11))
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0 and "Searches with no result" in text.output
    missing = CliRunner().invoke(main, ["analytics", "--analytics", str(Path(app.db).with_name("nope.db"))])
    assert missing.exit_code == 1 and "no analytics recorded yet" in missing.output


def test_concurrent_writer_processes_lose_nothing(tmp_path):
    """Two processes (as ``serve --workers 2`` has), each with its writer
    thread, writing one file at the same time: every row arrives.

    They write in three rounds that start together (a barrier), each round
    committed before the next: however the machine schedules them, both
    hold the file open and commit while the other does, and the rows of the
    two interleave (an earlier version relied on timing for that and once
    saw one process finish before the other began)."""
    import multiprocessing

    db = tmp_path / "shared.sqlite3"
    n, rounds = 1500, 3
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2, timeout=60)
    procs = [ctx.Process(target=_write_rows, args=(db, name, n, rounds, barrier)) for name in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    conn = sqlite3.connect(db)
    got = conn.execute("SELECT substr(search_id, 1, 1), COUNT(*), COUNT(DISTINCT search_id) FROM searches "
                       "GROUP BY 1 ORDER BY 1").fetchall()
    assert got == [("a", n, n), ("b", n, n)]
    order = [sid[0] for (sid,) in conn.execute("SELECT search_id FROM searches ORDER BY id")]
    conn.close()
    assert sum(1 for x, y in pairwise(order) if x != y) >= rounds


def _write_rows(db, name: str, n: int, rounds: int, barrier) -> None:
    store = st.AnalyticsStore(db).start()
    per_round = n // rounds
    for r in range(rounds):
        barrier.wait()
        for i in range(r * per_round, n if r == rounds - 1 else (r + 1) * per_round):
            store.put(st.SearchRow(f"{name}{i}", int(time.time()), f"q{i}", f"q{i}", 1, 1, 1, 1, "relevance",
                                   None, "api", "api", None, "test"))
            if i % 50 == 0:
                time.sleep(0.002)  # requests arrive over time, not all at once
        if not store.flush(30):
            os._exit(2)
        barrier.wait()  # both rounds committed before either starts the next
    assert store.close(30)
    os._exit(0 if store.pending() == 0 else 1)


def test_the_development_server_logs_no_address():
    from web.server import dev_request_handler

    cls = dev_request_handler()
    handler = cls.__new__(cls)
    handler.client_address = (CLIENT_ADDRESS, 4242)
    assert handler.address_string() == "-"
