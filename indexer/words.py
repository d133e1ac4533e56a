"""New-word discovery: frequent Han sequences that jieba does not know.

``zhsearch words`` runs this to help a site owner grow ``userdict.txt``.  A
product or model name that jieba's dictionary lacks (``星河智算``) is cut into
pieces (``星河/智/算``); it is still found through the pieces and the bigram
field, but phrases, ranking, highlighting and the pinyin rescue all work
better when it is one word.  The corpus itself says which sequences are
words, by three classic statistics computed over runs of Han characters in
the folded title, headings and body of every article:

* **frequency** — the sequence (2–6 characters) occurs at least
  ``min_count`` times, in at least ``MIN_DOCS`` articles;
* **cohesion** — its characters stick together far more often than chance
  would put them side by side.  For every way of cutting ``w`` into a left
  part ``a`` and a right part ``b``::

      cohesion(w) = min over cuts of  count(w) · N / (count(a) · count(b))

  (``N`` = Han characters in the corpus), i.e. ``2 ** PMI`` of the weakest
  cut.  ``的模型`` is frequent but loose (``的`` goes with everything);
* **free boundaries** — a word appears among many different neighbours: the
  entropy (bits) of the characters just left of it and of those just right of
  it must both reach ``MIN_ENTROPY``.  A fragment like ``据库`` (always
  ``数据库``) or ``星河智`` (always ``星河智算``) has a fixed neighbour and entropy
  near 0.  A run boundary (punctuation, Latin text, a line end) counts as a
  fresh neighbour every time.

Sequences that are already one word for the current jieba dictionary (stock
dictionary + the corpus's user dictionary + region words) are not new and are
skipped.  So are phrases, recognised by the pieces jieba's dictionary cut
(no HMM) makes of them: a particle or pronoun anywhere (``错误/的/问题``), a
modal verb, demonstrative or measure word first (``可能/会``, ``种/方``), a
locative or aspect word last (``情况/下``).  Finally a candidate contained in
a better one that accounts for most of its occurrences is dropped.

Ranking: ``score = count × log2(cohesion)``, i.e. occurrences × PMI of the
weakest cut: how often the word is cut wrongly, weighted by how surely it is
a word.  (A raw ``count × cohesion`` product lets one rare pair of rare
characters outrank terms used thousands of times.)

Latin and number tokens are never candidates: the analyzer already keeps
``Qwen2.5`` or ``GPT-4`` whole.
"""

from __future__ import annotations

import bisect
import logging
import math
import os
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

from . import filenames
from .analysis import Analyzer
from .article import ArticleError, read_article
from .build import scan_corpus

log = logging.getLogger(__name__)

MIN_LEN, MAX_LEN = 2, 6
MIN_COUNT = 5
MIN_DOCS = 2
MIN_COHESION = 8.0  # 2**3: three bits of PMI at the weakest cut
MIN_ENTROPY = 1.5  # bits, on both sides
#: A candidate is dropped when a better superstring has at least this share
#: of its occurrences (``星河智`` inside ``星河智算``).
NESTED_SHARE = 0.75
SEP = "\n"

#: jieba pieces that make a sequence a phrase rather than a word: particles,
#: pronouns and conjunctions anywhere; modal verbs, demonstratives, measure
#: words and "please/use/via" at the start; locatives and aspect words at the end.
FUNCTION_PIECES = frozenset("""
的 了 着 过 吗 呢 吧 啊 呀 是 和 与 及 或 把 被 给 让 也 都 就 还 又 很 并 而 但 我 你 他 她 它 们 之 所 且 则 即 得 地
我们 你们 他们 它们 这种 那种 一个 这个 那个 以下 以上 如下 是否 开始 可以 需要 可能
""".split())
BAD_FIRST = frozenset("""
可能 可以 需要 才 有 请 将 在 对 从 当 如果 因为 所以 但是 这 那 该 此 其 每 各 一 一个 一些 某些 某 上面 下面
以下 如下 如图 图 开始 进行 用于 通过 使用 默认 没有 不 没 已 已经 正在 更 最 再 只 种 个 张 条 次 些 位 款 第 两 三 几
如何 怎么 为什么 什么 哪些 直接 自动 所有 相关 不同 能够 必须 应该 比如 例如 例 以 为 于 等 由 向 到 后 前
同时 然后 首先 其中 这个 这些 那些 一般 一定 主要 具体 详细 非常 比较 只有 只要 即可 还有 没有 就是 也是 都是
句 台 轮 篇 份 套 项 件 推荐 建议 仅 为了 本 新 举个 第二个 第一个
先 中 来 时 另 用 较 另外 其他 其它 任何 整个 当前 之间 之后 之前 以后 而且 或者 并且 以及 即使 虽然 如此 即将
""".split())
#: Modal verbs that start real two-character words (会话, 要素, 能量).
BAD_FIRST_LONG = frozenset("会 能 要 可".split())
BAD_LAST = frozenset("""
下 中 时 后 上 里 内 前 外 时候 之后 之前 以后 以上 以下 以及 中的 等 一 个 种 些 为 是 在 到 会 能 可以 当 如 对 从 将
于 一个 一下 一些 这里 那里 这样 那样 来 去 总结 介绍 详解 简介 说明 相关 方面 情况 时间 过程 问题 部分 内容 操作 如何 什么
""".split())


