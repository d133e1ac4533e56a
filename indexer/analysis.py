"""Chinese text analysis shared by the indexer and the query side.

Why not jieba's stock ``ChineseAnalyzer``: it numbers token positions with
character offsets (so every phrase query fails), splits ``GPT-4`` into ``GPT``,
``-`` and ``4`` (so ``GPT-4`` matches texts that only say ``GPT-3``) and neither
lower-cases nor width-folds Latin text.  This module fixes all three:

* text is first *folded* character by character (NFKC, lower case) through a
  translation table, so that ``ＧＰＴ－４`` and ``GPT-4`` are the same token and
  every folded character still maps to exactly one original character: token
  ``startchar``/``endchar`` therefore point into the *original* text and
  highlights land exactly;
* Latin/number compounds (``gpt-4``, ``gpt-3.5``, ``qwen2-vl``, ``c++``,
  ``node.js``, ``.net``, ``5000亿``) are emitted whole *and* as their parts, the
  parts taking consecutive positions so ``"gpt 4"`` phrases work;
* runs of Han characters go through jieba's precise cut; each word takes one
  position and the dictionary sub-words that jieba's search mode would add are
  emitted at the *same* position, so phrase queries over words keep working;
* a second analyzer emits overlapping Han character bigrams, the recall path
  for a word hidden inside a longer compound (``人民共和国`` in
  ``中华人民共和国``).

The jieba dictionary is the only module-level state: it is loaded lazily once
per process (see :func:`configure`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from whoosh.analysis import Token, Tokenizer

log = logging.getLogger(__name__)

#: Bump whenever tokenization changes; an index built with another version is
#: rebuilt rather than silently mixed.
ANALYSIS_VERSION = 7

#: Tokens longer than this are hashes, base64 or minified code: not words.
MAX_TOKEN_LEN = 48

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
# Chinese numeral units glued to a number: 5000亿, 1.17亿, 10万.
_UNITS = "万亿千百"
_TOKEN_RE = re.compile(
    rf"(?P<num>\d+(?:\.\d+)?[{_UNITS}]+)"
    r"|(?P<latin>(?:(?<![a-z0-9])\.(?=[a-z]))?[a-z0-9](?:[a-z0-9]|[-._+/](?=[a-z0-9]))*(?:\+\+|#(?![a-z0-9]))?)"
    rf"|(?P<han>[{_HAN}]+)"
)
_HAN_RE = re.compile(rf"[{_HAN}]")


# --------------------------------------------------------------------------
# Folding: width, case (and later script) normalisation with exact offsets
# --------------------------------------------------------------------------

_fold_table: dict[int, str] = {}
_known: set[str] = set()  # characters already in the table
_irregular: set[str] = set()  # characters that fold to 0 or 2+ characters
_fold_lock = threading.Lock()


def _fold_char(ch: str) -> str:
    """NFKC, lower case, then traditional → simplified (one char to one)."""
    ts = _ts_chars()
    return "".join(ts.get(c, c) for c in unicodedata.normalize("NFKC", ch).lower())


# --------------------------------------------------------------------------
# Traditional → simplified, from OpenCC's tables (opencc-python-reimplemented)
#
# Indexed text is folded character by character only (TSCharacters), so the
# folded text keeps the original's length and highlights land exactly on the
# original characters.  Region vocabulary (記憶體→内存, 執行緒→线程,
# 分散式→分布式) changes length, so it is applied to queries only
# (TWPhrasesRev, HKVariantsRevPhrases), before the character fold.
# --------------------------------------------------------------------------

_ts_table: dict[str, str] | None = None
_region_phrases: dict[str, str] | None = None


def _opencc_lines(name: str) -> list[list[str]]:
    from importlib import resources

    try:
        text = (resources.files("opencc") / "dictionary" / name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):  # pragma: no cover - dependency missing
        log.warning("OpenCC table %s not found: traditional Chinese is not folded", name)
        return []
    return [line.split("\t") for line in text.splitlines() if "\t" in line]


def _ts_chars() -> dict[str, str]:
    global _ts_table
    if _ts_table is None:
        table: dict[str, str] = {}
        # TSCharacters only: the variant tables also rewrite characters that
        # simplified text uses (著→着, 參→蔘).  A character listed as its own
        # simplified candidate (乾, 於) is left alone for the same reason.
        for src, dst in _opencc_lines("TSCharacters.txt"):
            cands = dst.split()
            if len(src) == 1 and cands and src not in cands and len(cands[0]) == 1:
                table[src] = cands[0]
        _ts_table = table
    return _ts_table


def region_table() -> dict[str, str]:
    """Folded Taiwan/Hong Kong word → folded mainland word (記憶體 → 内存).

    Used as query-time alternatives, never as rewrites: a simplified word can
    be a region key too (向量 → 矢量), and then what was typed must still win.
    """
    global _region_phrases
    if _region_phrases is None:
        table: dict[str, str] = {}
        for name in ("TWPhrasesRev.txt", "HKVariantsRevPhrases.txt"):
            for src, dst in _opencc_lines(name):
                cands = dst.split()
                if not src or not cands:
                    continue
                key, value = fold(src)[0], fold(cands[0])[0]
                if key != value and len(key) >= 2 and is_han(key):
                    table.setdefault(key, value)
        _region_phrases = table
    return _region_phrases


_region_reverse: dict[str, list[str]] | None = None


def region_alternatives(word: str) -> list[str]:
    """Other regions' words for a folded word, both ways (软体 ↔ 软件)."""
    global _region_reverse
    table = region_table()
    if _region_reverse is None:
        rev: dict[str, list[str]] = {}
        for k, v in table.items():
            rev.setdefault(v, []).append(k)
        _region_reverse = rev
    out = [table[word]] if word in table else []
    return out + [w for w in _region_reverse.get(word, ()) if w not in out]


