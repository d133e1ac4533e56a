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
skipped, as are sequences that start or end with a function character
(``的``, ``是``, ``在`` …) and those contained in a better candidate with nearly
the same count.

Ranking: ``score = count × log2(cohesion)``, i.e. occurrences × PMI of the
weakest cut: how often the word is cut wrongly, weighted by how surely it is
a word.  (A raw ``count × cohesion`` product lets one rare pair of rare
characters outrank terms used thousands of times.)

Latin and number tokens are never candidates: the analyzer already keeps
``Qwen2.5`` or ``GPT-4`` whole.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from . import analysis
from .analysis import _HAN, fold
from .article import ArticleError, read_article
from .build import scan_corpus

MIN_LEN, MAX_LEN = 2, 6
MIN_COUNT = 5
MIN_DOCS = 2
MIN_COHESION = 8.0  # 2**3: three bits of PMI at the weakest cut
MIN_ENTROPY = 1.0  # bits, on both sides
#: A candidate is dropped when a better superstring has at least this share
#: of its occurrences (``星河智`` inside ``星河智算``).
NESTED_SHARE = 0.75
SEP = "\n"
_HAN_RUN_RE = re.compile(rf"[{_HAN}]+")

#: Characters a new word hardly ever starts / ends with (particles,
#: pronouns, prepositions, measure words).
BAD_FIRST = frozenset("的了着过吗呢吧啊呀是在和与及或把被给让对从也都就还又很并而但这那个我你他她它们其该此"
                      "等为以于之所且则即每各若因由向到将已被使得地更最再只不没")
BAD_LAST = frozenset("的了着过吗呢吧啊呀是在和与及或把被给让对从也都就还又很并而但这那个我你他她它们其该此"
                     "为以于之所且则即每各若因由向到将已使得地更最再只不没一")


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

def han_text(title: str, headings: str, body: str) -> str:
    """The folded Han runs of an article, one per line."""
    parts = [headings, body]
    if title and title not in headings.split("\n"):  # a title from the first H1 is a heading too
        parts.insert(0, title)
    folded = fold("\n".join(parts))[0]
    return SEP.join(_HAN_RUN_RE.findall(folded))


def _read_job(job: tuple[str, str]) -> tuple[str, str | None, str | None]:
    path, root = job
    rel = Path(path).relative_to(root).as_posix()
    try:
        a = read_article(Path(path), Path(root))
    except ArticleError as exc:
        return rel, None, str(exc)
    except Exception as exc:  # never lose the run over one file
        return rel, None, f"unexpected error: {type(exc).__name__}: {exc}"
    return rel, han_text(a.title, a.headings, a.body), None


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
    import bisect

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

def discover(corpus: Path, *, userdict: Path | None = None, cache_dir: Path | None = None,
             min_count: int = MIN_COUNT, top: int | None = 50, max_articles: int | None = None,
             workers: int = 0) -> WordsReport:
    """The corpus's most frequent unknown multi-character sequences, best first."""
    corpus = Path(corpus)
    if not corpus.is_dir():
        raise FileNotFoundError(f"corpus folder {corpus} does not exist")
    min_count = max(2, int(min_count))
    workers = workers or os.cpu_count() or 1
    analysis.configure(cache_dir=cache_dir, userdict=userdict)

    files, skipped = scan_corpus(corpus)
    paths = list(files.values())
    if max_articles is not None:
        paths = paths[:max(0, max_articles)]
    jobs = [(str(p), str(corpus)) for p in paths]
    texts: list[str] = []
    read = _map(_read_job, jobs, workers if len(jobs) >= 64 else 1, chunksize=16)
    for rel, text, why in read:
        if text is None:
            skipped.append((rel, why or "unreadable"))
        elif text:
            texts.append(text)
    # one string, articles and runs separated by SEP; starts[k] = offset of article k+1
    starts: list[int] = []
    pos = 0
    for t in texts:
        pos += len(t) + 1
        starts.append(pos)
    text = SEP.join(texts)
    han_chars = len(text) - text.count(SEP)

    big = len(text) > 200_000
    counts: dict[str, int] = {}
    for part in _map(_count, [(text, n, min_count) for n in range(1, MAX_LEN + 1)],
                     workers if big else 1):
        counts.update(part)

    tok = analysis.get_jieba()
    freq = tok.FREQ
    N = max(1, han_chars)
    cands: dict[str, float] = {}
    for w, c in counts.items():
        n = len(w)
        if n < MIN_LEN or freq.get(w) or w[0] in BAD_FIRST or w[-1] in BAD_LAST:
            continue
        coh = min(c * N / (counts[w[:k]] * counts[w[k:]]) for k in range(1, n))
        if coh >= MIN_COHESION:
            cands[w] = coh

    by_len: dict[int, set[str]] = defaultdict(set)
    for w in cands:
        by_len[len(w)].add(w)
    stats: dict[str, tuple[float, float, int]] = {}
    for part in _map(_neighbours, [(text, n, frozenset(ws), starts) for n, ws in sorted(by_len.items())],
                     workers if big else 1):
        stats.update(part)

    found: list[NewWord] = []
    for w, coh in cands.items():
        le, re_, docs = stats[w]
        if le < MIN_ENTROPY or re_ < MIN_ENTROPY or docs < MIN_DOCS:
            continue
        pieces = list(tok.cut(w, HMM=False))
        if len(pieces) < 2:
            continue
        c = counts[w]
        found.append(NewWord(w, c, docs, coh, le, re_, c * math.log2(coh), pieces))
    found.sort(key=lambda x: (-x.score, -x.count, x.word))

    kept: list[NewWord] = []
    for nw in found:
        if any(nw.word in k.word and k.count >= NESTED_SHARE * nw.count for k in kept):
            continue
        kept.append(nw)
    return WordsReport(str(corpus), len(texts), skipped, han_chars, kept[:top] if top else kept)
