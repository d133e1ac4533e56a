"""Full-build time against the segmentation floor, measured in one run.

    python bench/build_floor.py [--corpus ../shared/corpus] [--workers N]

The floor is what jieba alone needs, in one process and in search mode, to
segment exactly the text the indexer analyses (title, keywords, headings,
description, body and code of every article).  The build is a complete
``zhsearch index --rebuild`` into a fresh directory, run as a separate
process the way a user runs it.  Both are measured here, on the same machine
at the same time, so their ratio means something even when the machine is
noisy.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.article import ArticleError, read_article  # noqa: E402
from indexer.build import scan_corpus  # noqa: E402


def corpus_texts(corpus: Path) -> tuple[list[str], int]:
    files, _ = scan_corpus(corpus)
    texts = []
    raw_bytes = 0
    for rel, path in files.items():
        try:
            a = read_article(path, corpus)
        except ArticleError:
            continue
        raw_bytes += a.size
        texts.append("\n".join([a.title, "\n".join(a.keywords + a.tags), a.headings,
                                a.description, a.body, a.code]))
    return texts, raw_bytes


def segmentation_floor(texts: list[str]) -> float:
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    t0 = time.perf_counter()
    n = 0
    for t in texts:
        n += len(jieba.lcut_for_search(t))
    return time.perf_counter() - t0


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--workers", type=int, default=0)
    args = ap.parse_args()
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        sys.exit(f"corpus {corpus} not found")

    texts, raw_bytes = corpus_texts(corpus)
    chars = sum(len(t) for t in texts)
    text_bytes = sum(len(t.encode("utf-8")) for t in texts)
    print(f"corpus: {len(texts)} articles, {raw_bytes / 1e6:.1f} MB of markdown, "
          f"{chars / 1e6:.2f} M characters ({text_bytes / 1e6:.1f} MB) of analysed text")

    floor = segmentation_floor(texts)
    print(f"segmentation floor (jieba search mode, 1 process): {floor:.1f} s")

    tmp = Path(tempfile.mkdtemp(prefix="zhsearch-bench-"))
    try:
        index = tmp / "ix"
        cmd = [str(Path(sys.executable).parent / "zhsearch"), "index", "--corpus", str(corpus),
               "--index", str(index), "--rebuild"]
        if args.workers:
            cmd += ["--workers", str(args.workers)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        build = time.perf_counter() - t0
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        size = dir_size(index)
        print(f"full build (zhsearch index --rebuild, {args.workers or os.cpu_count()} workers): {build:.1f} s")
        print(f"  {len(texts) / build:.0f} articles/s, {raw_bytes / 1e6 / build:.2f} MB/s of markdown")
        print(f"  peak RSS of one process: {peak_kb / 1024:.0f} MiB")
        print(f"  index size: {size / 1e6:.1f} MB = {size / raw_bytes:.2f}x the markdown, "
              f"{size / text_bytes:.2f}x the analysed text")
        print(f"build / floor = {build / floor:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
