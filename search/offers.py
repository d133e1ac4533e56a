"""What the index could offer for a query that found nothing.

The analytics report lists searches without results; for each, the site
owner wants to know whether the words are there under another spelling or
name, and what to do about it:

* **did you mean** — a Latin typo corrected from the index's vocabulary
  (``chatgtp`` → ``chatgpt``, :mod:`search.spelling`);
* **pinyin** — Chinese words of the index that read like the query
  (``canshu`` → ``参数``, :mod:`search.pinyin`);
* **a synonym candidate** — a word of the index the query could be made a
  synonym of (``curation.yml``): a numeronym spelled out (``k8s`` →
  ``kubernetes``), an acronym spelled out by a title (``rag`` →
  ``Retrieval-Augmented Generation``), or the word a short prefix begins
  (``kube`` → ``kubernetes``);
* **the closest title** — the article whose title shares most of the
  query's characters (``n``-grams of the folded text), a candidate to pin.

Everything comes from the live generation (its vocabulary, pinyin table and
titles, built once per generation), never from outside the index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .chars import HAN_RUN_RE
from .engine import Engine
from .pinyin import wants_pinyin
from .spelling import correct

_LATIN_WORD = re.compile(r"[a-z][a-z0-9]*")
_NUMERONYM = re.compile(r"^([a-z])(\d{1,2})([a-z])$")
_ACRONYM = re.compile(r"^[a-z]{2,6}$")
_TITLE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
#: Below this Dice similarity a title is not worth offering.
MIN_TITLE_SIMILARITY = 0.2
MIN_PREFIX = 3


@dataclass
class Offers:
    did_you_mean: str | None = None
    pinyin: str | None = None
    synonym: str | None = None
    title: str | None = None
    path: str | None = None  # the closest title's article

    def to_dict(self) -> dict:
        return {"did_you_mean": self.did_you_mean, "pinyin": self.pinyin, "synonym": self.synonym,
                "closest_title": self.title, "closest_path": self.path}


class OfferFinder:
    """Offers for many queries of one generation (the titles' n-grams made once)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.gen = engine.generation()
        self.searcher = self.gen.searcher()
        self.fold = self.gen.analyzer.fold_query
        self.vocab = self.gen.vocabulary(self.searcher)
        self._pinyin = None
        self._titles: list[tuple[str, str, set[str]]] | None = None

    def offers(self, query: str) -> Offers:
        folded = self.fold(query or "").strip()
        words = _LATIN_WORD.findall(folded)
        latin_only = bool(words) and not HAN_RUN_RE.search(folded)
        out = Offers()
        if words and wants_pinyin(words, self.vocab):
            if self._pinyin is None:
                self._pinyin = self.gen.pinyin(self.searcher)
            out.pinyin = self._pinyin.suggest(" ".join(words))
        if words and not out.pinyin:  # as the results page: pinyin first, a typo only if it is not pinyin
            out.did_you_mean = correct(folded, words, self.vocab)
        if latin_only and len(words) == 1:
            out.synonym = self._synonym(words[0])
        out.title, out.path = self._closest_title(folded)
        return out

    def _synonym(self, word: str) -> str | None:
        df = self.vocab.df
        m = _NUMERONYM.match(word)
        if m:  # k8s: k, 8 letters, s
            first, n, last = m.group(1), int(m.group(2)), m.group(3)
            cands = [t for t in df if len(t) == n + 2 and t[0] == first and t[-1] == last]
            if cands:
                return max(cands, key=lambda t: (df[t], t))
        if _ACRONYM.match(word) and df.get(word, 0) == 0:
            phrase = self._acronym(word)
            if phrase:
                return phrase
        if len(word) >= MIN_PREFIX and df.get(word, 0) == 0:
            cands = [t for t in df if t.startswith(word) and len(t) > len(word)]
            if cands:
                return max(cands, key=lambda t: (df[t], -len(t), t))
        return None

    def _acronym(self, word: str) -> str | None:
        """A run of title words whose initials spell ``word`` (``rag`` →
        ``Retrieval-Augmented Generation``), the one most titles use."""
        counts: dict[str, int] = {}
        n = len(word)
        for title, _path, _grams in self._title_grams():
            ws = list(_TITLE_WORD.finditer(title))
            for i in range(len(ws) - n + 1):
                run = ws[i:i + n]
                if "".join(w.group()[0].lower() for w in run) == word and all(len(w.group()) > 1 for w in run):
                    phrase = title[run[0].start():run[-1].end()]
                    counts[phrase] = counts.get(phrase, 0) + 1
        return max(counts, key=lambda p: (counts[p], p)) if counts else None

    def _title_grams(self) -> list[tuple[str, str, set[str]]]:
        if self._titles is None:
            self._titles = [(t.title, t.path, grams(self.fold(t.title))) for t in self.engine.listing().titles]
        return self._titles

    def _closest_title(self, folded: str) -> tuple[str | None, str | None]:
        mine = grams(folded)
        if not mine:
            return None, None
        best: tuple[float, str, str] | None = None
        for title, path, theirs in self._title_grams():
            if not theirs:
                continue
            score = 2 * len(mine & theirs) / (len(mine) + len(theirs))
            if score >= MIN_TITLE_SIMILARITY and (best is None or (-score, path) < (-best[0], best[2])):
                best = (score, title, path)
        return (best[1], best[2]) if best else (None, None)


def grams(folded: str) -> set[str]:
    """Character n-grams of folded text: each Han character and pair of
    neighbours, the trigrams of each Latin word (with its ends marked)."""
    out: set[str] = set()
    for run in HAN_RUN_RE.findall(folded):
        out.update(run)
        out.update(run[i:i + 2] for i in range(len(run) - 1))
    for w in _LATIN_WORD.findall(folded):
        padded = f"^{w}$"
        out.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return out
