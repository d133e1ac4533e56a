"""Sequential HTTP latency of ``zhsearch serve`` with the result cache off.

The latency target a search box needs (results while typing feel instant):
one client, one request at a time, over the judged queries plus queries that find nothing
(misspellings, pinyin, random Latin, traditional-script sentences), result
cache off: p50 <= 12 ms and p99 <= 4x p50.

    .venv/bin/python bench/http_latency.py --index DIR [--corpus DIR] [--passes 3]
        [--baseline CHECKOUT | --analytics-compare] [--workers 1]

The server is started on ``--index`` (built beforehand, e.g. by ``zhsearch
eval``); every query is sent once to warm up (the "cold" pass), then
``--passes`` times; each request's wall time (connection reused, body read)
is a sample.  With ``--baseline CHECKOUT`` (a source tree of another version,
e.g. ``git archive <commit> | tar -x -C CHECKOUT``) a second server runs that
code on the same index (``PYTHONPATH=CHECKOUT``), and the two are asked in
turn, query by query, alternating who goes first: on a shared machine only
the ratio measured in the same run means anything.  ``--analytics-compare``
does the same with two servers of this tree, one recording analytics (every
``/api/search`` is a settled search: a signed id, a row queued, the writer
thread committing them) and one with ``--no-analytics`` (analytics must not
slow searches: p50 and p99 within 5 %).  Printed: p50, p90, p99, max per query group and server,
the ratios, and the slowest queries.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import string
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from load import _env as env
from load import free_port
from load import percentile as pct
from run import stop_server

#: Queries that find little or nothing and so take the rescue paths (did you
#: mean, pinyin, "most words"): fixed lists plus seeded random Latin strings.
MISSPELLED = ["chatgtp", "kubernets", "zookeper", "transfomer", "elasticsearh", "mysqll index",
              "pytorh 安装", "tensorflw", "reids 持久化", "postgress"]
PINYIN = ["canshu", "weitiao damoxing", "xiangliang shujuku", "xiangliangshujuku", "fenbushi suo",
          "huancun chuantou", "xianliu suanfa", "sisuo", "zhishi zhengliu", "moxing lianghua"]
TRADITIONAL = ["請問這個伺服器的記憶體為什麼一直不夠用", "執行緒池應該設定多少個執行緒才合理",
               "資料庫交易隔離等級有哪些差別", "如何在筆記型電腦上訓練一個小模型",
               "分散式系統的一致性演算法怎麼選", "為什麼我的程式會發生記憶體洩漏",
               "網路封包遺失時傳輸層如何處理", "快取伺服器當機以後資料會不會遺失",
               "軟體部署到雲端需要注意哪些設定", "向量資料庫跟全文檢索引擎有什麼不同"]


def random_latin(n: int, seed: int = 20261202) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        words = ["".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randint(4, 9)))
                 for _ in range(rnd.randint(1, 3))]
        out.append(" ".join(words))
    return out


def load_judged(path: Path) -> list[str]:
    return [line.split("\t", 1)[1].strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#") and "\t" in line]


def serve(corpus: Path, index: Path, workers: int, checkout: Path | None,
          flags: tuple[str, ...] = ()) -> tuple[subprocess.Popen, int]:
    """``zhsearch serve --cache-size 0`` of this tree, or of ``checkout``."""
    port = free_port()
    e = env()
    if checkout is not None:
        e["PYTHONPATH"] = str(checkout)
    proc = subprocess.Popen([sys.executable, "-m", "zhsearch", "serve", "--corpus", str(corpus), "--index",
                             str(index), "--port", str(port), "--workers", str(workers), "--cache-size", "0",
                             *flags],
                            env=e, cwd=str(checkout or ROOT), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/healthz"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                if resp.status == 200:
                    return proc, port
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"zhsearch serve ({checkout or ROOT}) exited before answering") from None
            time.sleep(0.05)


class Client:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def get(self, q: str) -> float:
        t0 = time.perf_counter()
        self.conn.request("GET", "/api/search?q=" + urllib.parse.quote(q))
        resp = self.conn.getresponse()
        resp.read()
        dt = (time.perf_counter() - t0) * 1000
        if resp.status != 200:
            raise SystemExit(f"HTTP {resp.status} for {q!r}")
        return dt

    def close(self) -> None:
        self.conn.close()


def table(name: str, samples: dict[str, list[float]]) -> None:
    every = [x for v in samples.values() for x in v]
    print(f"\n{name}\n")
    print("| queries | n | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for g, v in list(samples.items()) + [("all", every)]:
        print(f"| {g} | {len(v)} | {pct(v, 50):.1f} | {pct(v, 90):.1f} | {pct(v, 99):.1f} | {max(v):.1f} |")
    print(f"\np99 / p50 = {pct(every, 99) / pct(every, 50):.2f} (targets: p50 <= 12 ms, p99 <= 4 x p50)")


def recording_cost(db: Path, n: int = 20_000) -> str:
    """What recording adds to one request, in this process: signing the id and
    queuing the row (the request path), and the writer's work per row."""
    sys.path.insert(0, str(ROOT))
    from search.models import ResultPage
    from web.analytics import Recorder, Settled, Source
    from web.analytics_store import AnalyticsStore
    from web.params import SearchParams

    store = AnalyticsStore(db, queue_size=n + 1).start()
    rec = Recorder(store, str.lower)
    page = ResultPage(query="GPT-4 参数", total=12, page=1, per_page=10, took_ms=1.0)
    p = SearchParams(q="GPT-4 参数")
    t0 = time.perf_counter()
    for _ in range(n):
        a = rec.answered(page, p, Source.API)
        rec.record(a, Settled.API)
        rec.sign(a)
    path_us = (time.perf_counter() - t0) / n * 1e6
    t1 = time.perf_counter()
    store.flush(120)
    written_s = time.perf_counter() - t0
    store.close()
    return (f"recording in-process: {path_us:.1f} us per search on the request path (id signed, row queued); "
            f"{n} rows written {written_s:.2f} s after the first was queued "
            f"({(time.perf_counter() - t1) * 1e6 / n:.1f} us per row left after queuing)")


