"""Analytics in a real ``zhsearch serve``: two worker processes under load lose
no row; a database corrupted while searches go on is moved aside and a new
one started; a full disk (a small tmpfs) is a warning while searches go on,
and the rows written once there is room again; no address in any log line
or column.  Real processes, real sockets, real SQLite files."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import ROOT, build_site, free_port

pytestmark = pytest.mark.slow

ORIGIN = "https://blog.example"
#: The readers' address: the client binds to it, and it must appear nowhere.
READER = "127.0.0.3"
ARTICLES = {
    "db/redis.md": "---\ntitle: Redis 持久化\n---\n\nRedis 持久化有 RDB 和 AOF 两种方式。Redis 是内存数据库。\n",
    "db/mysql.md": "---\ntitle: MySQL 索引\n---\n\nMySQL 的 B+ 树索引，Redis 也可以做缓存。\n",
    "k8s/intro.md": "---\ntitle: Kubernetes 入门\n---\n\nKubernetes 是容器编排系统。\n",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build_site(tmp_path_factory.mktemp("serve-analytics"), ARTICLES)



class Server:
    """``zhsearch serve`` in its own process group; stderr collected as it comes
    (a full pipe would block the server's logging)."""

    def __init__(self, site: Path, db: Path, *flags: str) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        env.pop("ZHSEARCH_ANALYTICS", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "zhsearch", "serve", "--corpus", str(site / "corpus"), "--index",
             str(site / "ix"), "--port", str(self.port), "--analytics", str(db), "--allow-origin", ORIGIN, *flags],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 60
        while True:
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("zhsearch serve did not start:\n" + self.log)
            time.sleep(0.1)

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None
                ) -> tuple[int, dict, bytes]:
        """One request on a new connection (so the kernel spreads them over the
        workers), from the reader's address."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60, source_address=(READER, 0))
        try:
            conn.request(method, path, body=body.encode() if body else None, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def search(self, q: str) -> int:
        status, _h, _b = self.request("GET", "/api/search?" + urllib.parse.urlencode({"q": q}))
        return status

    def wait_log(self, pattern: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.log):
            if time.monotonic() > deadline:
                raise AssertionError(f"no log line matching {pattern!r} within {timeout} s:\n{self.log[-4000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it: the workers write what they have queued."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            raise AssertionError("zhsearch serve did not stop on SIGTERM:\n" + self.log) from None


@contextlib.contextmanager
def serving(site: Path, db: Path, *flags: str) -> Iterator[Server]:
    server = Server(site, db, *flags)
    try:
        yield server
    finally:
        server.stop()


def queries(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [q for (q,) in conn.execute("SELECT query FROM searches ORDER BY id")]
    finally:
        conn.close()


def wait_rows(db: Path, n: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if len(queries(db)) >= n:
                return
        except sqlite3.Error:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"fewer than {n} rows after {timeout} s")
        time.sleep(0.05)


def test_two_workers_under_load_lose_no_row_and_keep_no_address(site, tmp_path):
    db = tmp_path / "analytics.sqlite3"
    sent: dict[str, int] = {}
    lock = threading.Lock()

    def reader(n: int) -> list[tuple[str, int]]:
        """One reader's searches: the results page, the API, the widget settled, the widget clicked."""
        done = []
        for i in range(60):
            q = f"redis {n}-{i}"
            kind = i % 4
            if kind == 0:
                status = server.request("GET", "/search?" + urllib.parse.urlencode({"q": q}),
                                        headers={"Referer": f"http://{READER}/secret?x=1"})[0]
            elif kind == 1:
                status = server.search(q)
            else:
                s, _h, body = server.request("GET", "/api/widget?" + urllib.parse.urlencode({"q": q}),
                                             headers={"Origin": ORIGIN})
                assert s == 200
                sid = json.loads(body)["search_id"]
                endpoint, payload = (("/api/settle", {"search": sid, "how": "idle", "page": "/notes/"}) if kind == 2
                                     else ("/api/click", {"search": sid, "rank": 1}))
                status = server.request("POST", endpoint, json.dumps(payload),
                                        {"Origin": ORIGIN, "Content-Type": "text/plain;charset=UTF-8"})[0]
                status = 200 if status == 204 else status
            done.append((q, status))
            with lock:
                sent[q] = kind
        return done

    with serving(site, db, "--workers", "2", "--threads", "4") as server:
        with ThreadPoolExecutor(8) as pool:
            results = [r for rs in pool.map(reader, range(8)) for r in rs]
        assert all(status == 200 for _q, status in results), [r for r in results if r[1] != 200][:5]
    assert "serving with 2 worker processes" in server.log
    assert server.log.count("analytics: recording searches to") == 2  # two writers, one file
    got = queries(db)
    assert sorted(got) == sorted(sent)  # every search, once: nothing lost, nothing doubled
    conn = sqlite3.connect(db)
    clicks = conn.execute("SELECT COUNT(*) FROM clicks").fetchone()[0]
    dropped = conn.execute("SELECT COALESCE(SUM(rows), 0) FROM dropped").fetchone()[0]
    values = json.dumps([list(r) for t in ("searches", "clicks", "meta")
                         for r in conn.execute(f"SELECT * FROM {t}")], ensure_ascii=False)
    conn.close()
    assert clicks == sum(1 for k in sent.values() if k == 3) and dropped == 0
    # privacy: the readers' address is in no column and no log line
    assert READER not in values and "secret?x=1" not in values
    assert READER not in server.log


