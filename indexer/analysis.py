"""Chinese text analysis: one :class:`Analyzer` per index.

Why not jieba's stock ``ChineseAnalyzer``: it numbers token positions with
character offsets (so every phrase query fails), splits ``GPT-4`` into ``GPT``,
``-`` and ``4`` (so ``GPT-4`` matches texts that only say ``GPT-3``) and neither
lower-cases nor width-folds Latin text.  An analyzer fixes all three:

* text is first *folded* (:mod:`indexer.folding`: NFKC, lower case,
  traditional → simplified, character by character), so token
  ``startchar``/``endchar`` point into the *original* text and highlights
  land exactly;
* Latin/number compounds (``gpt-4``, ``gpt-3.5``, ``qwen2-vl``, ``c++``,
  ``node.js``, ``.net``, ``5000亿``) are emitted whole *and* as their parts, the
  parts taking consecutive positions so ``"gpt 4"`` phrases work;
* runs of Han characters go through the segmenter's precise cut
  (:mod:`indexer.segmenter`: jieba-rs, or jieba itself); each word takes one
  position and the dictionary sub-words that jieba's search mode would add
  are emitted at the *same* position, so phrase queries over words keep
  working;
* a second token stream emits overlapping Han character bigrams, the recall
  path for a word hidden inside a longer compound (``人民共和国`` in
  ``中华人民共和国``).

An analyzer owns everything that decides which tokens a text gives: the
segmenter with its user dictionary, the folding tables and the analysis
version.  It is created from an index's own configuration (the user
dictionary copied into each generation, the segmenter recorded in its
identity) and passed to whatever analyses text — the writer, the query
builder, snippets, synonyms, word discovery — so two indexes with different
dictionaries can be served from one process.  Nothing here is module-level
mutable state.

What a Han character is (:mod:`indexer.han`: ``HAN_RANGES``, ``HAN_CLASS``,
``HAN_RUN_RE``, :func:`has_han`) is defined once and exported from here, for
every module that tells Han text from the rest.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple, TypeVar

import numpy as np

from .folding import Folding
from .han import HAN_CLASS, HAN_RANGES, HAN_RUN_RE
from .han import has_han as has_han  # re-exported: search/ reads the one Han definition here
from .once import BuiltOnce
from .segmenter import Segmenter, load_segmenter, resolve_backend

log = logging.getLogger(__name__)

#: Bump whenever tokenization changes; an index built with another version is
#: rebuilt rather than silently mixed.
ANALYSIS_VERSION = 10  # 9: numbered compounds yield themselves without the ordinal; 10: invisible format characters fold to nothing

#: Tokens longer than this are hashes, base64 or minified code: not words.
MAX_TOKEN_LEN = 48

# Chinese numeral units glued to a number: 5000亿, 1.17亿, 10万.
_UNITS = "万亿千百"
_TOKEN_RE = re.compile(
    rf"(?P<num>\d+(?:\.\d+)?[{_UNITS}]+)"
    r"|(?P<latin>(?:(?<![a-z0-9])\.(?=[a-z]))?[a-z0-9](?:[a-z0-9]|[-._+/](?=[a-z0-9]))*(?:\+\+|#(?![a-z0-9]))?)"
    rf"|(?P<han>[{HAN_CLASS}]+)"
)
_ALNUM_RE = re.compile(r"[a-z0-9]+")
_LETTER_DIGIT_RE = re.compile(r"[a-z]+|[0-9]+")

T = TypeVar("T")

#: Code is indexed only this far per article: long listings are data, not prose.
MAX_CODE_CHARS = 32768


class Role(StrEnum):
    """What a word token is."""

    MAIN = "main"  # a Han dictionary word from the precise cut
    SUB = "sub"  # a search-mode sub-word inside it (same position)
    COMPOUND = "compound"  # a whole Latin/number compound (gpt-4, 5000亿)
    PART = "part"  # one of a compound's parts
    LATIN = "latin"  # a plain Latin word or number


class UnitKind(StrEnum):
    """What a query unit is."""

    HAN = "han"
    LATIN = "latin"
    COMPOUND = "compound"
    PHRASE = "phrase"  # several words matched together (a multi-word synonym)


#: A raw token: (text, position, startchar, endchar) with offsets into the
#: original (unfolded) text.
RawToken = tuple[str, int, int, int]


class WordToken(NamedTuple):
    text: str
    pos: int
    start: int
    end: int
    role: Role


@dataclass
class QueryUnit:
    """One thing a person asked for, with the ways it may be matched.

    ``text`` is the folded word or compound.  ``parts`` are the Latin parts of
    a compound (matched as a phrase) or, for a Han word, the shortest cover by
    dictionary sub-words (matched all together): both let ``自然语言处理``
    find ``自然语言的处理`` and ``GPT 4`` find ``GPT-4``, ranked lower.
    """

    text: str
    kind: UnitKind
    parts: list[str]


def userdict_fingerprint(userdict: Path | None) -> str:
    """Hash of the user dictionary: part of the analysis identity of an index."""
    if not userdict or not Path(userdict).is_file():
        return "none"
    return hashlib.sha256(Path(userdict).read_bytes()).hexdigest()[:16]


class Analyzer:
    """Everything that turns text into index terms and query units, for one index.

    ``userdict``: a jieba user dictionary (``word [freq] [tag]`` lines).
    ``segmenter``: "auto" (rjieba when installed, else jieba), "rjieba" or
    "jieba".  ``cache_dir``: where jieba keeps its dictionary cache (the
    index folder; jieba backend only).  The segmenter is loaded on first
    use, once, so an analyzer that only folds costs nothing more.
    """

    version = ANALYSIS_VERSION

    def __init__(self, userdict: Path | str | None = None, *, segmenter: str = "auto",
                 cache_dir: Path | str | None = None) -> None:
        ud = Path(userdict) if userdict and Path(userdict).is_file() else None
        self.userdict = ud
        self.userdict_hash = userdict_fingerprint(ud)
        self.backend = resolve_backend(segmenter)
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.folding = Folding()
        self._segmenter: Segmenter | None = None
        self._derived: BuiltOnce[str, object] = BuiltOnce()
        self._sub_words: dict[str, tuple[str, ...]] = {}  # a memo of _subs
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Analyzer(userdict={self.userdict}, segmenter={self.backend!r})"

    def __getstate__(self) -> dict:
        # a process started by pickling (not forking) loads its own segmenter
        state = self.__dict__.copy()
        state["_segmenter"] = None
        del state["_derived"]
        state["_sub_words"] = {}
        del state["_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._derived = BuiltOnce()
        self._lock = threading.Lock()

    @property
    def identity(self) -> dict[str, object]:
        """What an index built with this analyzer must record: a different
        value means its terms would not be this analyzer's."""
        return {"analysis": self.version, "userdict": self.userdict_hash, "segmenter": self.backend}

    @property
    def segmenter(self) -> Segmenter:
        seg = self._segmenter
        if seg is None:
            with self._lock:
                if self._segmenter is None:
                    self._segmenter = load_segmenter(self.backend, list(self.folding.region_table),
                                                     self.userdict, self.cache_dir)
                seg = self._segmenter
        return seg

    def load(self) -> Analyzer:
        """Load the segmenter now (before forking workers that share it)."""
        _ = self.segmenter
        return self

    # -- folding ---------------------------------------------------------

    def fold(self, text: str) -> tuple[str, list[int] | None]:
        return self.folding.fold(text)

    def fold_query(self, text: str) -> str:
        return self.folding.fold_query(text)

    def fold_label(self, label: str) -> str:
        return self.folding.fold_label(label)

    # -- token streams ---------------------------------------------------

    def word_tokens_roles(self, text: str, start_pos: int = 0) -> list[WordToken]:
        """Word tokens of ``text`` with their roles (see the module docstring);
        offsets are into ``text`` itself."""
        folded, offsets = self.fold(text)
        return [WordToken._make(t) for t in self._words(folded, offsets, start_pos)]

    def word_tokens(self, text: str, start_pos: int = 0) -> list[RawToken]:
        """Tokens of ``text`` for the word fields."""
        folded, offsets = self.fold(text)
        return [t[:4] for t in self._words(folded, offsets, start_pos)]

    def indexed_words(self, folded: str) -> dict[str, list[int]]:
        """Every word token of already folded text, grouped: word → its
        positions.  What the index files of a word field: the same tokens as
        :meth:`word_tokens` (a test holds them equal), made without offsets,
        roles or a token list — this runs for every word the indexer writes."""
        out: dict[str, list[int]] = {}
        get = out.get
        pos = 0
        seg = None
        subs_of = self._sub_words
        for m in _TOKEN_RE.finditer(folded):
            kind = m.lastgroup
            word = m.group()
            if kind == "han":
                if seg is None:
                    seg = self.segmenter
                for w in seg.cut(word):
                    got = get(w)
                    if got is None:
                        out[w] = [pos]
                    else:
                        got.append(pos)
                    if len(w) > 2:
                        subs = subs_of.get(w)
                        if subs is None:
                            subs = self._subs(w)
                        for sub in subs:
                            got = get(sub)
                            if got is None:
                                out[sub] = [pos]
                            else:
                                got.append(pos)
                    pos += 1
                continue
            if len(word) > MAX_TOKEN_LEN:
                continue
            if kind == "latin" and word.isalnum():  # the common case: one token
                pieces: tuple = ((word, 0),)
                advance = 1
            else:
                pieces, advance = _latin_pieces(kind, word)
            for text, k in pieces:
                got = get(text)
                if got is None:
                    out[text] = [pos + k]
                else:
                    got.append(pos + k)
            pos += advance
        return out

    def _subs(self, word: str) -> tuple[str, ...]:
        """The dictionary words of two and three characters inside ``word``
        (jieba's search-mode sub-words), kept per word: words repeat."""
        seg = self.segmenter
        n = len(word)
        subs = tuple(word[i:i + g] for g in (2, 3) if n > g for i in range(n - g + 1)
                     if seg.is_word(word[i:i + g]))
        self._sub_words[word] = subs
        return subs

    def _words(self, folded: str, offsets: list[int] | None, pos: int) -> list:
        """The tokenizer itself, on folded text, as ``(text, position, start,
        end, role)`` tuples; ``offsets`` maps folded indexes to original ones
        (None: the same).  :meth:`indexed_words` is its index-time twin."""
        seg = None
        out: list = []
        append = out.append
        MAIN, SUB, LATIN = Role.MAIN, Role.SUB, Role.LATIN
        is_word = None

        def span(a: int, b: int) -> tuple[int, int]:  # original offsets of folded [a, b)
            return (a, b) if offsets is None else (offsets[a], offsets[b - 1] + 1)

        for m in _TOKEN_RE.finditer(folded):
            kind = m.lastgroup
            s = m.start()
            word = m.group()
            if kind == "han":
                if seg is None:
                    seg = self.segmenter
                    is_word = seg.is_word
                for w, ws, we in seg.words(word):
                    append((w, pos, *span(s + ws, s + we), MAIN))
                    n = we - ws
                    if n > 2:
                        for g in (2, 3):
                            if n <= g:
                                break
                            for i in range(n - g + 1):
                                sub = w[i:i + g]
                                if is_word(sub):
                                    a = s + ws + i
                                    append((sub, pos, *span(a, a + g), SUB))
                    pos += 1
                continue
            n = len(word)
            if n > MAX_TOKEN_LEN:
                continue
            if kind == "num" or not word.isalnum():  # 5000亿, gpt-4: itself and its parts
                pos = _compound_tokens(out, kind, word, s, pos, span)
                continue
            append((word, pos, *span(s, s + n), LATIN))  # a plain word or number: no parts
            pos += 1
        return out

    def code_words(self, text: str) -> list[str]:
        """The words of source code: identifiers and compounds as in prose
        (whole, then their parts), plus the words of Chinese comments,
        without search-mode sub-words.

        Code is half of a typical technical corpus by volume but weighs
        little in ranking, so it gets a cheap path: only the first
        ``MAX_CODE_CHARS`` count, the segmenter only sees Han runs of two or
        more characters (without HMM), and the code field keeps counts, not
        positions.
        """
        folded, _offsets = self.fold(text[:MAX_CODE_CHARS])
        out: list[str] = []
        seg = None
        for m in _TOKEN_RE.finditer(folded):
            kind = m.lastgroup
            word = m.group()
            if kind == "han":
                if len(word) < 2:
                    continue
                if seg is None:
                    seg = self.segmenter
                out += seg.plain_words(word)
                continue
            if len(word) > MAX_TOKEN_LEN:
                continue
            out.append(word)
            if kind == "latin" and not word.isalnum():
                parts = _ALNUM_RE.findall(word)
                if len(parts) > 1:
                    out += parts
        return out

    def bigram_tokens(self, text: str, start_pos: int = 0) -> list[RawToken]:
        """Overlapping Han character bigrams, one position each (recall path)."""
        folded, offsets = self.fold(text)
        return _bigrams(folded, offsets, start_pos)

    def indexed_bigrams(self, folded: str) -> TermPositions:
        """The bigram field of already folded text, grouped by bigram: the
        same postings as :meth:`bigram_tokens` (one position per bigram, a gap
        after each run), computed with array operations — a technical article
        has more bigrams than words, and a loop over them was the largest
        part of a build."""
        return bigram_positions(folded)

    def han_runs(self, text: str) -> list[str]:
        """The folded Han runs of ``text``: exactly what the segmenter sees of it."""
        return HAN_RUN_RE.findall(self.fold(text)[0])

    # -- queries ---------------------------------------------------------

    def query_units(self, text: str) -> list[QueryUnit]:
        """Analyse query text into units, with the same segmentation as the index."""
        units: list[QueryUnit] = []
        toks = self.word_tokens_roles(text)
        i = 0
        while i < len(toks):
            tok = toks[i]
            j = i + 1
            followers: list[WordToken] = []
            while j < len(toks) and toks[j].role in (Role.SUB, Role.PART):
                followers.append(toks[j])
                j += 1
            if tok.role == Role.MAIN:
                units.append(QueryUnit(tok.text, UnitKind.HAN, _cover(tok.text, [f.text for f in followers])))
            elif tok.role == Role.COMPOUND:
                units.append(QueryUnit(tok.text, UnitKind.COMPOUND, [f.text for f in followers if f.role == Role.PART]))
            else:
                pieces = _LETTER_DIGIT_RE.findall(tok.text)
                # "gpt4" may be written "GPT-4" or "GPT 4" in the text
                units.append(QueryUnit(tok.text, UnitKind.LATIN, pieces if len(pieces) > 1 else []))
            i = j
        return units

    def is_word(self, word: str) -> bool:
        """A dictionary word (user dictionary included) with a frequency."""
        return self.segmenter.is_word(word)

    def frequencies(self, words: Iterable[str]) -> dict[str, int]:
        """Each word's frequency in the segmenter's dictionary (0: unknown):
        how common the word is in the (mainland) text jieba learned from."""
        return self.segmenter.frequencies(words)

    def derived(self, key: str, build: Callable[[], T]) -> T:
        """``build()``, made once per analyzer and kept with it: tables that
        query-side modules derive from an index's analysis (region words read
        with its folding and dictionary, say) live and die with it."""
        return self._derived.get(key, build)  # type: ignore[return-value]

    def plain_words(self, run: str) -> list[str]:
        """The segmenter's cut of a Han run without HMM (no guessed words)."""
        return self.segmenter.plain_words(run)


