"""The watch never dies and never goes blind.

Real watchers on this machine's file system: in a thread of the test
process (as ``serve --watch`` runs it) and as real ``zhsearch serve --watch``
processes answering a client that polls them while the corpus folder is
replaced (``rm -rf`` and a copy), swapped by rename, given GBK-named files,
or its watcher process killed.  Deadlines are generous and never timing
assertions: the 8-second promise is the watcher's half-second check of the
corpus path plus an ordinary update.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from indexer.build import corpus_dirs
from indexer.watchstate import FAILED_AFTER_S, WatchState, WatchStatus
from tests.conftest import build_index, free_port, write_article
from tests.test_server import _children
from tests.test_watch import Lines, Watching, _search, _start, _stop, article, wait_for

GBK_NAME = "压缩包.md".encode("gbk")
GBK_DIR = "资料".encode("gbk")


def _write_bytes_name(folder: Path, rel: bytes, text: str) -> None:
    path = os.path.join(os.fsencode(folder), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(text.encode("utf-8"))


def _healthz(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return json.load(r)
    except OSError:
        return {}


class Poller:
    """A client that keeps searching and asking /healthz while the corpus moves
    under the server; it counts every request that failed."""

    def __init__(self, port: int) -> None:
        self.port, self.requests, self.failures = port, 0, []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            for path in ("/api/search?q=Kafka", "/healthz"):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as r:
                        r.read()
                        if r.status != 200:
                            self.failures.append((path, r.status))
                except OSError as exc:
                    self.failures.append((path, repr(exc)))
                self.requests += 1
            time.sleep(0.05)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(15)


@pytest.fixture
def corpus(tmp_path) -> Path:
    c = tmp_path / "corpus"
    write_article(c, "redis.md", article("Redis 持久化", "Redis 的快照与追加文件。"))
    write_article(c, "kafka.md", article("Kafka 分区", "Kafka 的分区与副本。"))
    return c


# ---------------------------------------------------------- in a thread

@pytest.mark.slow  # real processes and waiting: the full suite runs it, the quick loop does not
def test_gbk_names_neither_stop_nor_blind_the_watch(corpus, tmp_path):
    build_index(corpus, tmp_path / "ix")
    w = Watching(corpus, tmp_path / "ix").start()
    try:
        _write_bytes_name(corpus, GBK_NAME, article("压缩包里的文章", "解压出来的跳表笔记。"))
        wait_for(lambda: len(w.paths("跳表")) == 1, what="the GBK-named article")
        # a GBK-named folder (watchfiles cannot be given its name: it is polled)
        _write_bytes_name(corpus, GBK_DIR + b"/inside.md", article("目录里的文章", "解压出来的红黑树笔记。"))
        wait_for(lambda: len(w.paths("红黑树")) == 1, what="the article in a GBK-named folder")
        write_article(corpus, "later.md", article("之后的文章", "之后写的布隆过滤器笔记。"))
        wait_for(lambda: w.paths("布隆过滤器") == {"later.md"}, what="an ordinary article after them")
        _write_bytes_name(corpus, GBK_DIR + b"/inside.md", article("目录里的文章", "改成了前缀树笔记。"))
        wait_for(lambda: len(w.paths("前缀树")) == 1, what="an edit in the GBK-named folder")
        assert w.thread.is_alive() and w.status.state is WatchState.WATCHING
    finally:
        w.close()


@pytest.mark.slow  # real processes and waiting: the full suite runs it, the quick loop does not
def test_a_subfolder_replaced_by_a_copy_is_watched_again(corpus, tmp_path):
    write_article(corpus, "docs/a.md", article("文档", "文档里的旧内容。"))
    build_index(corpus, tmp_path / "ix")
    w = Watching(corpus, tmp_path / "ix").start()
    try:
        fresh = tmp_path / "docs-v2"
        write_article(fresh, "a.md", article("文档", "新版文档里的仲裁节点。"))
        shutil.rmtree(corpus / "docs")
        shutil.copytree(fresh, corpus / "docs")  # the new folder may even get the old one's inode number
        wait_for(lambda: w.paths("仲裁节点") == {"docs/a.md"}, what="the copied folder")
        write_article(corpus, "docs/b.md", article("新文章", "新文件夹里的选举超时。"))
        wait_for(lambda: w.paths("选举超时") == {"docs/b.md"}, what="an edit in the new folder")
    finally:
        w.close()


@pytest.mark.slow  # real processes and waiting: the full suite runs it, the quick loop does not
def test_the_watch_follows_the_indexers_symlink_rule(corpus, tmp_path):
    """A symlinked folder the indexer ignores costs no inotify watch
    (``shared -> /usr`` cost 15,608)."""
    big = tmp_path / "elsewhere"
    for i in range(40):
        write_article(big, f"d{i}/sub/x.md", "# 外面\n")
    (corpus / "shared").symlink_to(big, target_is_directory=True)
    write_article(corpus, "docs/guide/intro.md", article("指南", "正文。"))
    build_index(corpus, tmp_path / "ix")
    before = _inotify_watches()
    w = Watching(corpus, tmp_path / "ix").start()
    try:
        watches = _inotify_watches() - before
        assert watches == len(corpus_dirs(corpus)) == 3  # corpus, docs, docs/guide: not the 81 linked folders
        write_article(big, "d1/sub/new.md", article("外面的新文章", "不该被收录的倒排索引。"))
        write_article(corpus, "docs/new.md", article("里面的新文章", "应该被收录的拉链法。"))
        wait_for(lambda: w.paths("拉链法") == {"docs/new.md"}, what="the article inside")
        assert w.paths("倒排索引") == set()
    finally:
        w.close()


def _inotify_watches() -> int:
    n = 0
    for fd in os.listdir("/proc/self/fdinfo"):
        try:
            with open(f"/proc/self/fdinfo/{fd}", encoding="ascii", errors="replace") as f:
                n += sum(1 for line in f if line.startswith("inotify wd:"))
        except OSError:
            pass
    return n


@pytest.mark.slow  # real processes and waiting: the full suite runs it, the quick loop does not
def test_a_failed_watcher_is_restarted_with_backoff_and_says_so(corpus, tmp_path, monkeypatch, caplog):
    """The fault is injected where the file-system watcher itself fails (an
    inotify error, say): the first arming raises."""
    import watchfiles

    real = watchfiles.watch
    calls = []

    def failing_once(*paths, **kw):
        calls.append(kw.get("force_polling"))
        if len(calls) == 1:
            raise OSError(28, "inotify watch limit reached")
        return real(*paths, **kw)

    monkeypatch.setattr(watchfiles, "watch", failing_once)
    build_index(corpus, tmp_path / "ix")
    caplog.set_level(logging.INFO, logger="indexer.watch")
    w = Watching(corpus, tmp_path / "ix")
    w.indexer.load()
    w.thread.start()
    try:
        wait_for(lambda: w.status.state is WatchState.RESTARTING or w.reports, what="the restart")
        wait_for(lambda: w.status.state is WatchState.WATCHING, what="the watch again")
        write_article(corpus, "etcd.md", article("Etcd 选主", "Etcd 使用 Raft 协议选主。"))
        wait_for(lambda: w.paths("Raft 协议") == {"etcd.md"}, what="an edit after the restart")
    finally:
        w.close()
    logged = [r.getMessage() for r in caplog.records]
    assert any("the watcher failed (OSError: [Errno 28] inotify watch limit reached); restarting it in 1 s" in m
               for m in logged), logged
    assert any("watching" in m and "again" in m for m in logged)
    assert w.status.get()["restarts"] == 1 and len(calls) >= 2


def test_the_state_turns_failed_when_restarts_do_not_help():
    status = WatchStatus()
    status.set(WatchState.WATCHING, now=1000.0)
    status.set(WatchState.RESTARTING, "boom", now=1010.0)
    status.set(WatchState.RESTARTING, "boom again", now=1030.0)
    got = status.get(now=1030.0)
    assert got["state"] == "restarting" and got["for_s"] == 20.0 and got["restarts"] == 2  # since the first failure
    assert got["error"] == "boom again"
    assert status.get(now=1010.0 + FAILED_AFTER_S)["state"] == "failed"  # still retried, but someone should look
    status.set(WatchState.WATCHING, now=1100.0)
    assert status.get(now=1101.0)["state"] == "watching"


def _watching_server(corpus: Path, index: Path, workers: int = 1) -> tuple:
    """A real ``zhsearch serve --watch`` whose /healthz says its watch is in
    place: (process, port, its stderr lines)."""
    port = free_port()
    proc = _start("serve", "--watch", "--workers", str(workers), "--threads", "2", "--port", str(port),
                  "--corpus", str(corpus), "--index", str(index))
    err = Lines(proc.stderr)
    wait_for(lambda: _healthz(port).get("watch", {}).get("state") == "watching" or proc.poll() is not None, 90,
             "the watch")
    assert proc.poll() is None, "\n".join(err.lines[-30:])
    return proc, port, err


# ------------------------------------------------------ real servers

@pytest.mark.slow
def test_serve_watch_indexes_a_gbk_named_file(corpus, tmp_path):
    proc, port, err = _watching_server(corpus, tmp_path / "ix")
    try:
        _write_bytes_name(corpus, GBK_NAME, article("压缩包里的文章", "解压出来的跳表笔记。"))
        wait_for(lambda: len(_search(port, "跳表")) == 1, what="the GBK-named article on the site")
        [key] = _search(port, "跳表")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/a/{urllib.parse.quote(key)}", timeout=10) as r:
            assert r.status == 200 and "解压出来的跳表笔记" in r.read().decode()
        assert err.having("watch: 1 added (压缩包.md)")  # the log shows the name readably
        write_article(corpus, "after.md", article("之后", "之后的布隆过滤器。"))
        wait_for(lambda: _search(port, "布隆过滤器") == {"after.md"}, what="the next article")
        assert _healthz(port)["watch"]["state"] == "watching"
        rc = _stop(proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            _stop(proc, signal.SIGKILL)
    assert rc == 0 and not err.having("Traceback"), "\n".join(err.lines[-30:])


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_a_replaced_or_renamed_corpus_is_followed_by_its_path(corpus, tmp_path, workers):
    proc, port, err = _watching_server(corpus, tmp_path / "ix", workers)
    poller = None
    try:
        poller = Poller(port)

        # a deploy by rm -rf and a fresh copy
        release = tmp_path / "release-1"
        shutil.copytree(corpus, release)
        write_article(release, "etcd.md", article("Etcd 选主", "Etcd 使用 Raft 协议选主。"))
        shutil.rmtree(corpus)
        shutil.copytree(release, corpus)
        wait_for(lambda: _search(port, "Raft 协议") == {"etcd.md"}, what="the copied corpus (catch-up)")
        write_article(corpus, "zk.md", article("ZooKeeper", "ZooKeeper 的会话与临时节点。"))  # not blind after it
        wait_for(lambda: _search(port, "临时节点") == {"zk.md"}, what="an edit in the new folder")

        # a deploy by rename: the new folder takes the path, the old one moves away
        staged = tmp_path / "corpus.new"
        shutil.copytree(corpus, staged)
        write_article(staged, "raft.md", article("Raft 日志", "Raft 的日志复制与快照。"))
        corpus.rename(tmp_path / "corpus.old")
        staged.rename(corpus)
        wait_for(lambda: _search(port, "日志复制") == {"raft.md"}, what="the renamed-in corpus (catch-up)")
        write_article(corpus, "paxos.md", article("Paxos", "Paxos 的提议与接受。"))
        wait_for(lambda: _search(port, "提议与接受") == {"paxos.md"}, what="an edit in the renamed-in folder")
        write_article(tmp_path / "corpus.old", "stale.md", article("旧目录", "旧目录里的一致性哈希。"))
        time.sleep(2)  # the old folder is not watched any more
        assert _search(port, "一致性哈希") == set()
        health = _healthz(port)
        assert health["watch"]["state"] == "watching" and health["generation_age_s"] >= 0
        poller.close()
        assert poller.requests > 10 and poller.failures == [], poller.failures[:5]
        assert err.having("is another folder now (replaced or renamed); following it")
        rc = _stop(proc, signal.SIGTERM if workers == 1 else signal.SIGINT)
    finally:
        if poller is not None:
            poller.close()
        if proc.poll() is None:
            _stop(proc, signal.SIGKILL)
    assert rc == 0 and not err.having("Traceback"), "\n".join(err.lines[-30:])


@pytest.mark.slow
def test_a_killed_watch_process_comes_back_and_healthz_says_what_happens(corpus, tmp_path):
    proc, port, err = _watching_server(corpus, tmp_path / "ix", workers=2)
    try:
        line = wait_for(lambda: err.having("(sidecar)"), what="the process list")[0]
        listed = [p.strip() for p in line.split(":", 1)[1].split(",")]  # "123, 124, 125 (sidecar)"
        workers = {int(p) for p in listed if p.isdigit()}
        for n in range(1, 4):  # a watcher that dies as soon as it starts
            [watcher] = wait_for(lambda: (_children(proc.pid) - workers) or None, what="a watcher")
            os.kill(watcher, signal.SIGKILL)
            wait_for(lambda watcher=watcher: watcher not in _children(proc.pid), what="the watcher reaped")
            health = wait_for(lambda n=n: (h := _healthz(port)) and h["watch"]["restarts"] == n and h,
                              what="/healthz saying so")  # every worker reads the sidecar's state
            assert health["status"] == "ok" and health["watch"]["state"] == "restarting"
            assert "the watch process ended (exit status -9)" == health["watch"]["error"]
        assert health["watch"]["since"] and health["watch"]["for_s"] >= 0
        assert len(err.having("starts again in")) == 3  # backoff: 1 s, 2 s, 4 s
        assert _search(port, "Kafka 分区") == {"kafka.md"}  # the site went on serving
        wait_for(lambda: _healthz(port)["watch"]["state"] == "watching", what="the watch back")
        write_article(corpus, "etcd.md", article("Etcd 选主", "Etcd 使用 Raft 协议选主。"))
        wait_for(lambda: _search(port, "Raft 协议") == {"etcd.md"}, what="an edit after it came back")
        rc = _stop(proc)
    finally:
        if proc.poll() is None:
            _stop(proc, signal.SIGKILL)
    assert rc == 0, "\n".join(err.lines[-30:])