def fold(text: str) -> tuple[str, list[int] | None]:
    """Width-, case- and script-fold ``text``.

    Returns ``(folded, offsets)``.  When every character folds to exactly one
    character (the overwhelmingly common case) ``offsets`` is ``None`` and
    folded index *i* is original index *i*.  Otherwise ``offsets[i]`` is the
    original index of folded character *i*, plus a final sentinel entry equal
    to ``len(text)``.  The table grows as new characters are seen, so the
    per-character Python work is paid once per distinct character.
    """
    table = _fold_table
    chars = set(text)
    missing = chars - _known  # set operations stay in C on the common path
    if missing:
        with _fold_lock:
            for c in missing:
                f = _fold_char(c)
                table[ord(c)] = f
                if len(f) != 1:
                    _irregular.add(c)
                _known.add(c)
    folded = text.translate(table)
    if not _irregular or _irregular.isdisjoint(chars):
        return folded, None
    offsets: list[int] = []
    for i, c in enumerate(text):
        offsets.extend([i] * len(table[ord(c)]))
    offsets.append(len(text))
    return folded, offsets


def fold_query(text: str) -> str:
    """Fold a query string the same way as indexed text."""
    return fold(text)[0]


def fold_label(label: str) -> str:
    """The key of a tag or category: folded, without spaces or commas, so
    ``Java 并发``, ``java并发`` and ``ＪＡＶＡ并发`` are one facet value."""
    return re.sub(r"[\s,]+", "", fold(label)[0])


# --------------------------------------------------------------------------
# jieba, loaded lazily once per process
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class JiebaConfig:
    cache_dir: Path | None = None
    userdict: Path | None = None
    userdict_hash: str = "none"


_jieba_lock = threading.Lock()
_jieba = None  # jieba.Tokenizer, created on first use
_jieba_config = JiebaConfig()


def configure(cache_dir: Path | None = None, userdict: Path | None = None) -> None:
    """Say where jieba keeps its cache and which user dictionary to load.

    The loaded dictionary is identified by the *content* of the user
    dictionary: a copy of the same file elsewhere (the one kept inside each
    index generation) or another cache folder does not cost a reload.
    """
    global _jieba, _jieba_config
    ud = Path(userdict) if userdict and Path(userdict).is_file() else None
    new = JiebaConfig(cache_dir, ud, userdict_fingerprint(ud))
    with _jieba_lock:
        if _jieba is None:
            _jieba_config = new
        elif new.userdict_hash != _jieba_config.userdict_hash:
            _jieba_config = new
            _jieba = None


def userdict_fingerprint(userdict: Path | None) -> str:
    """Hash of the user dictionary: part of the analysis identity of an index."""
    if not userdict or not Path(userdict).is_file():
        return "none"
    return hashlib.sha256(Path(userdict).read_bytes()).hexdigest()[:16]


def _load_userdict(tok, path: Path) -> None:
    """Load a jieba user dictionary, tolerating comments and blank lines."""
    n = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        word = unicodedata.normalize("NFKC", parts[0]).lower()
        freq = None
        tag = None
        if len(parts) > 1 and parts[1].isdigit():
            freq = int(parts[1])
            tag = parts[2] if len(parts) > 2 else None
        elif len(parts) > 1:
            tag = parts[1]
        tok.add_word(word, freq, tag)
        n += 1
    log.info("loaded %d words from user dictionary %s", n, path)


