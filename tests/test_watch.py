"""``--watch``: the index follows the corpus while articles are written.

The watcher runs for real (watchfiles on this machine's file system, a real
index on disk) in a thread of the test process, as it does in ``zhsearch
serve --watch``; searches go through a long-lived :class:`search.Engine`, as
the site's do, so "searchable" means what a reader would see.  Waits are
generous deadlines, never timing assertions (the 2 s figure is measured by
``bench/watch.py``).  The last tests run the real commands:
``serve --watch --workers 2`` (exactly one process indexes) and
``index --watch``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from indexer import store
from indexer.build import IndexConfig
from indexer.watch import LiveIndexer, WatchTiming, watch
from indexer.watchstate import WatchStatus
from search.engine import Engine, search
from tests.conftest import CORPUS, build_index, free_port, write_article
from tests.test_server import _children

DEADLINE_S = 30.0


def article(title: str, body: str) -> str:
    return f"---\ntitle: {title}\n---\n\n{body}\n"


def wait_for(cond, timeout: float = DEADLINE_S, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


class Watching:
    """A watcher thread over a corpus, and what it reported."""

    def __init__(self, corpus: Path, index: Path, timing: WatchTiming | None = None) -> None:
        timing = timing or WatchTiming()
        self.indexer = LiveIndexer(IndexConfig(corpus, index, workers=1))
        self.engine = Engine(index, cache_size=0)
        self.reports: list[tuple] = []
        self.stop = threading.Event()
        self.status = WatchStatus()
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=watch, args=(self.indexer,), daemon=True,
                                       kwargs={"stop": self.stop, "on_update": self._on, "timing": timing,
                                               "status": self.status})

    def _on(self, report, skipped, warnings) -> None:
        with self._lock:
            self.reports.append((report, skipped, warnings))

    def start(self) -> Watching:
        self.indexer.load()
        self.thread.start()
        wait_for(lambda: self.reports, what="the catch-up update")  # the watch is in place
        return self

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the watcher did not stop"

    def paths(self, query: str) -> set[str]:
        return {h.path for h in search(self.engine, query, per_page=100).hits}

    def changed(self) -> list:
        with self._lock:
            return [r for r, _, _ in self.reports if r.changed]


@pytest.fixture
def corpus(tmp_path) -> Path:
    c = tmp_path / "corpus"
    write_article(c, "redis.md", article("Redis 持久化", "Redis 的快照与追加文件。"))
    write_article(c, "kafka.md", article("Kafka 分区", "Kafka 的分区与副本。"))
    shutil.copy(CORPUS / "userdict.txt", c / "userdict.txt")
    return c


@pytest.fixture
def watching(corpus, tmp_path):
    build_index(corpus, tmp_path / "ix")
    w = Watching(corpus, tmp_path / "ix").start()
    yield w
    w.close()


def test_create_edit_rename_delete(watching, corpus):
    w = watching
    write_article(corpus, "new/etcd.md", article("Etcd 选主", "Etcd 使用 Raft 协议选主。"))
    wait_for(lambda: w.paths("Raft 协议") == {"new/etcd.md"}, what="a new article")

    write_article(corpus, "redis.md", article("Redis 持久化", "Redis 的快照与 AOF 重写。"))
    wait_for(lambda: w.paths("AOF 重写") == {"redis.md"}, what="an edit")
    assert w.paths("追加文件") == set()  # the old text is gone

    (corpus / "kafka.md").rename(corpus / "消息队列.md")
    wait_for(lambda: w.paths("Kafka 分区") == {"消息队列.md"}, what="a rename")

    shutil.rmtree(corpus / "new")  # a folder deleted with its articles
    wait_for(lambda: w.paths("Raft 协议") == set(), what="a deletion")
    assert w.engine.stats()["documents"] == 2
    done = w.changed()
    assert sorted(p for r in done for p in r.added) == ["new/etcd.md", "消息队列.md"]
    assert [p for r in done for p in r.updated] == ["redis.md"]
    assert sorted(p for r in done for p in r.deleted) == ["kafka.md", "new/etcd.md"]


@pytest.mark.slow  # seconds of waiting: the full suite runs it, the quick loop does not
def test_changes_made_before_the_watch_started_are_caught_up(corpus, tmp_path):
    build_index(corpus, tmp_path / "ix")
    write_article(corpus, "offline.md", article("离线写的文章", "服务停着的时候写的倒排索引笔记。"))
    w = Watching(corpus, tmp_path / "ix").start()
    try:
        assert w.paths("倒排索引") == {"offline.md"}
    finally:
        w.close()


@pytest.mark.slow  # seconds of waiting: the full suite runs it, the quick loop does not
def test_a_burst_of_100_changes_makes_few_updates(watching, corpus):
    w = watching
    before = len(w.changed())
    for i in range(100):  # a `git pull`, a generator writing its output
        write_article(corpus, f"burst/{i:03d}.md", article(f"批量文章 {i}", f"第 {i} 篇批量写入的文章，主题是向量检索。"))
    wait_for(lambda: len(w.paths("向量检索")) == 100, what="all 100 articles")
    updates = w.changed()[before:]
    assert 1 <= len(updates) <= 3, [len(r.added) for r in updates]
    assert sum(len(r.added) for r in updates) == 100


def test_a_broken_article_is_reported_once_and_never_stops_the_watch(watching, corpus):
    w = watching
    (corpus / "binary.md").write_bytes(b"\x00\x01\x02 not text" * 10)
    write_article(corpus, "yaml.md", "---\ntitle: [unclosed\n---\n\n坏掉的头信息，正文照样收录：布隆过滤器。\n")
    wait_for(lambda: w.paths("布隆过滤器") == {"yaml.md"}, what="the article with broken YAML")
    skipped = [s for _, s, _ in w.reports if s]
    warnings = [x for _, _, x in w.reports if x]
    assert skipped == [[("binary.md", "binary file (contains NUL bytes)")]]
    assert warnings and warnings[0][0][0] == "yaml.md" and "YAML" in warnings[0][0][1]

    # later saves do not repeat the old complaint, and the watch goes on
    write_article(corpus, "redis.md", article("Redis 持久化", "Redis 的快照与主从复制。"))
    wait_for(lambda: w.paths("主从复制") == {"redis.md"}, what="an edit after the broken ones")
    assert [s for _, s, _ in w.reports if s] == skipped
    (corpus / "binary.md").write_text(article("修好了", "二进制文件被替换成了正常的文章：跳表。"), encoding="utf-8")
    wait_for(lambda: w.paths("跳表") == {"binary.md"}, what="the repaired article")


@pytest.mark.slow  # seconds of waiting: the full suite runs it, the quick loop does not
def test_files_that_are_not_articles_cause_no_update(watching, corpus):
    w = watching
    updates = w.indexer.updates
    (corpus / "image.png").write_bytes(b"\x89PNG")
    (corpus / ".redis.md.swp").write_bytes(b"vim swap")
    (corpus / "#redis.md#").write_text("emacs autosave", encoding="utf-8")
    write_article(corpus, ".vuepress/config.md", "# 配置\n")
    write_article(corpus, "node_modules/pkg/README.md", "# 依赖\n")
    time.sleep(1.5)  # longer than a batch takes to be handed over
    assert w.indexer.updates == updates


@pytest.mark.slow  # seconds of waiting: the full suite runs it, the quick loop does not
def test_a_locked_index_is_retried(corpus, tmp_path):
    build_index(corpus, tmp_path / "ix")
    w = Watching(corpus, tmp_path / "ix", WatchTiming(retry_s=0.3)).start()
    try:
        with store.writer_lock(tmp_path / "ix"):  # `zhsearch index` running in another terminal
            write_article(corpus, "later.md", article("等锁", "等索引锁释放以后才收录的分布式锁笔记。"))
            time.sleep(2)
            assert w.paths("分布式锁") == set()
        wait_for(lambda: w.paths("分布式锁") == {"later.md"}, what="the update after the lock")
    finally:
        w.close()


@pytest.mark.slow  # seconds of waiting: the full suite runs it, the quick loop does not
def test_a_new_user_dictionary_rebuilds(watching, corpus):
    w = watching
    with open(corpus / "userdict.txt", "a", encoding="utf-8") as f:
        f.write("\n快照持久化 300\n")
    report = wait_for(lambda: next((r for r in w.changed() if r.rebuilt), None), what="the rebuild")
    assert "user dictionary" in report.rebuild_reason and report.total == 2


def test_a_new_generation_suggests_from_the_last_one_while_its_own_vocabulary_builds(corpus, tmp_path):
    """With --watch a generation may live a minute: its first "did you mean"
    must not wait seconds for a vocabulary of a large index."""
    index = tmp_path / "ix"
    build_index(corpus, index)
    engine = Engine(index, cache_size=0)
    assert search(engine, "kafkaa").suggestion == "kafka"  # builds the vocabulary
    old = engine.generation().tables.vocabulary.value
    write_article(corpus, "zk.md", article("ZooKeeper 协调", "zookeeper 负责集群协调。"))
    build_index(corpus, index)
    gen = engine.generation()
    assert gen.tables.vocabulary.previous is old
    assert search(engine, "kafkaa").suggestion == "kafka"  # answered at once, from the old vocabulary
    wait_for(lambda: gen.tables.vocabulary.value is not None, what="the new vocabulary")
    assert "zookeeper" in gen.tables.vocabulary.value.df and "zookeeper" not in old.df
    assert search(engine, "zookeepr").suggestion == "zookeeper"


# ------------------------------------------------------- the real commands

CLI = [str(Path(os.sys.executable).with_name("zhsearch"))]


class Lines:
    """A stream's lines, read in a thread as they come."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def having(self, text: str) -> list[str]:
        return [x for x in list(self.lines) if text in x]


