"""Chinese word segmentation backends: jieba-rs (``rjieba``) and jieba.

The analyzer asks three things of a segmenter, always about one run of Han
characters: its words with offsets (jieba's precise cut with HMM, as
``Tokenizer.tokenize(run, mode="default", HMM=True)`` gives them), its words
without HMM (for code comments and word discovery), and whether a string is
a dictionary word (frequency above zero: jieba's search mode adds exactly
those sub-words).

:class:`JiebaSegmenter` is jieba 0.42.1 itself, the reference.
:class:`RjiebaSegmenter` is jieba-rs through ``rjieba``: the same dictionary
and algorithm in Rust, 2–3× faster on the analysis path, its dictionary
loaded in ~0.1 s instead of ~1 s, and safe in forked workers.  It needs two
adapter rules to give jieba's words (measured in
``../shared/notes/segmenters-and-embeddings.md`` and by
``tests/test_segmenter.py`` on real articles):

* jieba cuts a run into blocks of characters in U+4E00–U+9FD5 and yields
  any other character (CJK extension A, compatibility ideographs, extension
  B …) on its own; rjieba would merge them, so runs are split the same way
  before rjieba sees them;
* ``has_word`` is true for dictionary words only, which is what jieba's
  ``FREQ.get(word)`` (0 for the prefixes jieba also stores) answers.

:func:`load_segmenter` picks rjieba when its wheel is installed and falls
back to jieba otherwise; the name of the backend is part of an index's
analysis identity, so an index is never queried with other words than it
was built with.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

#: Which backend: "auto" (rjieba when installed), "rjieba" or "jieba".
BACKENDS = ("auto", "rjieba", "jieba")

#: jieba's own idea of a Han character (``jieba.re_han_default``), narrower
#: than zhsearch's (:mod:`indexer.han`); anything else in a run is a word of
#: its own.
_JIEBA_FIRST, _JIEBA_LAST = "\u4e00", "\u9fd5"
_JIEBA_BLOCK_RE = re.compile(f"[{_JIEBA_FIRST}-{_JIEBA_LAST}]+|.", re.S)

#: Frequency given to Taiwan/Hong Kong words added to the dictionary: rare in
#: simplified text, so they only win where nothing else fits (記憶體 stays a word).
REGION_WORD_FREQ = 3


class Segmenter(Protocol):
    """What the analyzer needs of a word segmenter (see the module docstring)."""

    name: str

    def words(self, run: str) -> list[tuple[str, int, int]]:
        """``(word, start, end)`` of jieba's precise cut with HMM."""

    def cut(self, run: str) -> list[str]:
        """The words of :meth:`words`, without their offsets."""

    def plain_words(self, run: str) -> list[str]:
        """jieba's precise cut without HMM."""

    def is_word(self, word: str) -> bool:
        """A dictionary word with a frequency above zero."""

    def frequencies(self, words: Iterable[str]) -> dict[str, int]:
        """Each word's frequency in the dictionary (0: not a word), as
        jieba's ``FREQ`` has it: its dictionary, region words, user words."""


@dataclass(frozen=True)
class UserWord:
    word: str
    freq: int | None
    tag: str | None


def read_userdict(path: Path) -> list[UserWord]:
    """jieba's user dictionary format (``word [freq] [tag]``), tolerating
    comments and blank lines; words are folded like indexed text is."""
    out: list[UserWord] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        word = unicodedata.normalize("NFKC", parts[0]).lower()
        freq = tag = None
        if len(parts) > 1 and parts[1].isdigit():
            freq = int(parts[1])
            tag = parts[2] if len(parts) > 2 else None
        elif len(parts) > 1:
            tag = parts[1]
        out.append(UserWord(word, freq, tag))
    return out


class JiebaSegmenter:
    """jieba 0.42.1: the reference, and the fallback without rjieba."""

    def __init__(self, region_words: list[str], userwords: list[UserWord], cache_dir: Path | None) -> None:
        import jieba  # here, not at the top: 0.1 s of start-up that only this backend needs

        jieba.setLogLevel(logging.WARNING)
        t = jieba.Tokenizer()
        if cache_dir:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            t.tmp_dir = str(cache_dir)
        t.initialize()
        for word in region_words:
            if not t.FREQ.get(word):
                t.add_word(word, REGION_WORD_FREQ)
        for w in userwords:
            t.add_word(w.word, w.freq, w.tag)
        self._tok = t
        self._freq = t.FREQ
        self.name = f"jieba {jieba.__version__}"

    @property
    def tokenizer(self):
        """The jieba ``Tokenizer`` (its cache folder is ``tokenizer.tmp_dir``)."""
        return self._tok

    def words(self, run: str) -> list[tuple[str, int, int]]:
        return list(self._tok.tokenize(run, mode="default", HMM=True))

    def cut(self, run: str) -> list[str]:
        return self._tok.lcut(run, HMM=True)

    def plain_words(self, run: str) -> list[str]:
        return self._tok.lcut(run, HMM=False)

    def is_word(self, word: str) -> bool:
        return bool(self._freq.get(word))

    def frequencies(self, words: Iterable[str]) -> dict[str, int]:
        return {w: self._freq.get(w) or 0 for w in words}