class TermPositions(NamedTuple):
    """One field of one document, grouped by term: ``terms[k]`` occurs at
    ``positions[bounds[k]:bounds[k + 1]]`` (ascending)."""

    terms: list[str]
    bounds: list[int]
    positions: np.ndarray


_EMPTY_POSITIONS = TermPositions([], [0], np.zeros(0, dtype=np.int64))


def bigram_positions(folded: str) -> TermPositions:
    """:class:`TermPositions` of the Han character bigrams of folded text."""
    cps = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32)
    if len(cps) < 2:
        return _EMPTY_POSITIONS
    han = np.zeros(len(cps), dtype=bool)
    for lo, hi in HAN_RANGES:
        han |= (cps >= lo) & (cps <= hi)
    pair = han[:-1] & han[1:]  # a bigram starts at i
    starts = np.flatnonzero(pair)
    if not len(starts):
        return _EMPTY_POSITIONS
    # characters of runs of two or more: each such run advances the position
    # by its length, so a bigram's position is how many come before it
    in_run = np.zeros(len(cps), dtype=bool)
    in_run[:-1] |= pair
    in_run[1:] |= pair
    before = np.cumsum(in_run) - in_run
    keys = (cps[starts].astype(np.uint64) << np.uint64(21)) | cps[starts + 1]
    order = np.argsort(keys, kind="stable")  # stable: each bigram's positions stay ascending
    keys = keys[order]
    positions = before[starts][order].astype(np.int64)
    first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    uniq = keys[first]
    chars = np.empty(2 * len(uniq), dtype="<u4")
    chars[0::2] = uniq >> np.uint64(21)
    chars[1::2] = uniq & np.uint64(0x1FFFFF)
    text = chars.tobytes().decode("utf-32-le")
    terms = [text[i:i + 2] for i in range(0, len(text), 2)]
    return TermPositions(terms, first.tolist() + [len(keys)], positions)