def _start(*args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHSEARCH_")}
    return subprocess.Popen([*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _search(port: int, q: str) -> set[str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q={urllib.parse.quote(q)}", timeout=5) as r:
            return {h["path"] for h in json.load(r)["hits"]}
    except OSError:
        return set()


def _stop(proc: subprocess.Popen, sig: int = signal.SIGINT) -> int:
    os.kill(proc.pid, sig)
    try:
        return proc.wait(30)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_serve_watch_indexes_in_exactly_one_process(corpus, tmp_path, workers):
    port = free_port()
    proc = _start("serve", "--watch", "--workers", str(workers), "--threads", "2", "--port", str(port),
                  "--corpus", str(corpus), "--index", str(tmp_path / "ix"))
    err = Lines(proc.stderr)
    try:
        wait_for(lambda: _search(port, "Kafka 分区") == {"kafka.md"}, 90, "the server")
        wait_for(lambda: err.having("watching"), what="the watch")  # in place before the edits
        # one process: a thread of it indexes; several: two servers and one indexer
        assert len(_children(proc.pid)) == (0 if workers == 1 else 3)
        write_article(corpus, "etcd.md", article("Etcd 选主", "Etcd 使用 Raft 协议选主。"))
        wait_for(lambda: _search(port, "Raft 协议") == {"etcd.md"}, what="the new article on the site")
        # every worker answers from the new generation (each request may land on either)
        assert all(_search(port, "Raft 协议") == {"etcd.md"} for _ in range(10))
        (corpus / "etcd.md").unlink()
        wait_for(lambda: _search(port, "Raft 协议") == set(), what="the deletion on the site")
        # the site can show the deletion before this test's reader thread has the log line saying it
        wait_for(lambda: err.having("watch: 1 deleted (etcd.md)"), what="the deletion's log line")
        assert len(err.having("for changes")) == 1  # one watcher…
        assert len(err.having("watch: 1 added (etcd.md)")) == 1  # …that indexed each change once
        assert len(err.having("watch: 1 deleted (etcd.md)")) == 1
        assert not err.having("another `zhsearch index`")  # nobody competed for the index
        rc = _stop(proc, signal.SIGTERM if workers == 1 else signal.SIGINT)  # as systemd stops it, or Ctrl-C
    finally:
        if proc.poll() is None:
            _stop(proc, signal.SIGKILL)
    assert rc == 0, "\n".join(err.lines[-30:])
    assert not err.having("Traceback")


@pytest.mark.slow
def test_index_watch_prints_each_update(corpus, tmp_path):
    proc = _start("index", "--watch", "--corpus", str(corpus), "--index", str(tmp_path / "ix"))
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        wait_for(lambda: err.having("watching"), 90, "the watch")
        assert out.having("2 added")  # the first update, as `zhsearch index` prints it
        write_article(corpus, "etcd.md", article("Etcd 选主", "Etcd 使用 Raft 协议选主。"))
        wait_for(lambda: out.having("1 added, 0 updated, 0 deleted, 2 unchanged"), what="the update line")
        (corpus / "bad.md").write_bytes(bytes(range(256)) * 4)  # NULs in invalid UTF-8: binary
        wait_for(lambda: err.having("skipped  bad.md: binary file"), what="the broken article")
        write_article(corpus, "redis.md", article("Redis 持久化", "改过的正文。"))
        wait_for(lambda: out.having("0 added, 1 updated"), what="the update after it")
        assert len(err.having("skipped  bad.md")) == 1  # told once
        rc = _stop(proc)
    finally:
        if proc.poll() is None:
            _stop(proc, signal.SIGKILL)
    assert rc == 0 and err.having("stopped watching"), "\n".join(err.lines[-20:])
    assert Engine(tmp_path / "ix").stats()["documents"] == 3