@dataclass
class NewWord:
    word: str
    count: int
    docs: int
    cohesion: float
    left_entropy: float
    right_entropy: float
    score: float
    pieces: list[str]

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("cohesion", "left_entropy", "right_entropy", "score"):
            d[k] = round(d[k], 3)
        return d


@dataclass
class WordsReport:
    corpus: str
    articles: int
    skipped: list[tuple[str, str]]
    han_chars: int
    words: list[NewWord]


# ------------------------------------------------------------------ reading

def han_text(title: str, headings: str, body: str, analyzer: Analyzer) -> str:
    """The folded Han runs of an article, one per line."""
    parts = [headings, body]
    if title and title not in headings.split("\n"):  # a title from the first H1 is a heading too
        parts.insert(0, title)
    return SEP.join(analyzer.han_runs("\n".join(parts)))


def _read_job(job: tuple[str, str], analyzer: Analyzer) -> tuple[str, str | None, str | None]:
    path, root = job
    rel = filenames.key(Path(path).relative_to(root).as_posix())
    try:
        a = read_article(Path(path), Path(root))
    except ArticleError as exc:
        return rel, None, str(exc)
    except Exception as exc:  # never lose the run over one file
        return rel, None, f"unexpected error: {type(exc).__name__}: {exc}"
    return rel, han_text(a.title, a.headings, a.body, analyzer), None


def _map(fn, jobs: list, workers: int, chunksize: int = 1):
    if workers <= 1 or len(jobs) < 2:
        return list(map(fn, jobs))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, jobs, chunksize=chunksize))


# ----------------------------------------------------------------- counting

def _count(job: tuple[str, int, int]) -> dict[str, int]:
    """n-grams of one length with at least ``min_count`` occurrences."""
    text, n, min_count = job
    L = len(text)
    if n == 1:
        counts = Counter(text)
    else:
        counts = Counter(map(text.__getitem__, map(slice, range(L - n + 1), range(n, L + 1))))
    return {g: c for g, c in counts.items() if c >= min_count and SEP not in g}


def _entropy(counter: Counter, boundary: int) -> float:
    total = sum(counter.values()) + boundary
    if not total:
        return 0.0
    h = 0.0
    for c in counter.values():
        p = c / total
        h -= p * math.log2(p)
    if boundary:  # every boundary is a distinct neighbour
        h += boundary / total * math.log2(total)
    return h


def _neighbours(job: tuple[str, int, frozenset[str], list[int]]) -> dict[str, tuple[float, float, int]]:
    """Left/right neighbour entropy and document count of candidates of one length."""
    text, n, cands, starts = job
    L = len(text)
    hits = [i for i in range(L - n + 1) if text[i:i + n] in cands]
    left: dict[str, Counter] = defaultdict(Counter)
    right: dict[str, Counter] = defaultdict(Counter)
    lb: Counter = Counter()
    rb: Counter = Counter()
    docs: dict[str, set[int]] = defaultdict(set)
    for i in hits:
        w = text[i:i + n]
        c = text[i - 1] if i > 0 else SEP
        if c == SEP:
            lb[w] += 1
        else:
            left[w][c] += 1
        c = text[i + n] if i + n < L else SEP
        if c == SEP:
            rb[w] += 1
        else:
            right[w][c] += 1
        docs[w].add(bisect.bisect_right(starts, i))
    return {w: (_entropy(left[w], lb[w]), _entropy(right[w], rb[w]), len(docs[w])) for w in cands}


# --------------------------------------------------------------- discovery

