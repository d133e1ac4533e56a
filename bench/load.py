"""Load test: the real ``zhsearch serve`` under concurrent clients while the
index is rebuilt and then updated incrementally.

Scenario (one run):

1. ``zhsearch serve --corpus C --index I`` is started as a subprocess on a free
   loopback port (127.0.0.1 only) and waited for (``/healthz``).  Every query is
   sent once through ``/api/search`` to warm it up and to learn which articles
   are indexed; then the server's RSS is read (``VmRSS`` of ``/proc/PID/status``).
2. ``--clients`` threads (8) send requests back to back, each over its own
   keep-alive ``http.client`` connection, for at least ``--duration`` seconds:
   ``/search`` (HTML) 40 %, ``/api/search`` 25 %, ``/api/suggest`` 15 %, an
   article page ``/a/…`` 10 %, ``/`` 5 %, ``/healthz`` 5 %; queries are the
   judged queries 70 % of the time and random strings from a seeded RNG
   (Han characters, Latin words, digits, query syntax) otherwise.
3. Meanwhile, ``--rebuild-at`` seconds in: ``zhsearch index --rebuild``; when it
   returns, ``/healthz`` is polled until it names the new generation.  Then one
   article gets a unique token appended, ``zhsearch index`` (incremental) runs,
   and ``/api/search?q=TOKEN`` is polled until it finds the article.  The load
   goes on until ``--duration`` has passed *and* both updates are visible
   (plus ``--settle`` seconds), so a rebuild longer than the duration is
   still entirely under load.
4. The clients stop, RSS is read again, the server is terminated.

RSS is ``VmRSS``; ``RssAnon`` (the process' private memory) is reported too,
because ``VmRSS`` also counts the index's memory-mapped segment files once per
mapping (Whoosh maps them once per searcher, i.e. per server thread), which
is shared page cache rather than memory of the server.  A sampler thread reads
both every 0.25 s for the peaks.

A failure is any answer other than 200 or any connection error / timeout
(``--timeout`` s per request).  Reported: requests/s, p50/p90/p99/max latency
(overall, per endpoint, and while an index command runs vs. not), failures,
RSS start/end/peak, the duration of each index command and the time from its
end to the first response reflecting it.

``tests/test_load.py`` runs the short version (10 s, embedded corpus) in CI
through :func:`run_scenario`; the full version is this script::

    .venv/bin/python bench/load.py                      # ../shared/corpus, 60 s
    .venv/bin/python bench/load.py --index DIR          # reuse an index of a *copy*
    .venv/bin/python bench/load.py --json out.json

The corpus is never modified: it is copied into a temporary folder (the
incremental update edits one article of the copy) and, unless ``--index`` is
given, indexed there first (~45 s for ``../shared/corpus`` on 2 idle cores).
``--index DIR`` must hold an index *of that copy* (``--work DIR`` keeps the
copy and the index between runs: ``--work /tmp/zs-load`` twice reuses both).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CLI = [sys.executable, "-m", "zhsearch"]

#: The 40 development queries of ``../shared/qrels/queries.tsv`` (used when it is absent).
BUILTIN_QUERIES = [
    "GPT-4 参数", "Qwen3 微调", "ES6 Promise", "Node.js 连接 TiDB", "TiDB 8.5 新功能", "事务 隔离级别",
    "缓存穿透 解决方案", "垃圾回收 算法", "梯度下降 学习率", "限流 算法", "蒸馏", "幂等", "熔断", "死锁", "拥塞",
    "如何在本地运行大模型", "Redis 为什么这么快", "TCP 为什么需要三次握手", "怎么给博客添加评论功能",
    "跑一个大模型需要多少显存", "浏览器输入网址之后发生了什么", "为什么网站不能把原密码发给我", "微调大模型写古诗",
    "固态硬盘 有的没有 DRAM", "TiDB 多租户 百万张表", "lora", "KV cache", "vLLM", "MySQL index", "zookeeper",
    "分散式 交易", "Ｒｅｄｉｓ 持久化", "記憶體 洩漏", "執行緒池", "ＪＶＭ 調優", "向量数据库", "链路追踪", "负载均衡",
    "慢查询 优化", "RAG 检索增强生成",
]

_HAN = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自"
    "二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变"
    "条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指"
    "几九区强放决西被干做必战先回则任取据处理"
)
_LATIN = ["redis", "mysql", "java", "python", "gpt", "lora", "cache", "index", "tidb", "spring", "jvm", "kafka",
          "http", "tcp", "docker", "vllm", "rag", "llm", "transformer", "zookeeper", "qwen", "promise"]
_SYNTAX = ['"', "-", " OR ", "tag:", "category:", "title:", "date:2024", "(", ")", "*", "?", "%", "&", "+", "#"]


def load_queries(path: Path | None = None) -> list[str]:
    """Queries of a ``qid<TAB>text`` file (``#`` lines skipped), else the built-in 40."""
    path = path or SHARED / "qrels" / "queries.tsv"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return list(BUILTIN_QUERIES)
    out = [ln.split("\t", 1)[1].strip() for ln in lines if ln.strip() and not ln.startswith("#") and "\t" in ln]
    return [q for q in out if q] or list(BUILTIN_QUERIES)


def random_query(rng: random.Random) -> str:
    """A random, non-blank query: Han characters, Latin words, digits and query syntax."""
    parts = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        if kind < 0.5:
            parts.append("".join(rng.choice(_HAN) for _ in range(rng.randint(1, 4))))
        elif kind < 0.75:
            w = rng.choice(_LATIN)
            if rng.random() < 0.5:  # a typo
                i = rng.randrange(len(w))
                w = w[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + w[i + 1:]
            parts.append(w.upper() if rng.random() < 0.2 else w)
        elif kind < 0.85:
            parts.append(str(rng.randint(0, 99999)))
        else:
            parts.append(rng.choice(_SYNTAX) + "".join(rng.choice(_HAN) for _ in range(rng.randint(0, 2))))
    q = " ".join(parts).strip()
    return q or "数据"


# ------------------------------------------------------------------ measurements

@dataclass
class Sample:
    kind: str
    start: float
    latency: float
    status: int  # 0: no answer


@dataclass
class Report:
    duration_s: float = 0.0
    clients: int = 0
    requests: int = 0
    failures: int = 0
    failure_examples: list[str] = field(default_factory=list)
    rps: float = 0.0
    latency_ms: dict = field(default_factory=dict)  # kind → {n, p50, p90, p99, max}
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    rss_peak_mb: float = 0.0
    anon_start_mb: float = 0.0
    anon_end_mb: float = 0.0
    anon_peak_mb: float = 0.0
    phases: dict = field(default_factory=dict)  # "indexing" / "serving only" → {seconds, requests, rps, p50, p99}
    documents: int = 0
    commands: list[dict] = field(default_factory=list)  # name, seconds, visible_after_s, generation
    token: str = ""
    server_log_tail: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))
    return s[k]