def _bigrams(folded: str, offsets: list[int] | None, pos: int) -> list[RawToken]:
    out: list[RawToken] = []
    for m in HAN_RUN_RE.finditer(folded):
        run = m.group()
        n = len(run) - 1
        if n < 1:
            continue
        s = m.start()
        if offsets is None:
            out += [(run[i:i + 2], pos + i, s + i, s + i + 2) for i in range(n)]
        else:
            out += [(run[i:i + 2], pos + i, offsets[s + i], offsets[s + i + 1] + 1) for i in range(n)]
        pos += n + 1  # a gap so phrases never bridge two runs
    return out


def _compound_tokens(out: list, kind: str, word: str, s: int, pos: int,
                     span: Callable[[int, int], tuple[int, int]]) -> int:
    """Append to ``out`` the tokens :meth:`Analyzer._words` makes of a number
    with a unit (``5000亿``) or a Latin word with separators (``gpt-4``) that
    starts at folded offset ``s``, at position ``pos``; return the next
    position.  ``span`` maps folded offsets to original ones."""
    n = len(word)
    if kind == "num":
        digits = word.rstrip(_UNITS)
        d = s + len(digits)
        out += ((word, pos, *span(s, s + n), Role.COMPOUND), (digits, pos, *span(s, d), Role.PART),
                (word[len(digits):], pos + 1, *span(d, s + n), Role.PART))
        return pos + 2
    parts = _latin_parts(word, s)
    if len(parts) == 1 and parts[0][0] == word:
        out.append((word, pos, *span(s, s + n), Role.LATIN))
        return pos + 1
    out.append((word, pos, *span(s, s + n), Role.COMPOUND))
    rest = _unnumbered(word, parts[0][0] if parts else "")
    if rest:  # 04-glm-4-9b-chat is also glm-4-9b-chat (same position)
        out.append((rest, pos, *span(s + n - len(rest), s + n), Role.SUB))
    for ptext, ps, pe in parts:
        out.append((ptext, pos, *span(ps, pe), Role.PART))
        pos += 1
    return pos if parts else pos + 1