def get_jieba():
    """The process's jieba tokenizer, initialised on first use."""
    global _jieba
    tok = _jieba
    if tok is not None:
        return tok
    with _jieba_lock:
        if _jieba is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            t = jieba.Tokenizer()
            cfg = _jieba_config
            if cfg.cache_dir:
                Path(cfg.cache_dir).mkdir(parents=True, exist_ok=True)
                t.tmp_dir = str(cfg.cache_dir)
            t.initialize()
            for word in region_table():
                if word not in t.FREQ:
                    t.add_word(word, 3)  # rare in simplified text: low frequency
            if cfg.userdict:
                _load_userdict(t, Path(cfg.userdict))
            _jieba = t
        return _jieba


# --------------------------------------------------------------------------
# Token streams
# --------------------------------------------------------------------------

#: A raw token: (text, position, startchar, endchar) with offsets into the
#: original (unfolded) text.
RawToken = tuple[str, int, int, int]


def _latin_parts(word: str, start: int) -> list[tuple[str, int, int]]:
    """Split a compound at its separators: ``qwen2-vl`` → ``qwen2``, ``vl``."""
    parts = []
    for m in re.finditer(r"[a-z0-9]+", word):
        parts.append((m.group(), start + m.start(), start + m.end()))
    return parts


# Roles of word tokens: a Han dictionary word from the precise cut, a
# search-mode sub-word inside it, a whole Latin/number compound, one of its
# parts, or a plain Latin word.
MAIN, SUB, COMPOUND, PART, LATIN = "main", "sub", "compound", "part", "latin"


def word_tokens_roles(text: str, start_pos: int = 0) -> list[tuple[str, int, int, int, str]]:
    """Word tokens with their roles; see :func:`word_tokens`."""
    folded, offsets = fold(text)
    tok = None
    out: list[tuple[str, int, int, int, str]] = []
    pos = start_pos

    def span(a: int, b: int) -> tuple[int, int]:
        if offsets is None:
            return a, b
        return offsets[a], offsets[b - 1] + 1

    for m in _TOKEN_RE.finditer(folded):
        kind = m.lastgroup
        s = m.start()
        word = m.group()
        if kind == "han":
            if tok is None:
                tok = get_jieba()
            freq = tok.FREQ
            for w, ws, we in tok.tokenize(word, mode="default", HMM=True):
                a, b = span(s + ws, s + we)
                out.append((w, pos, a, b, MAIN))
                n = we - ws
                if n > 2:
                    for g in (2, 3):
                        if n <= g:
                            break
                        for i in range(n - g + 1):
                            sub = w[i:i + g]
                            if freq.get(sub):
                                a2, b2 = span(s + ws + i, s + ws + i + g)
                                out.append((sub, pos, a2, b2, SUB))
                pos += 1
            continue
        if len(word) > MAX_TOKEN_LEN:
            continue
        a, b = span(s, s + len(word))
        if kind == "num":
            digits = word.rstrip(_UNITS)
            out.append((word, pos, a, b, COMPOUND))
            a, b = span(s, s + len(digits))
            out.append((digits, pos, a, b, PART))
            a, b = span(s + len(digits), s + len(word))
            out.append((word[len(digits):], pos + 1, a, b, PART))
            pos += 2
            continue
        parts = _latin_parts(word, s)
        if len(parts) == 1 and parts[0][0] == word:
            out.append((word, pos, a, b, LATIN))
            pos += 1
            continue
        out.append((word, pos, a, b, COMPOUND))
        for ptext, ps, pe in parts:
            a, b = span(ps, pe)
            out.append((ptext, pos, a, b, PART))
            pos += 1
        if not parts:
            pos += 1
    return out


def word_tokens(text: str, start_pos: int = 0) -> list[RawToken]:
    """Tokens of ``text`` for the word fields (see the module docstring)."""
    return [(t, p, a, b) for t, p, a, b, _ in word_tokens_roles(text, start_pos)]


@dataclass
class QueryUnit:
    """One thing a person asked for, with the ways it may be matched.

    ``text`` is the folded word or compound.  ``parts`` are the Latin parts of
    a compound (matched as a phrase) or, for a Han word, the shortest cover by
    dictionary sub-words (matched all together): both let ``自然语言处理``
    find ``自然语言的处理`` and ``GPT 4`` find ``GPT-4``, ranked lower.
    """

    text: str
    kind: str  # "han" | "latin" | "compound"
    parts: list[str]
    alts: list[str] = field(default_factory=list)  # synonyms / region words


_LETTER_DIGIT_RE = re.compile(r"[a-z]+|[0-9]+")