def discover(corpus: Path, analyzer: Analyzer, *, min_count: int = MIN_COUNT, top: int | None = 50,
             max_articles: int | None = None, workers: int = 0) -> WordsReport:
    """The corpus's most frequent sequences that ``analyzer`` (its dictionary:
    stock + user dictionary + region words) does not know, best first."""
    corpus = Path(corpus)
    if not corpus.is_dir():
        raise FileNotFoundError(f"corpus folder {corpus} does not exist")
    min_count = max(2, int(min_count))
    workers = workers or os.cpu_count() or 1

    t0 = time.perf_counter()
    texts, skipped = _read_corpus(corpus, analyzer, max_articles, workers)
    # one string, articles and runs separated by SEP; starts[k] = offset of article k+1
    starts: list[int] = []
    pos = 0
    for t in texts:
        pos += len(t) + 1
        starts.append(pos)
    text = SEP.join(texts)
    han_chars = len(text) - text.count(SEP)

    log.debug("read %d articles, %d Han characters: %.1f s", len(texts), han_chars, time.perf_counter() - t0)
    big = len(text) > 200_000
    counts: dict[str, int] = {}
    for part in _map(_count, [(text, n, min_count) for n in range(1, MAX_LEN + 1)],
                     workers if big else 1):
        counts.update(part)

    log.debug("counted %d frequent n-grams: %.1f s", len(counts), time.perf_counter() - t0)
    cands = _cohesive_unknowns(counts, max(1, han_chars), analyzer)

    log.debug("%d cohesive unknown candidates: %.1f s", len(cands), time.perf_counter() - t0)
    by_len: dict[int, set[str]] = defaultdict(set)
    for w in cands:
        by_len[len(w)].add(w)
    stats: dict[str, tuple[float, float, int]] = {}
    for part in _map(_neighbours, [(text, n, frozenset(ws), starts) for n, ws in sorted(by_len.items())],
                     workers if big else 1):
        stats.update(part)

    log.debug("neighbour entropy: %.1f s", time.perf_counter() - t0)
    found: list[NewWord] = []
    for w, (coh, pieces) in cands.items():
        le, re_, docs = stats[w]
        if le < MIN_ENTROPY or re_ < MIN_ENTROPY or docs < MIN_DOCS:
            continue
        c = counts[w]
        found.append(NewWord(w, c, docs, coh, le, re_, c * math.log2(coh), pieces))
    found.sort(key=lambda x: (-x.score, -x.count, x.word))
    kept = _without_nested(found)
    return WordsReport(str(corpus), len(texts), skipped, han_chars, kept[:top] if top else kept)


def _read_corpus(corpus: Path, analyzer: Analyzer, max_articles: int | None,
                 workers: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Each article's Han text (:func:`han_text`; articles without any are
    left out), and the files skipped, with why."""
    files, skipped = scan_corpus(corpus)
    paths = list(files.values())
    if max_articles is not None:
        paths = paths[:max(0, max_articles)]
    jobs = [(str(p), str(corpus)) for p in paths]
    texts: list[str] = []
    read = _map(partial(_read_job, analyzer=analyzer), jobs, workers if len(jobs) >= 64 else 1, chunksize=16)
    for rel, text, why in read:
        if text is None:
            skipped.append((rel, why or "unreadable"))
        elif text:
            texts.append(text)
    return texts, skipped


def _cohesive_unknowns(counts: dict[str, int], han_chars: int,
                       analyzer: Analyzer) -> dict[str, tuple[float, list[str]]]:
    """word → (cohesion, its pieces) for the frequent sequences the
    dictionary does not know whose characters stick together (cohesion of
    the weakest split, over ``han_chars`` characters) and that are not
    phrases of known words."""
    cands: dict[str, tuple[float, list[str]]] = {}
    for w, c in counts.items():
        n = len(w)
        if n < MIN_LEN or analyzer.is_word(w):
            continue
        coh = min(c * han_chars / (counts[w[:k]] * counts[w[k:]]) for k in range(1, n))
        if coh < MIN_COHESION:
            continue
        pieces = analyzer.plain_words(w)
        if len(pieces) < 2 or _phrase_like(pieces):
            continue
        cands[w] = (coh, pieces)
    return cands


def _without_nested(found: list[NewWord]) -> list[NewWord]:
    """``found`` (best first) without a candidate inside a better one that
    accounts for most of its uses."""
    kept: list[NewWord] = []
    covered: dict[str, int] = {}  # substring of a kept word -> largest such count
    for nw in found:
        if covered.get(nw.word, 0) >= NESTED_SHARE * nw.count:
            continue
        kept.append(nw)
        w = nw.word
        for i in range(len(w)):
            for j in range(i + MIN_LEN, len(w) + 1):
                if j - i < len(w):
                    covered[w[i:j]] = max(covered.get(w[i:j], 0), nw.count)
    return kept


def _phrase_like(pieces: list[str]) -> bool:
    """Pieces that make a phrase (可能/会, 情况/下, 错误/的/问题), not a word."""
    if any(p in FUNCTION_PIECES for p in pieces):
        return True
    first, last = pieces[0], pieces[-1]
    if first in BAD_FIRST or last in BAD_LAST:
        return True
    return first in BAD_FIRST_LONG and sum(map(len, pieces)) > 2
