"""How soon a saved article is searchable with ``--watch``, against a new
``zhsearch index`` process, measured in one run.

    python bench/watch.py [--corpus ../shared/corpus] [--edits 10]

The corpus is copied to a temporary folder and indexed.  Then, with the
watcher running in this process (as in ``zhsearch serve --watch``, default
timing) and a long-lived :class:`search.Engine` (as the site has):

* **edit → searchable**: an existing article gets a new unique word; the
  clock runs from the moment its file is written until a search through the
  engine finds the word.  Repeated ``--edits`` times; median and worst.
* **new → searchable**, **delete → gone**: the same for a new article and
  for removing it.
* **burst**: 100 new articles written at once; how many updates the watcher
  made and how long until all 100 are searchable.
* **deploy**: the corpus folder replaced by ``rm -rf`` and a copy with one
  article changed, then swapped by rename (``mv corpus corpus.old && mv
  corpus.new corpus``): how long after the copy (the rename) the change is
  searchable, and an edit in the folder now at the path after that.

The reference is what the same edit costs without ``--watch``: ``zhsearch
index`` run as a new process (Python start, jieba load, update), timed here
on the same machine at the same time, so the ratio holds on a noisy machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer import store
from indexer.build import IndexConfig, update_index
from indexer.watch import LiveIndexer, watch
from search.engine import Engine, search

ZHSEARCH = Path(sys.executable).with_name("zhsearch")
POLL_S = 0.01


def until(cond, timeout: float = 60.0) -> float:
    """Seconds until ``cond()`` holds (polling every 10 ms)."""
    t0 = time.perf_counter()
    while not cond():
        if time.perf_counter() - t0 > timeout:
            raise TimeoutError(f"not searchable within {timeout:.0f} s")
        time.sleep(POLL_S)
    return time.perf_counter() - t0


def found(engine: Engine, word: str) -> set[str]:
    return {h.path for h in search(engine, word, per_page=200).hits}


def searchable(engine: Engine, index: Path, word: str, expect) -> float:
    """Seconds until a search finds ``word`` as ``expect`` says: the clock stops
    once a new generation is published *and* a search through the engine has
    answered from it (the first search of a generation opens it).  CURRENT is
    polled, not the engine, so the poll does not compete with the update for
    the interpreter the way a search every 10 ms would."""
    t0 = time.perf_counter()
    seen = None
    while True:
        gen = store.read_current(index).name
        if gen != seen:
            seen = gen
            if expect(found(engine, word)):
                return time.perf_counter() - t0
        if time.perf_counter() - t0 > 60:
            raise TimeoutError(word)
        time.sleep(POLL_S)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=str(ROOT / "corpus"))
    ap.add_argument("--edits", type=int, default=10)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="zhsearch-watch-bench-"))
    try:
        corpus = tmp / "corpus"
        shutil.copytree(args.corpus, corpus, ignore=shutil.ignore_patterns(".git"))
        index = tmp / "ix"
        t0 = time.perf_counter()
        first = update_index(IndexConfig(corpus, index))
        print(f"corpus {args.corpus}: {first.total} articles, full build {time.perf_counter() - t0:.1f} s")
        victim = sorted(p for p in corpus.rglob("*.md"))[len(first.added) // 2]
        rel = victim.relative_to(corpus).as_posix()
        original = victim.read_text(encoding="utf-8", errors="replace")

        # reference: an edit, then `zhsearch index` as a new process
        ref = []
        for i in range(3):
            victim.write_text(original + f"\n\n参考词语qzref{i}\n", encoding="utf-8")
            t = time.perf_counter()
            subprocess.run([str(ZHSEARCH), "index", "--corpus", str(corpus), "--index", str(index)],
                           check=True, capture_output=True)
            ref.append(time.perf_counter() - t)
        ref_s = statistics.median(ref)
        print(f"reference: `zhsearch index` in a new process after one edit: median {ref_s:.2f} s "
              f"({', '.join(f'{x:.2f}' for x in ref)})")

        indexer = LiveIndexer(IndexConfig(corpus, index, workers=1))
        indexer.load()
        engine = Engine(index, cache_size=0)
        search(engine, "qzwarmup")  # a warm server: its "did you mean" vocabulary is built
        updates: list = []
        stop = threading.Event()
        thread = threading.Thread(target=watch, args=(indexer,), daemon=True,
                                  kwargs={"stop": stop, "on_update": lambda r, s, w: updates.append(r)})
        thread.start()
        until(lambda: updates)  # the catch-up update: the watch is in place

        edit = []
        for i in range(args.edits):
            word = f"qzedit{i}x"
            victim.write_text(original + f"\n\n新增的词语 {word}\n", encoding="utf-8")
            edit.append(searchable(engine, index, word, lambda paths: paths == {rel}))
            time.sleep(0.3)
        new_file = corpus / "bench-new-article.md"
        new_file.write_text("# 新文章\n\n全新的词语 qznewx\n", encoding="utf-8")
        new_s = searchable(engine, index, "qznewx", lambda paths: paths == {"bench-new-article.md"})
        time.sleep(0.3)
        new_file.unlink()
        gone_s = searchable(engine, index, "qznewx", lambda paths: not paths)
        time.sleep(0.3)

        before = len([u for u in updates if u.changed])
        t = time.perf_counter()
        for i in range(100):
            (corpus / f"bench-burst-{i:03d}.md").write_text(f"# 批量 {i}\n\n批量词语 qzburstx 第{i}篇\n",
                                                             encoding="utf-8")
        write_s = time.perf_counter() - t
        burst_s = until(lambda: len(found(engine, "qzburstx")) == 100) + write_s
        burst_updates = len([u for u in updates if u.changed]) - before

        # a deploy by `rm -rf corpus && cp -r release corpus`, then one by rename
        release = tmp / "release"
        shutil.copytree(corpus, release)
        (release / rel).write_text(original + "\n\n部署词语 qzdeployx\n", encoding="utf-8")
        t = time.perf_counter()
        shutil.rmtree(corpus)
        shutil.copytree(release, corpus)
        copy_s = time.perf_counter() - t
        deploy_s = searchable(engine, index, "qzdeployx", lambda paths: paths == {rel})
        staged = tmp / "corpus.new"
        shutil.copytree(corpus, staged)
        (staged / rel).write_text(original + "\n\n换目录词语 qzswapx\n", encoding="utf-8")
        corpus.rename(tmp / "corpus.old")
        staged.rename(corpus)
        swap_s = searchable(engine, index, "qzswapx", lambda paths: paths == {rel})
        victim.write_text(original + "\n\n之后的词语 qzafterx\n", encoding="utf-8")
        after_s = searchable(engine, index, "qzafterx", lambda paths: paths == {rel})
        stop.set()
        thread.join(10)

        med = statistics.median(edit)
        in_process = statistics.median(u.elapsed for u in updates if u.changed and len(u.updated) == 1)
        print(f"--watch, edit → searchable: median {med:.2f} s, worst {max(edit):.2f} s over {len(edit)} edits "
              f"({med / ref_s:.2f}× the reference); the update itself {in_process:.2f} s")
        print(f"--watch, new article → searchable {new_s:.2f} s; deleted → gone {gone_s:.2f} s")
        print(f"--watch, burst of 100 new articles: {burst_updates} updates, all searchable after {burst_s:.2f} s "
              f"(writing them took {write_s:.2f} s)")
        print(f"--watch, corpus replaced by rm -rf and a copy ({copy_s:.2f} s): the changed article searchable "
              f"{deploy_s:.2f} s after the copy; replaced by rename: {swap_s:.2f} s after it; an edit in the "
              f"renamed-in folder: {after_s:.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