def test_a_database_corrupted_while_searches_go_on(site, tmp_path):
    db = tmp_path / "analytics.sqlite3"
    with serving(site, db, "--workers", "2") as server:
        before = [f"redis before {i}" for i in range(10)]
        assert all(server.search(q) == 200 for q in before)
        wait_rows(db, len(before))
        with open(db, "r+b") as f:  # something writes over the file while the server runs
            f.write(os.urandom(8192))
        after = [f"redis after {i}" for i in range(20)]
        assert all(server.search(q) == 200 for q in after)  # searching goes on
        server.wait_log(r"is corrupt .*moved aside to analytics\.sqlite3\.corrupt-")
        wait_rows(db, len(after))
        more = [f"redis later {i}" for i in range(5)]
        assert all(server.search(q) == 200 for q in more)
    assert sorted(queries(db)) == sorted(after + more)  # a new file, every row since the damage
    (aside,) = [p for p in tmp_path.iterdir() if re.fullmatch(r"analytics\.sqlite3\.corrupt-[\d-]+", p.name)]
    assert aside.stat().st_size >= 8192


@contextlib.contextmanager
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A 1 MiB tmpfs (we run as root in CI); where mounting is not allowed, the
    closest real thing: the same directory and a file-size limit set on the
    server process (``prlimit``), which makes its writes fail the same way."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    mounted = r.returncode == 0 and not os.environ.get("ZHSEARCH_TEST_NO_MOUNT")
    if r.returncode == 0 and not mounted:
        subprocess.run(["umount", str(mnt)], check=False)
    try:
        yield mnt, ("tmpfs" if mounted else "prlimit")
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_is_a_warning_while_searches_go_on(site, tmp_path):
    import resource

    with small_disk(tmp_path) as (disk, how):
        db = disk / "analytics.sqlite3"
        with serving(site, db) as server:
            first = [f"redis first {i}" for i in range(5)]
            assert all(server.search(q) == 200 for q in first)
            wait_rows(db, len(first))
            filler = disk / "filler"
            if how == "tmpfs":
                fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
                try:  # fill the disk to the last byte
                    for chunk in (65536, 4096, 512, 1):
                        with contextlib.suppress(OSError):
                            while True:
                                os.write(fd, b"\0" * chunk)
                finally:
                    os.close(fd)
            else:
                # no write to any file of the server's goes through (a full disk still lets a
                # WAL that restarts reuse its blocks: the limit is the stricter of the two)
                resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
            full = [f"redis full {i}" for i in range(30)]
            assert all(server.search(q) == 200 for q in full)  # searches never wait for analytics
            server.wait_log(r"analytics: cannot write .*searching goes on")
            assert len(queries(db)) == len(first)
            if how == "tmpfs":
                filler.unlink()
            else:
                resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE,
                                 (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            server.wait_log(r"analytics: writing to .* again after")  # the writer retried on its own
            wait_rows(db, len(first) + len(full))
        assert sorted(queries(db)) == sorted(first + full)  # within the queue's bound, nothing lost
        if how == "tmpfs":
            assert "(disk full)" in server.log