def query_units(text: str) -> list[QueryUnit]:
    """Analyse query text into units, with the same segmentation as the index."""
    units: list[QueryUnit] = []
    toks = word_tokens_roles(text)
    i = 0
    while i < len(toks):
        t, p, a, b, role = toks[i]
        j = i + 1
        followers = []
        while j < len(toks) and toks[j][4] in (SUB, PART):
            followers.append(toks[j])
            j += 1
        if role == MAIN:
            units.append(QueryUnit(t, "han", _cover(t, [f[0] for f in followers]),
                                   region_alternatives(t)))
        elif role == COMPOUND:
            units.append(QueryUnit(t, "compound", [f[0] for f in followers]))
        else:
            pieces = _LETTER_DIGIT_RE.findall(t)
            # "gpt4" may be written "GPT-4" or "GPT 4" in the text
            units.append(QueryUnit(t, "latin", pieces if len(pieces) > 1 else []))
        i = j
    return units


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


#: Code is indexed only this far per article: long listings are data, not prose.
MAX_CODE_CHARS = 32768
_CODE_HAN_RE = re.compile(rf"[{_HAN}]{{2,}}")


def code_tokens(text: str, start_pos: int = 0) -> list[RawToken]:
    """Tokens of source code: identifiers and compounds as in prose, plus the
    words of Chinese comments, without jieba's search-mode sub-words.

    Code is half of a typical technical corpus by volume but weighs little in
    ranking, so it gets a cheap path: jieba only sees its Han runs.
    """
    text = text[:MAX_CODE_CHARS]
    folded, offsets = fold(text)
    out: list[RawToken] = []
    pos = start_pos
    tok = None
    for m in _TOKEN_RE.finditer(folded):
        kind = m.lastgroup
        word = m.group()
        if kind == "han":
            if len(word) < 2:
                continue
            if tok is None:
                tok = get_jieba()
            for w in tok.cut(word, HMM=False):
                out.append((w, pos, 0, 0))
                pos += 1
            continue
        if len(word) > MAX_TOKEN_LEN:
            continue
        out.append((word, pos, 0, 0))
        pos += 1
        if kind == "latin":
            parts = _latin_parts(word, 0)
            if len(parts) > 1:
                for ptext, _, _ in parts:
                    out.append((ptext, pos, 0, 0))
                    pos += 1
    return out


def bigram_tokens(text: str, start_pos: int = 0) -> list[RawToken]:
    """Overlapping Han character bigrams, one position each (recall path)."""
    folded, offsets = fold(text)
    out: list[RawToken] = []
    pos = start_pos
    for m in re.finditer(rf"[{_HAN}]+", folded):
        run = m.group()
        s = m.start()
        if len(run) == 1:
            continue
        for i in range(len(run) - 1):
            a, b = s + i, s + i + 2
            if offsets is not None:
                a, b = offsets[a], offsets[b - 1] + 1
            out.append((run[i:i + 2], pos, a, b))
            pos += 1
        pos += 1  # a gap so phrases never bridge two runs
    return out


def bigrams_of(word: str) -> list[str]:
    """The bigram sequence a (folded) Han word is matched by in the bigram field."""
    return [word[i:i + 2] for i in range(len(word) - 1)]


def is_han(word: str) -> bool:
    return bool(_HAN_RE.search(word))


# --------------------------------------------------------------------------
# Whoosh glue
# --------------------------------------------------------------------------

class _RawTokenizer(Tokenizer):
    """Whoosh tokenizer over one of the raw token functions above."""

    def _raw(self, value: str) -> list[RawToken]:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True,
                 mode="", **kwargs) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        raw = self._raw(value)
        for text, pos, a, b in raw:
            t.text = text
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = text
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + a
                t.endchar = start_char + b
            yield t


class ChineseTokenizer(_RawTokenizer):
    """Words: jieba precise cut + search-mode sub-words + Latin compounds."""

    def _raw(self, value: str) -> list[RawToken]:
        return word_tokens(value)


class CodeTokenizer(_RawTokenizer):
    """Identifiers and comment words of code blocks (no positions needed)."""

    def _raw(self, value: str) -> list[RawToken]:
        return code_tokens(value)


class BigramTokenizer(_RawTokenizer):
    """Han character bigrams for substring recall."""

    def _raw(self, value: str) -> list[RawToken]:
        return bigram_tokens(value)


def chinese_analyzer() -> ChineseTokenizer:
    return ChineseTokenizer()


def code_analyzer() -> CodeTokenizer:
    return CodeTokenizer()


def bigram_analyzer() -> BigramTokenizer:
    return BigramTokenizer()