def _latin_pieces(kind: str, word: str) -> tuple[tuple[tuple[str, int], ...], int]:
    """The index tokens of a Latin word, number or compound as ``(text,
    position offset)``, and how many positions it takes (as :meth:`Analyzer._words`)."""
    if kind == "num":
        digits = word.rstrip(_UNITS)
        return ((word, 0), (digits, 0), (word[len(digits):], 1)), 2
    parts = _ALNUM_RE.findall(word)
    if len(parts) == 1 and parts[0] == word:
        return ((word, 0),), 1
    rest = _unnumbered(word, parts[0] if parts else "")
    whole = ((word, 0), (rest, 0)) if rest else ((word, 0),)
    return whole + tuple((p, k) for k, p in enumerate(parts)), max(1, len(parts))


def _unnumbered(word: str, first: str) -> str:
    """A compound without the ordinal that numbers it in a list of articles
    (``04-glm-4-9b-chat`` → ``glm-4-9b-chat``, ``3-gemma3-4b-it``), when what
    follows is itself a compound that starts with a letter; else "".  Sites
    number their tutorials this way in titles and file names, and the
    numbered token hid the model's name from version matching."""
    if not first.isdigit() or len(word) <= len(first) + 1 or word[len(first)] not in "-_.":
        return ""
    rest = word[len(first) + 1:]
    if not rest[0].isalpha() or rest.isalnum():
        return ""
    return rest


def _latin_parts(word: str, start: int) -> list[tuple[str, int, int]]:
    """Split a compound at its separators: ``qwen2-vl`` → ``qwen2``, ``vl``."""
    return [(m.group(), start + m.start(), start + m.end()) for m in _ALNUM_RE.finditer(word)]


def _cover(word: str, subs: list[str]) -> list[str]:
    """Greedy longest-first cover of ``word`` by its dictionary sub-words."""
    if not subs:
        return []
    cover: list[str] = []
    i = 0
    subset = set(subs)
    while i < len(word):
        for n in (3, 2):
            if word[i:i + n] in subset and len(word[i:i + n]) == n:
                cover.append(word[i:i + n])
                i += n
                break
        else:
            cover.append(word[i])
            i += 1
    return cover if len(cover) > 1 else []


def bigrams_of(word: str) -> list[str]:
    """The bigram sequence a (folded) Han word is matched by in the bigram field."""
    return [word[i:i + 2] for i in range(len(word) - 1)]
