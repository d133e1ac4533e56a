"""The site owner's hand on the results: ``curation.yml`` (or ``.toml``) in the corpus.

::

    pins:                      # these articles first, in this order
      - query: GPT-4 参数
        path: chatgpt-info/what-is-chatgpt.md
    hide:
      - query: 部署
        path: drafts/old-notes.md
    synonyms:
      - [k8s, Kubernetes]

Like ``synonyms.txt`` the file is read at query time (the same
:class:`search.corpusfile.CorpusFile` mechanism: re-read when it changes, no
re-index).  ``path`` is relative to the corpus root, as in the results.  A
query matches an entry when both fold to the same key (:func:`curation_key`:
the index's own folding — full-width, traditional and simplified characters,
case — with spaces and surrounding punctuation ignored), so ``ＧＰＴ－４參數``
meets ``GPT-4 参数``.

Pins put their articles first, in the file's order, when the results are
ranked by relevance (a reader who sorts by date asked for the newest), and
only if they pass the search's filters; hides take an article out of a
query's results whatever the sort.  An entry naming no indexed article is
reported once in the log and ignored; a malformed entry too.  The synonym
groups join those of ``synonyms.txt``.

The admin page appends pins and synonym groups to the file
(:func:`append_pin`, :func:`append_synonyms`): as text, so the owner's
comments and layout stay, checked by parsing the result before it replaces
the file atomically.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import tempfile
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer.analysis import Analyzer

from .corpusfile import CorpusFile
from .synonyms import Synonyms, parse_groups

log = logging.getLogger(__name__)

#: The file's names in the corpus root, the first existing one wins.
FILE_NAMES = ("curation.yml", "curation.yaml", "curation.toml")
PINS, HIDE, SYNONYMS = "pins", "hide", "synonyms"
#: Characters a query may start or end with without changing what it asks.
_EDGE = "?!.,;:~、。，；：？！…·"
_SPACE_RE = re.compile(r"\s+")


def curation_key(fold_query: Callable[[str], str], query: str) -> str:
    """What a query and a curation entry are compared by: folded by the
    index's analyzer (``Analyzer.fold_query``), spaces removed (``GPT-4参数``
    is ``GPT-4 参数``), surrounding punctuation stripped."""
    return _SPACE_RE.sub("", fold_query(query or "")).strip(_EDGE)


def clean_path(value: str) -> str:
    """A corpus-relative path as the results write it: ``/``-separated, no
    leading ``./`` or ``/``."""
    p = str(value).strip().replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p.lstrip("/")


@dataclass(frozen=True)
class Rule:
    """One pin or hide entry of the file."""

    kind: str  # PINS or HIDE
    query: str  # as written
    key: str  # curation_key of the query
    path: str  # corpus-relative


@dataclass
class Applied:
    """The curation of one query in one generation: global document numbers."""

    pins: list[int] = field(default_factory=list)
    hides: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.pins or self.hides)

    def restrict(self, sizes: list[int], restrict: list[np.ndarray | None]) -> list[np.ndarray | None]:
        """Per segment (``sizes``: documents per segment, in order), the
        documents the search may consider: ``restrict`` without the hidden ones."""
        if not self.hides:
            return restrict
        out = list(restrict)
        base = 0
        for i, n in enumerate(sizes):
            local = [d - base for d in self.hides if base <= d < base + n]
            if local:
                keep = np.ones(n, dtype=bool) if out[i] is None else out[i].copy()
                keep[local] = False
                out[i] = keep
            base += n
        return out

    def pin(self, ranked: list[int], total: int, mask: np.ndarray, sizes: list[int],
            restrict: list[np.ndarray | None]) -> tuple[list[int], int, np.ndarray]:
        """``ranked`` with the pinned documents first (those the filters in
        ``restrict`` let through), the total counting pinned documents that did
        not match, and the candidate ``mask`` (facets) with them."""
        if not self.pins:
            return ranked, total, mask
        starts = np.cumsum([0] + sizes)
        pinned = []
        for d in self.pins:
            seg = int(np.searchsorted(starts, d, side="right")) - 1
            if not 0 <= seg < len(sizes):
                continue
            keep = restrict[seg]
            if keep is None or keep[d - starts[seg]]:
                pinned.append(d)
        if not pinned:
            return ranked, total, mask
        first = set(pinned)
        new = [d for d in pinned if not mask[d]]
        if new:
            mask = mask.copy()
            mask[new] = True
        return pinned + [d for d in ranked if d not in first], total + len(new), mask


NOTHING = Applied()


class Curation:
    """The parsed file: pins and hides by query key, and the synonym groups."""

    def __init__(self, rules: list[Rule] | None = None, groups: list[list[str]] | None = None,
                 synonyms: Synonyms | None = None, source: Path | None = None,
                 reported: set | None = None) -> None:
        self.rules = rules or []
        self.groups = groups or []
        self.synonyms = synonyms or Synonyms()
        self.source = source
        self.by_key: dict[str, list[Rule]] = {}
        for r in self.rules:
            self.by_key.setdefault(r.key, []).append(r)
        self._reported = reported if reported is not None else set()
        self._docnums: tuple[str, dict[str, int | None]] | None = None
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.rules or self.groups)

    @classmethod
    def parse(cls, text: str, analyzer: Analyzer, path: Path, reported: set | None = None) -> Curation:
        """``ValueError`` for a file that is not YAML/TOML or not a mapping;
        malformed entries are logged (once: this runs when the file changes)
        and skipped."""
        data = _load(text, path)
        problems: list[str] = []
        rules: list[Rule] = []
        for kind, aliases in ((PINS, ("pins", "pin")), (HIDE, ("hide", "hides"))):
            entries = []
            for name in aliases:
                value = data.get(name)
                if value is None:
                    continue
                if not isinstance(value, list):
                    problems.append(f"{name}: expected a list of {{query, path}} entries")
                    continue
                entries += value
            for i, entry in enumerate(entries, 1):
                rules += _rules(kind, i, entry, analyzer, problems)
        groups: list[list[str]] = []
        raw_groups = data.get(SYNONYMS) or []
        if not isinstance(raw_groups, list):
            problems.append("synonyms: expected a list of groups such as [k8s, Kubernetes]")
            raw_groups = []
        for i, g in enumerate(raw_groups, 1):
            if isinstance(g, str):
                found = parse_groups(g)
                g = found[0] if found else [g]
            if not isinstance(g, list) or not all(isinstance(t, (str, int, float)) for t in g):
                problems.append(f"synonyms entry {i}: expected a list of terms")
                continue
            terms = [str(t).strip() for t in g if str(t).strip()]
            if len(terms) < 2:
                problems.append(f"synonyms entry {i}: a group needs two terms or more")
                continue
            groups.append(terms)
        for key in data:
            if key not in ("pins", "pin", "hide", "hides", SYNONYMS):
                problems.append(f"unknown key {key!r} (expected pins, hide, synonyms)")
        for p in problems:
            log.warning("curation file %s: %s; ignored", path, p)
        cur = cls(rules, groups, Synonyms.from_groups(groups, analyzer), path, reported)
        log.info("curation %s: %d pins, %d hides, %d synonym groups", path,
                 sum(r.kind == PINS for r in rules), sum(r.kind == HIDE for r in rules), len(groups))
        return cur

    def docnums(self, generation: str, searcher) -> dict[str, int | None]:
        """Every entry's path → its live document number in ``generation``
        (None: no such article; reported once in the log)."""
        got = self._docnums
        if got is not None and got[0] == generation:
            return got[1]
        with self._lock:
            got = self._docnums
            if got is not None and got[0] == generation:
                return got[1]
            reader = searcher.reader()
            table: dict[str, int | None] = {}
            for r in self.rules:
                if r.path in table:
                    continue
                d = searcher.document_number(path=r.path)
                table[r.path] = None if d is None or reader.is_deleted(d) else d
            for r in self.rules:
                if table[r.path] is None and (r.kind, r.key, r.path) not in self._reported:
                    self._reported.add((r.kind, r.key, r.path))
                    log.warning("curation file %s: %s entry for %r names no indexed article: %s; ignored",
                                self.source, "pin" if r.kind == PINS else "hide", r.query, r.path)
            self._docnums = (generation, table)
            return table

    def missing(self, generation: str, searcher) -> list[Rule]:
        """The entries that name no article of ``generation``."""
        table = self.docnums(generation, searcher)
        return [r for r in self.rules if table.get(r.path) is None]

    def applied(self, query: str, analyzer: Analyzer, generation: str, searcher) -> Applied:
        """What the file says about ``query``, as document numbers."""
        if not self.by_key:
            return NOTHING
        rules = self.by_key.get(curation_key(analyzer.fold_query, query))
        if not rules:
            return NOTHING
        table = self.docnums(generation, searcher)
        out = Applied()
        for r in rules:
            d = table.get(r.path)
            if d is None:
                continue
            target = out.pins if r.kind == PINS else out.hides
            if d not in target:
                target.append(d)
        hidden = set(out.hides)
        out.pins = [d for d in out.pins if d not in hidden]  # hide wins over pin
        return out


def _load(text: str, path: Path) -> dict:
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"not valid TOML: {exc}") from None
    else:
        import yaml  # on first use: a TOML file (or none) never needs it

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"not valid YAML: {' '.join(str(exc).split())}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError("expected a mapping with pins, hide and synonyms")
    return data


def _rules(kind: str, i: int, entry: object, analyzer: Analyzer, problems: list[str]) -> list[Rule]:
    name = "pins" if kind == PINS else "hide"
    if not isinstance(entry, dict):
        problems.append(f"{name} entry {i}: expected query and path")
        return []
    query, paths = entry.get("query"), entry.get("path", entry.get("paths"))
    if not isinstance(query, (str, int, float)) or not str(query).strip():
        problems.append(f"{name} entry {i}: no query")
        return []
    if isinstance(paths, str):
        paths = [paths]
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) and p.strip() for p in paths):
        problems.append(f"{name} entry {i} ({query!r}): no path")
        return []
    key = curation_key(analyzer.fold_query, str(query))
    if not key:
        problems.append(f"{name} entry {i}: the query {query!r} is empty once folded")
        return []
    return [Rule(kind, str(query).strip(), key, clean_path(p)) for p in paths]


class CurationFile(CorpusFile[Curation]):
    """``curation.yml`` / ``.yaml`` / ``.toml`` of a corpus, re-read when it
    changes (see :class:`search.corpusfile.CorpusFile`).  Entries that name no
    article are reported once per process, however often the file or the
    index changes."""

    def __init__(self, corpus: Path | None) -> None:
        reported: set = set()
        super().__init__([Path(corpus) / n for n in FILE_NAMES] if corpus else None,
                         lambda text, analyzer, path: Curation.parse(text, analyzer, path, reported),
                         Curation, "curation")


# ------------------------------------------------------------- editing


class CurationEditError(ValueError):
    """The file could not be extended as asked; the message says why."""


def curation_path(corpus: Path) -> Path:
    """The corpus's curation file: the existing one, else ``curation.yml``."""
    for n in FILE_NAMES:
        if (corpus / n).is_file():
            return corpus / n
    return corpus / FILE_NAMES[0]


