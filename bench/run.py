"""The speed benchmark: build, incremental update and query figures, one command,
every figure beside its reference.

    .venv/bin/python bench/run.py [--corpus ../shared/corpus] [--work DIR]
        [--passes 3] [--http-duration 20] [--workers 2] [--skip-peer] [--scaling] [--json FILE]

Sections, in this order (all on a private copy of the corpus in ``--work``,
default a temp dir, so the shared corpus is never touched):

1. **Full build**: the segmentation floor (jieba alone, one process, search
   mode, the same text the indexer analyses; ``build_floor.py``), then a
   ``zhsearch index --rebuild`` as a user runs it.  Wall time, articles/s,
   MB/s, peak memory of the whole process tree (summed PSS, so pages the forked
   workers share are counted once; sampled every 0.5 s) and of its largest
   process (RSS), size of the
   live generation on disk against the markdown and the analysed text, and
   build/floor.
2. **Incremental**: ``zhsearch index`` in a new process (interpreter start,
   dictionary load included) after one article was edited, after a ``touch``
   only, and after 100 articles were edited; each run's ``--json`` report is
   checked to have done exactly that.
3. **Queries in-process**: ``latency.py`` on the built index (the 40 judged
   queries plus 200 drawn from titles and tags, cold once then ``--passes``
   warm, snippets and facets for 10 hits, result cache off), interleaved
   with the stock Whoosh + jieba peer, ratios and start-up included; then the
   same queries with the engine's decoded-postings cache off too.
4. **HTTP**: ``zhsearch serve`` (``--workers`` processes, 8 threads each)
   started on the index; time to its first answered ``/api/search``; then
   ``wrk`` (Debian package) with 8 connections cycles through the same 240
   queries: once with the result cache off (every request computed; decoded
   posting lists are still reused, as in any long-running server) and
   once warm with the cache on (after one pass that filled it) - throughput,
   p50/p99, non-2xx answers, socket errors and timeouts.
5. ``--scaling``: build time, index size and warm query latency (cache off)
   at 1/4, 1/2, 1x and 4x the corpus (the 4x copy repeats every article
   under three more paths).

Timings on this 2-core machine are noisy: compare ratios measured in the
same run, never absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from build_floor import segmentation_floor, segmenter_input, timed_build
from load import _env as env
from load import free_port
from load import percentile as pct
from tune import warm_latency

ZHSEARCH = str(Path(sys.executable).parent / "zhsearch")
SHARED = ROOT.parent / "shared"


# ------------------------------------------------------------------ helpers
def tree_memory_kb(pgid: int) -> tuple[int, int]:
    """Memory of the live processes of a process group: the summed PSS (pages
    shared by several processes - jieba's dictionary inherited by every
    forked worker - counted once, split between them) and the largest RSS."""
    total = largest = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid or fields[0] == "Z":
                continue
            with open(f"/proc/{entry}/smaps_rollup", encoding="ascii") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        largest = max(largest, int(line.split()[1]))
                    elif line.startswith("Pss:"):
                        total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total, largest


def run_timed(cmd: list[str]) -> tuple[float, tuple[int, int], subprocess.CompletedProcess]:
    """Run ``cmd`` as its own process group: wall seconds, (peak summed PSS,
    peak single-process RSS) in kB, and the completed process."""
    peak = 0
    peak_one = 0
    stop = threading.Event()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)

    def sample() -> None:
        nonlocal peak, peak_one
        while not stop.is_set():
            pss, rss = tree_memory_kb(proc.pid)
            peak, peak_one = max(peak, pss), max(peak_one, rss)
            stop.wait(0.5)  # reading smaps_rollup costs CPU: at 50 ms it slowed the build ~20 %

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    cp = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return wall, (peak, peak_one), cp


def generation_size(index: Path) -> int:
    gen = index / (index / "CURRENT").read_text().strip()
    return sum(p.stat().st_size for p in gen.rglob("*") if p.is_file())


def markdown_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*") if p.suffix.lower() == ".md" and p.is_file())


def edit(path: Path, stamp: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"\n\n基准测试编辑 {stamp}\n")


# ------------------------------------------------------------------ 1. build
def bench_build(corpus: Path, index: Path, workers: int) -> dict:
    inp = segmenter_input(corpus)
    raw_bytes, chars = inp.markdown_bytes, inp.chars
    print(f"corpus: {inp.articles} articles, {raw_bytes / 1e6:.1f} MB of markdown, {len(inp.runs)} Han runs, "
          f"{chars / 1e6:.2f} M characters given to the segmenter", flush=True)
    floor = segmentation_floor(inp)
    print(f"segmentation floor (jieba 0.42.1 search mode, 1 process, exactly those runs): {floor:.1f} s",
          flush=True)
    shutil.rmtree(index, ignore_errors=True)
    cmd = [ZHSEARCH, "index", "--corpus", str(corpus), "--index", str(index), "--rebuild", "--json"]
    if workers:
        cmd += ["--workers", str(workers)]
    wall, (peak_kb, peak_one_kb), cp = run_timed(cmd)
    rep = json.loads(cp.stdout)
    size = generation_size(index)
    # the ratio from three alternated floor/build pairs (the first one also
    # sampled memory): on a shared machine one pair can be off by 20 %
    runs = [(wall / floor, floor, wall)]
    for _ in range(2):
        f = segmentation_floor(inp)
        w = timed_build(corpus, index, workers)
        runs.append((w / f, f, w))
        print(f"  again: floor {f:.1f} s, build {w:.1f} s: {w / f:.2f}x", flush=True)
    _ratio, floor, wall = sorted(runs)[1]
    r = {"articles": rep["documents"], "markdown_bytes": raw_bytes, "segmenter_chars": chars,
         "floor_s": floor, "build_s": wall, "build_vs_floor_runs": [round(x[0], 3) for x in runs],
         "articles_per_s": rep["documents"] / wall, "mb_per_s": raw_bytes / 1e6 / wall,
         "peak_pss_mib": peak_kb / 1024, "peak_rss_one_process_mib": peak_one_kb / 1024, "index_bytes": size,
         "index_vs_markdown": size / raw_bytes, "build_vs_floor": wall / floor}
    print(f"full build (median of 3): {wall:.1f} s = {r['build_vs_floor']:.2f}x the floor of the same pair; "
          f"{r['articles_per_s']:.0f} articles/s, "
          f"{r['mb_per_s']:.2f} MB/s; peak memory: {r['peak_pss_mib']:.0f} MiB PSS summed over the process "
          f"tree, {r['peak_rss_one_process_mib']:.0f} MiB RSS of the largest process; "
          f"index {size / 1e6:.1f} MB = {r['index_vs_markdown']:.2f}x the markdown", flush=True)
    return r


# ------------------------------------------------------------------ 2. incremental
def bench_incremental(corpus: Path, index: Path) -> dict:
    files = markdown_files(corpus)
    stamp = str(time.time_ns())
    base = [ZHSEARCH, "index", "--corpus", str(corpus), "--index", str(index), "--json"]
    out = {}

    def one(label: str, change, expect: dict) -> None:
        change()
        wall, (peak, _one), cp = run_timed(base)
        rep = json.loads(cp.stdout)
        got = {k: len(rep[k]) if isinstance(rep[k], list) else rep[k] for k in expect}
        if got != expect:
            raise SystemExit(f"incremental '{label}': expected {expect}, the run reported {got}")
        out[label] = {"wall_s": wall, "peak_pss_mib": peak / 1024, "elapsed_in_process_s": rep["elapsed_s"]}
        print(f"incremental, {label}: {wall:.2f} s wall (in-process {rep['elapsed_s']:.2f} s), "
              f"peak {peak / 1024:.0f} MiB PSS", flush=True)

    one("nothing changed", lambda: None, {"updated": 0, "added": 0})
    one("1 article edited", lambda: edit(files[len(files) // 2], stamp), {"updated": 1})
    one("1 article touched (same bytes)", lambda: os.utime(files[len(files) // 3]), {"updated": 0, "added": 0})
    step = max(1, len(files) // 100)
    hundred = files[::step][:100]
    one("100 articles edited", lambda: [edit(p, stamp + "b") for p in hundred], {"updated": len(hundred)})
    return out


# ------------------------------------------------------------------ 3. in-process
def bench_queries(corpus: Path, index: Path, passes: int, skip_peer: bool, out_dir: Path) -> str:
    cmd = [sys.executable, str(BENCH / "latency.py"), "--index", str(index), "--corpus", str(corpus),
           "--passes", str(passes), "--out", str(out_dir)]
    if skip_peer:
        cmd.append("--skip-peer")
    p = subprocess.run(cmd, env=env(), capture_output=True, text=True, cwd=str(ROOT))
    if p.returncode != 0:
        raise SystemExit(f"latency.py failed:\n{p.stderr[-3000:]}")
    print(p.stdout, flush=True)
    # The engine keeps decoded posting lists (search.vector.postings_cache); the
    # warm passes above reuse them.  The same queries with that cache off show
    # what decoding every list on every query costs.
    from search.engine import Engine
    from search.query import DEFAULT_RANKING

    queries = [line.split("\t")[2] for line in (out_dir / "latency-queries.tsv").read_text(encoding="utf-8").splitlines()
               if line.count("\t") >= 2]
    lat = warm_latency(Engine(index, cache_size=0, postings_cache_mb=0), queries, DEFAULT_RANKING, passes=2)
    line = (f"ours, postings cache off (every posting list decoded per query), {len(lat)} queries, "
            f"median of 2 warm runs each: p50 {pct(lat, 50):.1f} ms, p95 {pct(lat, 95):.1f} ms, "
            f"p99 {pct(lat, 99):.1f} ms")
    print(line, flush=True)
    return p.stdout + "\n" + line + "\n"


# ------------------------------------------------------------------ 4. HTTP
_WRK_LAT = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(port: int, paths_file: Path, seconds: float, connections: int = 8) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--timeout", "10s", "--latency",
           "-s", str(BENCH / "wrk_paths.lua"), f"http://127.0.0.1:{port}"]
    p = subprocess.run(cmd, env={**env(), "WRK_PATHS": str(paths_file)}, capture_output=True, text=True)
    text = p.stdout
    r = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
         "requests": int(re.search(r"(\d+) requests in", text).group(1)),
         "non_2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", text)) else 0}
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    r["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    for q, v, u in _WRK_LAT.findall(text):
        r[f"p{q}_ms"] = _ms(v, u)
    return r


def start_server(corpus: Path, index: Path, workers: int, cache: int) -> tuple[subprocess.Popen, int, float]:
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([ZHSEARCH, "serve", "--corpus", str(corpus), "--index", str(index), "--port", str(port),
                             "--workers", str(workers), "--cache-size", str(cache)],
                            env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api/search?q=" + urllib.parse.quote("事务 隔离级别")
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                if resp.status == 200:
                    break
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("zhsearch serve exited before answering") from None
            time.sleep(0.05)
    return proc, port, time.perf_counter() - t0


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def bench_http(corpus: Path, index: Path, queries_tsv: Path, workers: int, seconds: float) -> dict:
    queries = [line.split("\t")[-1].strip() for line in queries_tsv.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    paths_file = queries_tsv.with_name("http-paths.txt")
    paths_file.write_text("".join(f"/api/search?q={urllib.parse.quote(q)}\n" for q in queries), encoding="utf-8")
    out: dict = {"queries": len(queries), "workers": workers}
    if not shutil.which("wrk"):
        print("HTTP: wrk is not installed (apt-get install wrk); section skipped", flush=True)
        return out
    starts = []
    for _ in range(3):
        proc, port, started = start_server(corpus, index, workers, 1024)
        starts.append(started)
        stop_server(proc)
    out["startup_s"] = statistics.median(starts)
    print(f"serve start-up to first answered query (median of 3): {out['startup_s']:.2f} s "
          f"[{', '.join(f'{s:.2f}' for s in starts)}]", flush=True)
    for label, cache, warm in (("computed (cache off)", 0, False), ("warm (result cache on)", 1024, True)):
        proc, port, _ = start_server(corpus, index, workers, cache)
        try:
            if warm:  # every worker sees every query once: one pass per worker, plus slack
                run_wrk(port, paths_file, max(10.0, seconds))
            r = run_wrk(port, paths_file, seconds)
        finally:
            stop_server(proc)
        out[label] = r
        print(f"HTTP {label}, {workers} worker(s) x 8 threads, wrk 8 connections {seconds:.0f} s: "
              f"{r['rps']:.1f} req/s, p50 {r.get('p50_ms', float('nan')):.0f} ms, "
              f"p99 {r.get('p99_ms', float('nan')):.0f} ms, {r['requests']} requests, "
              f"non-2xx {r['non_2xx']}, socket errors/timeouts {r['socket_errors']}", flush=True)
    return out


# ------------------------------------------------------------------ 5. scaling
def make_scaled(src: Path, dst: Path, factor: float) -> int:
    shutil.rmtree(dst, ignore_errors=True)
    files = markdown_files(src)
    if factor <= 1:
        step = round(1 / factor)
        chosen = files[::step]
        copies = 1
    else:
        chosen = files
        copies = int(factor)
    for c in range(copies):
        for p in chosen:
            rel = p.relative_to(src)
            target = dst / (f"copy{c}" if copies > 1 else "") / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(p, target)
    for extra in ("userdict.txt", "synonyms.txt"):
        if (src / extra).is_file():
            shutil.copyfile(src / extra, dst / extra)
    return len(chosen) * copies


def bench_scaling(corpus: Path, work: Path, queries_tsv: Path) -> list[dict]:
    queries = [line.split("\t")[-1].strip() for line in queries_tsv.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    rows = []
    for factor in (0.25, 0.5, 1, 4):
        c = work / f"scale-{factor}"
        ix = work / f"scale-{factor}-ix"
        n = make_scaled(corpus, c, factor)
        md = sum(p.stat().st_size for p in markdown_files(c))
        shutil.rmtree(ix, ignore_errors=True)
        wall, (peak, _one), _ = run_timed([ZHSEARCH, "index", "--corpus", str(c), "--index", str(ix), "--json"])
        size = generation_size(ix)
        from search.engine import Engine
        from search.query import DEFAULT_RANKING

        lat = warm_latency(Engine(ix, cache_size=0), queries, DEFAULT_RANKING, passes=2)
        row = {"factor": factor, "articles": n, "markdown_mb": md / 1e6, "build_s": wall,
               "peak_pss_mib": peak / 1024, "index_mb": size / 1e6,
               "p50_ms": pct(lat, 50), "p95_ms": pct(lat, 95), "p99_ms": pct(lat, 99)}
        rows.append(row)
        print(f"scale {factor}x: {n} articles, {md / 1e6:.1f} MB markdown; build {wall:.1f} s, "
              f"peak {peak / 1024:.0f} MiB PSS, index {size / 1e6:.1f} MB; warm p50 {row['p50_ms']:.1f} ms, "
              f"p95 {row['p95_ms']:.1f} ms, p99 {row['p99_ms']:.1f} ms", flush=True)
        shutil.rmtree(c, ignore_errors=True)
        shutil.rmtree(ix, ignore_errors=True)
    return rows


# ------------------------------------------------------------------ main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus", help="corpus to copy (never modified)")
    ap.add_argument("--work", type=Path, help="where the copy and the index go (default: a temp dir, removed)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="index and serve processes")
    ap.add_argument("--passes", type=int, default=3, help="warm passes of the in-process query timing")
    ap.add_argument("--http-duration", type=float, default=20.0, help="seconds per wrk run")
    ap.add_argument("--skip-peer", action="store_true", help="no stock Whoosh peer (saves ~3 min)")
    ap.add_argument("--scaling", action="store_true", help="also measure 1/4, 1/2, 1x and 4x corpora (~10 min)")
    ap.add_argument("--only", default="build,incremental,queries,http",
                    help="comma-separated sections to run (build is needed by the others on a fresh --work)")
    ap.add_argument("--json", type=Path, help="write every figure here")
    args = ap.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"corpus {args.corpus} not found")
    sections = set(args.only.split(","))
    work = args.work or Path(tempfile.mkdtemp(prefix="zhsearch-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus, index, out_dir = work / "corpus", work / "ix", work / "out"
    out_dir.mkdir(exist_ok=True)
    results: dict = {"machine": {"cpus": os.cpu_count(), "load_at_start": os.getloadavg()}}
    try:
        if not corpus.is_dir():
            shutil.copytree(args.corpus, corpus)
        if "build" in sections:
            print("\n## 1. Full build\n", flush=True)
            results["build"] = bench_build(corpus, index, args.workers)
        if "incremental" in sections:
            print("\n## 2. Incremental\n", flush=True)
            results["incremental"] = bench_incremental(corpus, index)
        if "queries" in sections:
            print("\n## 3. Queries in-process (latency.py)\n", flush=True)
            results["queries_report"] = bench_queries(corpus, index, args.passes, args.skip_peer, out_dir)
        if "http" in sections:
            print("\n## 4. HTTP (zhsearch serve + wrk)\n", flush=True)
            qtsv = out_dir / "latency-queries.tsv"
            if not qtsv.is_file():
                qtsv = BENCH / "out" / "latency-queries.tsv"
            results["http"] = bench_http(corpus, index, qtsv, args.workers, args.http_duration)
        if args.scaling:
            print("\n## 5. Scaling\n", flush=True)
            qtsv = out_dir / "latency-queries.tsv"
            if not qtsv.is_file():
                qtsv = BENCH / "out" / "latency-queries.tsv"
            results["scaling"] = bench_scaling(args.corpus, work, qtsv)
    finally:
        results["machine"]["load_at_end"] = os.getloadavg()
        if args.json:
            args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average at start {results['machine']['load_at_start']}, at end {results['machine']['load_at_end']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