def rss_kb(pid: int, field_name: str = "VmRSS") -> int:
    """Resident set size (or ``VmHWM``, the peak) of a process in kB, from /proc."""
    text = Path(f"/proc/{pid}/status").read_text()
    m = re.search(rf"^{field_name}:\s+(\d+) kB", text, re.M)
    return int(m.group(1)) if m else 0


class MemorySampler(threading.Thread):
    """Peak VmRSS and RssAnon of a process, sampled every ``interval`` s."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_anon = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.peak_rss = max(self.peak_rss, rss_kb(self.pid))
                self.peak_anon = max(self.peak_anon, rss_kb(self.pid, "RssAnon"))
            except OSError:
                return
            self.stop.wait(self.interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    # no ZHSEARCH_* setting of the caller's, but its embeddings switch: the test session turns
    # them off, so an update's run is the lexical update alone
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHSEARCH_") or k == "ZHSEARCH_EMBEDDINGS"}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_cli(*args: str, timeout: float = 1800) -> dict:
    """``zhsearch ARGS --json`` → its report (raises on failure)."""
    p = subprocess.run([*CLI, *args, "--json"], cwd=ROOT, env=_env(), capture_output=True, text=True,
                       timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"zhsearch {' '.join(args)} failed ({p.returncode}): {p.stderr[-2000:]}")
    return json.loads(p.stdout)


class Http:
    """One keep-alive connection to the server; reconnects after an error."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def get(self, url: str) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self.conn.request("GET", url, headers={"Accept-Encoding": "identity"})
            resp = self.conn.getresponse()
            body = resp.read()
            if resp.will_close:
                self.close()
            return resp.status, body
        except Exception:  # an error while polling is just "not yet"
            self.close()
            raise

    def json(self, url: str) -> dict:
        status, body = self.get(url)
        if status != 200:
            raise RuntimeError(f"GET {url}: {status}")
        return json.loads(body)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# ------------------------------------------------------------------ the scenario

