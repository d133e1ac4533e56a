"""rjieba against jieba on the whole development corpus: the same words, how much faster.

    python bench/segmenters.py [--corpus ../shared/corpus]

Feeds both segmenter backends (``indexer.segmenter``) exactly what the
indexer gives its segmenter — every run of Han characters of every article's
word fields, and the Han runs of two or more characters of its code — through
the same ``Analyzer`` (so the adapter rules are part of what is compared), and
counts the runs whose tokens (words, sub-words, positions, offsets, roles)
differ.  Times are of the analyzer's path per backend, measured in this
process one after the other: only their ratio means anything.
``tests/test_segmenter.py`` holds the same agreement on the embedded corpus
and on a sample of this one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.analysis import Analyzer
from indexer.article import ArticleError, read_article
from indexer.build import scan_corpus


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--userdict", default=str(ROOT / "corpus" / "userdict.txt"))
    args = ap.parse_args()
    corpus = Path(args.corpus)
    t0 = time.perf_counter()
    jieba = Analyzer(args.userdict, segmenter="jieba", cache_dir=tempfile.mkdtemp()).load()
    t_jieba = time.perf_counter() - t0
    t0 = time.perf_counter()
    rjieba = Analyzer(args.userdict, segmenter="rjieba").load()
    t_rjieba = time.perf_counter() - t0
    print(f"dictionary load: jieba {t_jieba:.2f} s, rjieba {t_rjieba:.2f} s ({jieba.segmenter.name}, "
          f"{rjieba.segmenter.name})")

    files, _ = scan_corpus(corpus)
    runs: list[str] = []
    code: list[str] = []
    articles = 0
    for _rel, path in sorted(files.items()):
        try:
            a = read_article(path, corpus)
        except ArticleError:
            continue
        articles += 1
        for text in (a.title, "\n".join(a.keywords + a.tags), a.headings, a.description, a.body):
            runs += jieba.han_runs(text)
        code += [r for r in jieba.han_runs(a.code) if len(r) >= 2]
    print(f"{articles} articles: {len(runs)} Han runs of word fields ({sum(map(len, runs)) / 1e6:.2f} M "
          f"characters), {len(code)} of code")

    cut = {}
    for name, an in (("jieba", jieba), ("rjieba", rjieba)):
        seg = an.segmenter
        t0 = time.perf_counter()
        for r in runs:
            seg.words(r)
        cut[name] = time.perf_counter() - t0
    times = {}
    out = {}
    for name, an in (("jieba", jieba), ("rjieba", rjieba)):
        t0 = time.perf_counter()
        out[name] = [an.word_tokens_roles(r) for r in runs]
        times[name] = time.perf_counter() - t0
    differ = [(r, a, b) for r, a, b in zip(runs, out["jieba"], out["rjieba"], strict=True) if a != b]
    code_differ = [r for r in code if jieba.plain_words(r) != rjieba.plain_words(r)]
    print(f"word fields: {len(runs) - len(differ)} of {len(runs)} runs identical "
          f"({100 * (1 - len(differ) / len(runs)):.4f} %)")
    for run, a, b in differ[:10]:
        print(f"  {run}: jieba {[t.text for t in a]}, rjieba {[t.text for t in b]}")
    print(f"code: {len(code) - len(code_differ)} of {len(code)} runs identical")
    print(f"the cut alone (Segmenter.words over every run): jieba {cut['jieba']:.1f} s, "
          f"rjieba {cut['rjieba']:.1f} s: {cut['jieba'] / cut['rjieba']:.1f}x")
    print(f"analysis path (Analyzer.word_tokens_roles over every run): jieba {times['jieba']:.1f} s, "
          f"rjieba {times['rjieba']:.1f} s: {times['jieba'] / times['rjieba']:.1f}x")


if __name__ == "__main__":
    main()
