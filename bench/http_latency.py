"""Sequential HTTP latency of ``zhsearch serve`` with the result cache off.

Issue 11's latency target (kept by issue 12's ranking work): one client, one
request at a time, over the judged queries plus queries that find nothing
(misspellings, pinyin, random Latin, traditional-script sentences), result
cache off: p50 <= 12 ms and p99 <= 4x p50.

    .venv/bin/python bench/http_latency.py --index DIR [--corpus DIR] [--passes 3] [--workers 1]

The server is started on ``--index`` (built beforehand, e.g. by ``zhsearch
eval``), every query is sent once to warm up, then ``--passes`` times; each
request's wall time (connect reused, body read) is a sample.  Printed: p50,
p90, p99, max over all samples and per query group, and the slowest queries.
"""

from __future__ import annotations

import argparse
import http.client
import random
import statistics
import string
import sys
import time
import urllib.parse
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from load import percentile as pct  # noqa: E402
from run import start_server, stop_server  # noqa: E402

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--queries", type=Path, default=ROOT.parent / "shared" / "qrels" / "queries.tsv")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()

    groups = {"judged": load_judged(args.queries), "misspelled": MISSPELLED, "pinyin": PINYIN,
              "random latin": random_latin(10), "traditional": TRADITIONAL}
    items = [(g, q) for g, qs in groups.items() for q in qs]
    proc, port, started = start_server(args.corpus, args.index, args.workers, 0)
    samples: dict[str, list[float]] = {g: [] for g in groups}
    per_query: dict[str, list[float]] = {}
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def get(q: str) -> float:
            t0 = time.perf_counter()
            conn.request("GET", "/api/search?q=" + urllib.parse.quote(q))
            resp = conn.getresponse()
            resp.read()
            dt = (time.perf_counter() - t0) * 1000
            if resp.status != 200:
                raise SystemExit(f"HTTP {resp.status} for {q!r}")
            return dt

        for _g, q in items:  # warm-up: every query once
            get(q)
        for _ in range(args.passes):
            for g, q in items:
                dt = get(q)
                samples[g].append(dt)
                per_query.setdefault(q, []).append(dt)
        conn.close()
    finally:
        stop_server(proc)

    every = [x for v in samples.values() for x in v]
    p50, p99 = pct(every, 50), pct(every, 99)
    print(f"zhsearch serve --workers {args.workers} --cache-size 0 (started in {started:.2f} s); "
          f"{len(items)} queries x {args.passes} passes, one request at a time\n")
    print("| queries | n | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for g, v in list(samples.items()) + [("all", every)]:
        print(f"| {g} | {len(v)} | {pct(v, 50):.1f} | {pct(v, 90):.1f} | {pct(v, 99):.1f} | {max(v):.1f} |")
    print(f"\np99 / p50 = {p99 / p50:.2f} (target <= 4; p50 target <= 12 ms)")
    slow = sorted(per_query.items(), key=lambda kv: -statistics.median(kv[1]))[:8]
    print("\nslowest (median ms): " + ", ".join(f"{q} {statistics.median(v):.1f}" for q, v in slow))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