@dataclass
class Scenario:
    corpus: Path  # a writable copy: one article gets edited
    index: Path  # an index of ``corpus`` (built here if missing)
    duration: float = 60.0
    clients: int = 8
    seed: int = 1
    queries: list[str] = field(default_factory=load_queries)
    rebuild_at: float = 1.0  # seconds of load before ``index --rebuild``
    settle: float = 1.0  # seconds of load after the last update became visible
    timeout: float = 30.0  # per request
    visible_timeout: float = 60.0  # an update not visible by then is reported as never
    max_duration: float = 1800.0
    server_threads: int = 8
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr, flush=True)


def _client(port: int, sc: Scenario, rng: random.Random, paths: list[str], stop: threading.Event,
            samples: list[Sample], failures: list[str]) -> None:
    http = Http(port, sc.timeout)
    try:
        while not stop.is_set():
            q = rng.choice(sc.queries) if rng.random() < 0.7 else random_query(rng)
            r = rng.random()
            if r < 0.40:
                kind, url = "search", "/search?" + urlencode({"q": q})
            elif r < 0.65:
                kind, url = "api", "/api/search?" + urlencode({"q": q})
            elif r < 0.80:
                kind, url = "suggest", "/api/suggest?" + urlencode({"q": q[: rng.randint(1, 6)]})
            elif r < 0.90:
                kind, url = "article", "/a/" + quote(rng.choice(paths))
            elif r < 0.95:
                kind, url = "home", "/"
            else:
                kind, url = "healthz", "/healthz"
            t0 = time.perf_counter()
            try:
                status, _ = http.get(url)
            except Exception as exc:  # connection refused/reset, timeout
                status = 0
                failures.append(f"{url}: {type(exc).__name__}: {exc}")
            else:
                if status != 200:
                    failures.append(f"{url}: HTTP {status}")
            samples.append(Sample(kind, t0, time.perf_counter() - t0, status))
    finally:
        http.close()


def _wait_healthy(port: int, proc: subprocess.Popen, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    http = Http(port, 10)
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"zhsearch serve exited with {proc.returncode}")
            try:
                status, body = http.get("/healthz")
                if status == 200:
                    return json.loads(body)
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"zhsearch serve not healthy after {timeout:.0f} s")
    finally:
        http.close()