def append_pin(corpus: Path, query: str, path: str) -> Path:
    """Add ``query → path`` at the end of the pins (after those already there)."""
    query, path = _check_text(query, "query"), clean_path(_check_text(path, "path"))

    def check(cur: dict) -> bool:
        return any(isinstance(e, dict) and e.get("query") == query and e.get("path") == path
                   for e in cur.get("pins") or [])

    def yaml_lines(indent: str) -> list[str]:
        return [f"{indent}- query: {_quote(query)}\n", f"{indent}  path: {_quote(path)}\n"]

    def toml_edit(text: str) -> str:
        return _ensure_newline(text) + f"\n[[pins]]\nquery = {_quote(query)}\npath = {_quote(path)}\n"

    return _edit(corpus, PINS, yaml_lines, toml_edit, check)


def append_synonyms(corpus: Path, terms: list[str]) -> Path:
    """Add one synonym group."""
    terms = [_check_text(t, "term") for t in terms]
    terms = [t for i, t in enumerate(terms) if t not in terms[:i]]
    if len(terms) < 2:
        raise CurationEditError("a synonym group needs two different terms or more")
    flow = "[" + ", ".join(_quote(t) for t in terms) + "]"

    def check(cur: dict) -> bool:
        return any(isinstance(g, list) and [str(t) for t in g] == terms for g in cur.get("synonyms") or [])

    def yaml_lines(indent: str) -> list[str]:
        return [f"{indent}- {flow}\n"]

    def toml_edit(text: str) -> str:
        return _toml_append_array(text, SYNONYMS, flow)

    return _edit(corpus, SYNONYMS, yaml_lines, toml_edit, check)


