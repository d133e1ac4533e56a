"""Query-time files of a corpus (``synonyms.txt``, ``curation.yml``), re-read
when they change on disk, so editing one needs no re-index.

One mechanism for all of them: a :class:`CorpusFile` checks the file's
modification time and size whenever it is asked for its value (a ``stat``,
about a microsecond, once per search), and parses the file again only when
they changed, or when the index's analyzer changed (a new user dictionary
segments the file's words differently).  The parsed value stays the same
object while nothing changes: result caches key on its identity.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

from indexer.analysis import Analyzer

log = logging.getLogger(__name__)

T = TypeVar("T")


class CorpusFile(Generic[T]):
    """The value parsed from the first existing file of ``candidates``.

    ``parse(text, analyzer, path)`` makes the value; ``empty()`` is the value
    without a file.  A ``ValueError`` from ``parse`` (a file saved half
    edited, a syntax error) is logged once and the last good value stays in
    force: a typo must not silently drop what the file did until then."""

    def __init__(self, candidates: Path | Sequence[Path] | None, parse: Callable[[str, Analyzer, Path], T],
                 empty: Callable[[], T], what: str) -> None:
        if candidates is None:
            self.candidates: tuple[Path, ...] = ()
        elif isinstance(candidates, (str, Path)):
            self.candidates = (Path(candidates),)
        else:
            self.candidates = tuple(Path(p) for p in candidates)
        self._parse = parse
        self._empty = empty
        self.what = what
        self._stamp: tuple | None = None
        self._analyzer: Analyzer | None = None
        self._value: T = empty()
        self._lock = threading.Lock()

    @property
    def path(self) -> Path | None:
        """The file in force: the first candidate that exists (else the first)."""
        for p in self.candidates:
            if p.is_file():
                return p
        return self.candidates[0] if self.candidates else None

    def _stat(self) -> tuple | None:
        for p in self.candidates:
            try:
                st = os.stat(p)
            except OSError:
                continue
            return (str(p), st.st_mtime_ns, st.st_size)
        return None

    def get(self, analyzer: Analyzer) -> T:
        """The value, the same object while nothing changes."""
        if not self.candidates:
            return self._value
        stamp = self._stat()
        if stamp is None:
            if self._stamp is not None:  # the file went away: nothing from it from now on
                with self._lock:
                    self._stamp, self._value = None, self._empty()
            return self._value
        if stamp != self._stamp or analyzer is not self._analyzer:
            with self._lock:
                if stamp != self._stamp or analyzer is not self._analyzer:
                    self._value = self._read(Path(stamp[0]), analyzer)
                    self._stamp, self._analyzer = stamp, analyzer
        return self._value

    def _read(self, path: Path, analyzer: Analyzer) -> T:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            log.warning("cannot read %s file %s: %s", self.what, path, exc)
            return self._empty()
        try:
            value = self._parse(text, analyzer, path)
        except ValueError as exc:
            kept = "keeping the last good version" if self._stamp is not None else "ignoring it"
            log.warning("%s file %s: %s; %s until it is fixed", self.what, path, exc, kept)
            return self._value if self._stamp is not None else self._empty()
        log.info("loaded %s from %s", self.what, path)
        return value
