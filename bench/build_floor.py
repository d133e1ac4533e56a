"""Full-build time against the segmentation floor, measured in one run.

    python bench/build_floor.py [--corpus ../shared/corpus] [--workers N]

The floor is what jieba 0.42.1 alone needs, in one process and in search
mode (``jieba.lcut_for_search``), to segment exactly the text the indexer
hands to its segmenter: every run of Han characters of an article's title,
keywords and tags, headings, description and body, plus the Han runs of two
or more characters in the first ``MAX_CODE_CHARS`` of its code (comments),
each run folded as the analyzer folds it.  Latin words, numbers, code
identifiers and the character bigrams never reach a segmenter, so they are
not in the floor (an earlier floor segmented whole texts, code included,
which made it longer and flattered the ratio).  The build is a complete
``zhsearch index --rebuild`` into a fresh directory, run as a separate
process the way a user runs it.  Both are measured here, on the same
machine at the same time, so their ratio means something even when the
machine is noisy.
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
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.analysis import MAX_CODE_CHARS, Analyzer
from indexer.article import ArticleError, read_article
from indexer.build import scan_corpus


@dataclass
class SegmenterInput:
    """What the indexer gives its segmenter, for a whole corpus."""

    articles: int
    markdown_bytes: int
    runs: list[str]  # Han runs of the word fields and (2+ characters) of code

    @property
    def chars(self) -> int:
        return sum(map(len, self.runs))


def segmenter_input(corpus: Path) -> SegmenterInput:
    folding = Analyzer()  # folds only: the segmenter is never loaded here
    files, _ = scan_corpus(corpus)
    runs: list[str] = []
    raw_bytes = articles = 0
    for _rel, path in files.items():
        try:
            a = read_article(path, corpus)
        except ArticleError:
            continue
        articles += 1
        raw_bytes += a.size
        for text in (a.title, "\n".join(a.keywords + a.tags), a.headings, a.description, a.body):
            runs += folding.han_runs(text)
        runs += [r for r in folding.han_runs(a.code[:MAX_CODE_CHARS]) if len(r) >= 2]
    return SegmenterInput(articles, raw_bytes, runs)


def segmentation_floor(inp: SegmenterInput) -> float:
    """Seconds jieba needs, one process, search mode, for ``inp``'s runs."""
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()
    t0 = time.perf_counter()
    n = 0
    for run in inp.runs:
        n += len(jieba.lcut_for_search(run))
    return time.perf_counter() - t0


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def timed_build(corpus: Path, index: Path, workers: int) -> float:
    """Wall seconds of ``zhsearch index --rebuild`` into an empty ``index``, in a new process."""
    shutil.rmtree(index, ignore_errors=True)
    cmd = [str(Path(sys.executable).parent / "zhsearch"), "index", "--corpus", str(corpus),
           "--index", str(index), "--rebuild"]
    if workers:
        cmd += ["--workers", str(workers)]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3,
                    help="floor and build measured alternately this many times; the median ratio counts")
    args = ap.parse_args()
    corpus = Path(args.corpus)
    if not corpus.is_dir():
        sys.exit(f"corpus {corpus} not found")

    inp = segmenter_input(corpus)
    raw_bytes = inp.markdown_bytes
    print(f"corpus: {inp.articles} articles, {raw_bytes / 1e6:.1f} MB of markdown, "
          f"{len(inp.runs)} Han runs, {inp.chars / 1e6:.2f} M characters given to the segmenter")

    tmp = Path(tempfile.mkdtemp(prefix="zhsearch-bench-"))
    try:
        index = tmp / "ix"
        ratios = []
        for k in range(max(1, args.repeat)):
            # alternated, so a slow spell of a shared machine hits both
            floor = segmentation_floor(inp)
            build = timed_build(corpus, index, args.workers)
            ratios.append((build / floor, floor, build))
            print(f"run {k + 1}: floor (jieba 0.42.1 search mode, 1 process, those runs) {floor:.1f} s, "
                  f"full build (zhsearch index --rebuild, {args.workers or os.cpu_count()} workers) "
                  f"{build:.1f} s: {build / floor:.2f}x", flush=True)
        ratio, floor, build = sorted(ratios)[len(ratios) // 2]
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        size = dir_size(index)
        print(f"median run: floor {floor:.1f} s, build {build:.1f} s "
              f"({inp.articles / build:.0f} articles/s, {raw_bytes / 1e6 / build:.2f} MB/s of markdown)")
        print(f"  peak RSS of one process: {peak_kb / 1024:.0f} MiB")
        print(f"  index size: {size / 1e6:.1f} MB = {size / raw_bytes:.2f}x the markdown")
        print(f"build / floor = {ratio:.2f} (median of {len(ratios)})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