def measure(clients: list[Client], items: list[tuple[str, str]], groups: list[str], passes: int
            ) -> tuple[list[dict], list[dict], list[dict]]:
    """A cold pass and ``passes`` warm ones over ``items``, each query asked of every server in
    turn, the order alternating so that neither always goes first (its cache lines warm the
    other's): per server, milliseconds by group for the cold and the warm passes, and by query."""
    cold = [{g: [] for g in groups} for _ in clients]
    warm = [{g: [] for g in groups} for _ in clients]
    per_query: list[dict] = [{} for _ in clients]
    for n in range(passes + 1):
        for k, (g, q) in enumerate(items):
            order = list(range(len(clients)))
            if (n + k) % 2:
                order.reverse()
            for i in order:
                dt = clients[i].get(q)
                (cold if n == 0 else warm)[i][g].append(dt)
                if n:
                    per_query[i].setdefault(q, []).append(dt)
    return cold, warm, per_query


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--queries", type=Path, default=ROOT.parent / "shared" / "qrels" / "queries.tsv")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--baseline", type=Path, help="source tree of the version to compare with")
    ap.add_argument("--analytics-compare", action="store_true",
                    help="this tree twice: recording analytics, and with --no-analytics")
    args = ap.parse_args()

    groups = {"judged": load_judged(args.queries), "misspelled": MISSPELLED, "pinyin": PINYIN,
              "random latin": random_latin(10), "traditional": TRADITIONAL}
    items = [(g, q) for g, qs in groups.items() for q in qs]
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix="zhsearch-http-latency-"))
    servers: list[tuple[str, Path | None, tuple[str, ...]]] = [("this tree", None, ())]
    if args.baseline:
        servers.append((f"baseline {args.baseline}", args.baseline.resolve(), ()))
    elif args.analytics_compare:
        servers = [("analytics on", None, ("--analytics", str(scratch / "analytics.sqlite3"))),
                   ("analytics off", None, ("--no-analytics",))]
    names = [name for name, _c, _f in servers]
    procs = []
    clients: list[Client] = []
    try:
        for _name, checkout, flags in servers:
            procs.append(serve(args.corpus, args.index, args.workers, checkout, flags))
        clients = [Client(port) for _proc, port in procs]
        cold, warm, per_query = measure(clients, items, list(groups), args.passes)
    finally:
        for client in clients:
            client.close()
        for proc, _port in procs:
            stop_server(proc)

    print(f"zhsearch serve --workers {args.workers} --cache-size 0; {len(items)} queries, one request at a "
          f"time; a cold pass (first sight of each query), then {args.passes} warm passes; load average "
          f"{os.getloadavg()[0]:.1f}")
    for i, name in enumerate(names):
        table(f"### {name}: cold pass", cold[i])
        table(f"### {name}: warm passes", warm[i])
        slow = sorted(per_query[i].items(), key=lambda kv: -statistics.median(kv[1]))[:8]
        print("\nslowest (median ms): " + ", ".join(f"{q} {statistics.median(v):.1f}" for q, v in slow))
    if args.analytics_compare:
        import sqlite3

        rows = sqlite3.connect(scratch / "analytics.sqlite3").execute("SELECT COUNT(*) FROM searches").fetchone()[0]
        print(f"\nanalytics on: {rows} searches recorded of {len(items) * (args.passes + 1)} requests")
        print(recording_cost(scratch / "cost.sqlite3"))
    if len(names) == 2:
        print(f"\n### {names[0]} / {names[1]} (same run, interleaved)\n")
        print("| queries | cold p50 | warm p50 | warm p90 | warm p99 |")
        print("|---|---:|---:|---:|---:|")
        for g in list(groups) + ["all"]:
            def col(data, i, p, g=g):
                v = [x for vals in data[i].values() for x in vals] if g == "all" else data[i][g]
                return pct(v, p)
            print(f"| {g} | {col(cold, 0, 50) / col(cold, 1, 50):.2f} | {col(warm, 0, 50) / col(warm, 1, 50):.2f} "
                  f"| {col(warm, 0, 90) / col(warm, 1, 90):.2f} | {col(warm, 0, 99) / col(warm, 1, 99):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