def _poll_until(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> float | None:
    """Seconds until ``check()`` first holds, or None after ``timeout``."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        try:
            if check():
                return time.perf_counter() - t0
        except Exception:
            pass
        time.sleep(interval)
    return None


def _pick_article(corpus: Path, paths: list[str]) -> str:
    """An indexed article of modest size to edit (deterministic)."""
    for rel in sorted(paths):
        p = corpus / rel
        if p.is_file() and 500 < p.stat().st_size < 50_000:
            return rel
    return sorted(paths)[0]


def run_scenario(sc: Scenario) -> Report:
    """Run the whole scenario once; never raises for request failures (they are counted)."""
    rep = Report(clients=sc.clients)
    if not (sc.index / "CURRENT").is_file():
        sc.log(f"indexing {sc.corpus} into {sc.index} …")
        t0 = time.perf_counter()
        built = run_cli("index", "--corpus", str(sc.corpus), "--index", str(sc.index))
        sc.log(f"  {built['documents']} articles in {time.perf_counter() - t0:.1f} s")

    port = free_port()
    log_file = tempfile.NamedTemporaryFile("w+", prefix="zhsearch-serve-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [*CLI, "serve", "--corpus", str(sc.corpus), "--index", str(sc.index), "--host", "127.0.0.1",
         "--port", str(port), "--threads", str(sc.server_threads)],
        cwd=ROOT, env=_env(), stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    samples: list[Sample] = []
    failures: list[str] = []
    indexing: list[tuple[float, float]] = []  # (start, end) of each index command
    t_start = t_end = 0.0
    http = Http(port, 60)
    try:
        health = _wait_healthy(port, proc, 120)
        rep.documents = health.get("documents", 0)
        # warm up: every query once (jieba, catalog, spelling and pinyin tables), and learn article paths
        paths: set[str] = set()
        for q in sc.queries:
            data = http.json("/api/search?" + urlencode({"q": q, "per_page": 20}))
            paths.update(h["path"] for h in data["hits"])
        for url in ("/", "/search?q=" + quote(sc.queries[0]), "/api/suggest?q=" + quote(sc.queries[0][:2])):
            http.get(url)
        if not paths:
            raise RuntimeError("the warm-up queries found no article")
        path_list = sorted(paths)
        rep.rss_start_mb = rss_kb(proc.pid) / 1024
        rep.anon_start_mb = rss_kb(proc.pid, "RssAnon") / 1024
        sampler = MemorySampler(proc.pid)
        sampler.start()
        sc.log(f"server pid {proc.pid} on port {port}: {rep.documents} articles, RSS {rep.rss_start_mb:.0f} MB "
               f"(anon {rep.anon_start_mb:.0f} MB) after warm-up; {sc.clients} clients for ≥ {sc.duration:.0f} s")

        t_start = time.perf_counter()
        for i in range(sc.clients):
            rng = random.Random(sc.seed * 1000 + i)
            t = threading.Thread(target=_client, args=(port, sc, rng, path_list, stop, samples, failures),
                                 name=f"load-client-{i}", daemon=True)
            t.start()
            threads.append(t)

        time.sleep(sc.rebuild_at)
        # 1. full rebuild under load
        t0 = time.perf_counter()
        report = run_cli("index", "--rebuild", "--corpus", str(sc.corpus), "--index", str(sc.index), "--wait", "60",
                         timeout=sc.max_duration)
        took = time.perf_counter() - t0
        indexing.append((t0, t0 + took))
        gen = report["generation"]
        visible = _poll_until(lambda: http.json("/healthz")["generation"] == gen, sc.visible_timeout)
        rep.commands.append({"name": "index --rebuild", "seconds": round(took, 2), "generation": gen,
                             "documents": report["documents"],
                             "visible_after_s": None if visible is None else round(visible, 3)})
        sc.log(f"index --rebuild: {took:.1f} s, {gen} served {visible if visible is None else f'{visible:.2f} s'} "
               "after it returned")

        # 2. one article edited, incremental update under load
        rel = _pick_article(sc.corpus, path_list)
        # unique per run (not from the seed): a reused --work copy still holds earlier tokens
        token = "zq" + "".join(random.SystemRandom().choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10))
        rep.token = token
        with (sc.corpus / rel).open("a", encoding="utf-8") as f:
            f.write(f"\n\n负载测试标记 {token}。\n")
        t0 = time.perf_counter()
        report = run_cli("index", "--corpus", str(sc.corpus), "--index", str(sc.index), "--wait", "60",
                         timeout=sc.max_duration)
        took = time.perf_counter() - t0
        indexing.append((t0, t0 + took))
        if report["updated"] != [rel]:
            raise RuntimeError(f"the incremental update did not update just {rel}: {report['updated']}")

        def token_found() -> bool:
            hits = http.json("/api/search?" + urlencode({"q": token}))["hits"]
            return [h["path"] for h in hits] == [rel]

        visible = _poll_until(token_found, sc.visible_timeout)
        rep.commands.append({"name": "index (incremental)", "seconds": round(took, 2),
                             "generation": report["generation"], "article": rel,
                             "visible_after_s": None if visible is None else round(visible, 3)})
        sc.log(f"index (1 article updated): {took:.1f} s, token searchable "
               f"{visible if visible is None else f'{visible:.2f} s'} after it returned")

        # 3. the rest of the duration, then stop
        time.sleep(sc.settle)
        while time.perf_counter() - t_start < sc.duration:
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join(timeout=sc.timeout + 5)
        t_end = time.perf_counter()
        rep.duration_s = round(t_end - t_start, 2)
        http.close()
        rep.rss_end_mb = rss_kb(proc.pid) / 1024
        rep.anon_end_mb = rss_kb(proc.pid, "RssAnon") / 1024
        sampler.stop.set()
        sampler.join(timeout=5)
        rep.rss_peak_mb = max(sampler.peak_rss, rss_kb(proc.pid, "VmHWM")) / 1024
        rep.anon_peak_mb = max(sampler.peak_anon, rss_kb(proc.pid, "RssAnon")) / 1024
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=sc.timeout + 5)
        http.close()
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log_file.seek(0)
        rep.server_log_tail = "".join(log_file.readlines()[-20:])
        log_file.close()
        os.unlink(log_file.name)

    done = list(samples)
    rep.requests = len(done)
    rep.failures = len(failures)
    rep.failure_examples = failures[:10]
    rep.rps = round(rep.requests / rep.duration_s, 1) if rep.duration_s else 0.0
    kinds = sorted({s.kind for s in done})
    for kind in ["all", *kinds]:
        lat = [s.latency * 1000 for s in done if kind == "all" or s.kind == kind]
        rep.latency_ms[kind] = {"n": len(lat), "p50": round(percentile(lat, 50), 1),
                                "p90": round(percentile(lat, 90), 1), "p99": round(percentile(lat, 99), 1),
                                "max": round(max(lat), 1) if lat else 0.0}

    def busy(t: float) -> bool:
        return any(a <= t < b for a, b in indexing)

    busy_s = sum(b - a for a, b in indexing)
    for name, pick, seconds in (("indexing", True, busy_s), ("serving only", False, rep.duration_s - busy_s)):
        lat = [s.latency * 1000 for s in done if busy(s.start) == pick]
        rep.phases[name] = {"seconds": round(seconds, 1), "requests": len(lat),
                            "rps": round(len(lat) / seconds, 1) if seconds > 0 else 0.0,
                            "p50": round(percentile(lat, 50), 1), "p99": round(percentile(lat, 99), 1)}
    return rep


def format_report(rep: Report) -> str:
    lines = [
        f"load: {rep.clients} clients, {rep.duration_s:.1f} s, {rep.documents} articles",
        f"requests  {rep.requests}  ({rep.rps:.1f}/s)   failed {rep.failures}",
        f"RSS       start {rep.rss_start_mb:.0f} MB   end {rep.rss_end_mb:.0f} MB   peak {rep.rss_peak_mb:.0f} MB",
        f"RssAnon   start {rep.anon_start_mb:.0f} MB   end {rep.anon_end_mb:.0f} MB   peak {rep.anon_peak_mb:.0f} MB",
        "",
        *(f"{name:<13} {ph['seconds']:>6.1f} s  {ph['requests']:>6} requests  {ph['rps']:>6.1f}/s  "
          f"p50 {ph['p50']:.0f} ms  p99 {ph['p99']:.0f} ms" for name, ph in rep.phases.items()),
        "",
        f"{'endpoint':<10}{'n':>8}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'max ms':>10}",
    ]
    for kind, m in rep.latency_ms.items():
        lines.append(f"{kind:<10}{m['n']:>8}{m['p50']:>10.1f}{m['p90']:>10.1f}{m['p99']:>10.1f}{m['max']:>10.1f}")
    lines.append("")
    for c in rep.commands:
        vis = "never" if c["visible_after_s"] is None else f"{c['visible_after_s']:.2f} s"
        lines.append(f"{c['name']:<22} took {c['seconds']:>7.1f} s; "
                     f"first response reflecting it {vis} after it returned")
    if rep.failure_examples:
        lines += ["", "failures (first 10):", *("  " + f for f in rep.failure_examples)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus", help="corpus to copy (never modified)")
    ap.add_argument("--work", type=Path, help="keep the corpus copy and index here (reused when present)")
    ap.add_argument("--index", type=Path, help="an existing index of the copy in --work")
    ap.add_argument("--queries", type=Path, help="qid<TAB>query file [../shared/qrels/queries.tsv]")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rebuild-at", type=float, default=5.0)
    ap.add_argument("--settle", type=float, default=3.0)
    ap.add_argument("--json", type=Path, help="also write the report here")
    args = ap.parse_args(argv)

    tmp = None
    if args.work:
        work = args.work
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.mkdtemp(prefix="zhsearch-load-")
        work = Path(tmp)
    try:
        corpus = work / "corpus"
        if not corpus.is_dir():
            print(f"copying {args.corpus} → {corpus}", file=sys.stderr)
            shutil.copytree(args.corpus, corpus, symlinks=True)
        index = args.index or work / "index"
        sc = Scenario(corpus=corpus, index=index, duration=args.duration, clients=args.clients, seed=args.seed,
                      queries=load_queries(args.queries), rebuild_at=args.rebuild_at, settle=args.settle)
        rep = run_scenario(sc)
        print(format_report(rep))
        if args.json:
            args.json.write_text(json.dumps(rep.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        ok = rep.failures == 0 and all(c["visible_after_s"] is not None for c in rep.commands)
        return 0 if ok else 1
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # clean up the server on `kill`
    sys.exit(main())