def _check_text(value: str, what: str) -> str:
    v = str(value or "").strip()
    if not v:
        raise CurationEditError(f"empty {what}")
    if len(v) > 300:
        raise CurationEditError(f"the {what} is too long (300 characters at most)")
    if any(ord(c) < 32 or ord(c) == 127 or 0x80 <= ord(c) < 0xA0 for c in v):
        raise CurationEditError(f"the {what} holds control characters")
    return v


def _quote(s: str) -> str:
    """A double-quoted string that YAML and TOML read alike."""
    return json.dumps(s, ensure_ascii=False)


def _ensure_newline(text: str) -> str:
    return text if not text or text.endswith("\n") else text + "\n"


def _edit(corpus: Path, key: str, yaml_lines: Callable[[str], list[str]], toml_edit: Callable[[str], str],
          check: Callable[[dict], bool]) -> Path:
    """Read, extend, parse to verify, replace atomically — under a lock on the
    corpus folder, so two server processes never lose each other's edit."""
    corpus = Path(corpus)
    fd = os.open(corpus, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        path = curation_path(corpus)
        try:
            text = path.read_text(encoding="utf-8") if path.exists() else ""
        except (OSError, UnicodeDecodeError) as exc:
            raise CurationEditError(f"cannot read {path.name}: {exc}") from None
        toml = path.suffix.lower() == ".toml"
        new = toml_edit(text) if toml else _yaml_append(text, key, yaml_lines)
        try:
            data = _load(new, path)
        except ValueError as exc:
            raise CurationEditError(f"{path.name} would no longer parse ({exc}); add the entry by hand") from None
        if not check(data):
            raise CurationEditError(f"the layout of {path.name} does not allow appending here; add the entry by hand")
        _write_atomically(path, new)
        return path
    finally:
        os.close(fd)


_TOP_KEY_RE = re.compile(r"^([A-Za-z_][\w-]*)\s*:(.*)$")


def _yaml_append(text: str, key: str, item_lines: Callable[[str], list[str]]) -> str:
    """``key``'s block sequence with one more item, the rest of the text as it was."""
    lines = _ensure_newline(text).splitlines(keepends=True)
    start = None
    for i, line in enumerate(lines):
        m = _TOP_KEY_RE.match(line.rstrip("\r\n"))
        if m and m.group(1) == key:
            start = i
            rest = m.group(2).split(" #", 1)[0].strip()
            if rest in ("[]", "~", "null"):
                lines[i] = f"{key}:\n"
            elif rest:
                raise CurationEditError(f"{key} is written inline in the curation file; add the entry by hand")
            break
    if start is None:
        return "".join(lines) + f"{key}:\n" + "".join(item_lines("  "))
    last = start
    indent = None
    for j in range(start + 1, len(lines)):
        s = lines[j].rstrip("\r\n")
        if not s.strip() or s.lstrip().startswith("#"):
            continue
        if (not s[0].isspace() and not s.startswith("-")) or s.startswith(("---", "...")):
            break  # the next top-level key, or a document marker
        if indent is None and s.lstrip().startswith("-"):
            indent = s[:len(s) - len(s.lstrip())]
        last = j
    return "".join(lines[:last + 1] + item_lines("  " if indent is None else indent) + lines[last + 1:])


def _toml_append_array(text: str, key: str, item: str) -> str:
    """``key = [ …, item ]``: a new top-level array, or one more element."""
    text = _ensure_newline(text)
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.lstrip().startswith("["):
            break  # tables begin: top-level keys come before them
        if re.match(rf"^\s*{re.escape(key)}\s*=", line):
            offset = sum(len(x) for x in lines[:i]) + line.index("=") + 1
            open_at = text.find("[", offset)
            close_at = _toml_closing_bracket(text, open_at)
            if open_at < 0 or close_at is None or text[offset:open_at].strip():
                raise CurationEditError(f"{key} is not an array in the curation file; add the entry by hand")
            inner = _strip_toml_comments(text[open_at + 1:close_at]).strip()
            sep = "" if not inner or inner.endswith(",") else ", "
            return text[:close_at] + sep + item + text[close_at:]
    else:
        i = len(lines)
    head = "".join(lines[:i])
    return head + f"{key} = [{item}]\n" + ("\n" if i < len(lines) else "") + "".join(lines[i:])


def _toml_closing_bracket(text: str, start: int) -> int | None:
    """The index of the ``]`` closing the ``[`` at ``start`` (strings and comments skipped)."""
    if start < 0:
        return None
    depth, i, n = 0, start, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            i = text.find("\n", i)
            if i < 0:
                return None
        elif c in "\"'":
            triple = text.startswith(c * 3, i)
            end = c * 3 if triple else c
            i += len(end)
            while i < n and not text.startswith(end, i):
                i += 2 if (c == '"' and text[i] == "\\") else 1
            i += len(end) - 1
        elif c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _strip_toml_comments(s: str) -> str:
    """``s`` without its comments (strings, which may hold ``#``, kept)."""
    out, i, n = [], 0, len(s)
    while i < n:
        c = s[i]
        if c == "#":
            j = s.find("\n", i)
            i = n if j < 0 else j
            continue
        if c in "\"'":
            j = i + 1
            while j < n and s[j] != c:
                j += 2 if (c == '"' and s[j] == "\\") else 1
            out.append(s[i:j + 1])
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _write_atomically(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