class RjiebaSegmenter:
    """jieba-rs through ``rjieba``, adapted to give jieba's words."""

    def __init__(self, region_words: list[str], userwords: list[UserWord]) -> None:
        jieba_class, version = _rjieba()
        j = jieba_class()
        added: dict[str, int] = {}
        for word in region_words:
            if not j.has_word(word):
                j.add_word(word, REGION_WORD_FREQ, None)
                added[word] = REGION_WORD_FREQ
        for w in userwords:
            added[w.word] = j.add_word(w.word, w.freq, w.tag)  # returns the frequency it got
        self._j = j
        self._added = added
        self.name = f"rjieba {version}"

    def words(self, run: str) -> list[tuple[str, int, int]]:
        tokenize = self._j.tokenize
        if _plain_block(run):
            return tokenize(run, "default", True)
        out: list[tuple[str, int, int]] = []
        for m in _JIEBA_BLOCK_RE.finditer(run):
            s = m.start()
            if m.end() - s == 1:
                out.append((m.group(), s, s + 1))
            else:
                out.extend((w, s + a, s + b) for w, a, b in tokenize(m.group(), "default", True))
        return out

    def cut(self, run: str) -> list[str]:
        return self._cut(run, True)

    def plain_words(self, run: str) -> list[str]:
        return self._cut(run, False)

    def _cut(self, run: str, hmm: bool) -> list[str]:
        cut = self._j.cut
        if _plain_block(run):
            return cut(run, hmm)
        out: list[str] = []
        for m in _JIEBA_BLOCK_RE.finditer(run):
            out.extend([m.group()] if m.end() - m.start() == 1 else cut(m.group(), hmm))
        return out

    def is_word(self, word: str) -> bool:
        return self._j.has_word(word)

    def frequencies(self, words: Iterable[str]) -> dict[str, int]:
        """rjieba does not say a word's frequency: the stock words' are read
        from jieba's own ``dict.txt`` (the dictionary jieba-rs embeds), in one
        pass for all of ``words``; added words have what they were given."""
        wanted = {w for w in words}
        out = {w: self._added.get(w, 0) for w in wanted}
        stock = wanted - self._added.keys()
        if stock:
            for line in _jieba_dictionary_lines():
                word, _, rest = line.partition(" ")
                if word in stock:
                    out[word] = int(rest.split(" ", 1)[0])
        return out


def _jieba_dictionary_lines() -> Iterator[str]:
    with (resources.files("jieba") / "dict.txt").open(encoding="utf-8") as f:
        yield from f


def _plain_block(run: str) -> bool:
    """Every character in jieba's Han block range (the common case)."""
    return max(run) <= _JIEBA_LAST and min(run) >= _JIEBA_FIRST


def _rjieba():
    """rjieba's ``Jieba`` class and version, without the default instance
    that ``import rjieba`` builds at import time (a second dictionary load,
    ~0.1 s of every ``zhsearch index`` run)."""
    import importlib.metadata  # here, not at the top: 30 ms of start-up that only loading rjieba needs

    spec = importlib.util.find_spec("rjieba")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("rjieba is not installed")
    version = importlib.metadata.version("rjieba")
    for folder in spec.submodule_search_locations:
        for ext in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"rjieba{ext}"
            if path.is_file():
                loader = importlib.machinery.ExtensionFileLoader("rjieba.rjieba", str(path))
                module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
                loader.exec_module(module)
                return module.Jieba, version
    from rjieba import Jieba  # an unusual layout: the package's own way (an optional package)

    return Jieba, version


def rjieba_available() -> bool:
    try:
        return importlib.util.find_spec("rjieba") is not None
    except (ImportError, ValueError):
        return False


def resolve_backend(backend: str) -> str:
    """"auto" → the backend this machine will use."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown segmenter {backend!r} (choose from {', '.join(BACKENDS)})")
    if backend == "auto":
        return "rjieba" if rjieba_available() else "jieba"
    return backend


def load_segmenter(backend: str, region_words: list[str], userdict: Path | None,
                   cache_dir: Path | None = None) -> Segmenter:
    """A segmenter with the region words and the user dictionary loaded."""
    userwords = read_userdict(userdict) if userdict else []
    name = resolve_backend(backend)
    if name == "rjieba":
        try:
            seg: Segmenter = RjiebaSegmenter(region_words, userwords)
        except ImportError as exc:
            if backend == "rjieba":
                raise
            log.warning("rjieba unusable (%s): segmenting with jieba", exc)
            seg = JiebaSegmenter(region_words, userwords, cache_dir)
    else:
        seg = JiebaSegmenter(region_words, userwords, cache_dir)
    if userdict:
        log.info("loaded %d words from user dictionary %s", len(userwords), userdict)
    return seg
