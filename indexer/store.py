"""The index directory: generations, the atomic switch, and the writer lock.

Layout of an index directory::

    CURRENT          name of the live generation, replaced atomically
    gen-000007/      a complete Whoosh index + meta.json
    jieba.cache      jieba's dictionary cache (kept with the index, not in /tmp)
    lock             held (flock) by the one running indexer; holds its pid (indexer.lockfile)

Every update, incremental or full, writes a *new* generation and then swaps
``CURRENT``.  An incremental update starts from hard links of the live
generation's files: Whoosh never modifies a segment file after writing it (new
segments get new random names, deletions live in the TOC), so the live
generation is never touched and a reader open on it keeps answering until it
reopens.  A killed indexer therefore leaves at most an unfinished ``gen-*``
directory that the next run removes; readers never see a half-written index.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index

from . import lockfile, whoosh_compat
from .analysis import Analyzer
from .segmenter import rjieba_available

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
LOCK = "lock"
META = "meta.json"
USERDICT = "userdict.txt"
_GEN_RE = re.compile(r"^gen-(\d{6})$")


class IndexUnavailable(Exception):
    """The index is missing, corrupt or locked; the message says what to do."""


class IndexMissing(IndexUnavailable):
    pass


class IndexLocked(IndexUnavailable):
    pass


@dataclass
class Generation:
    path: Path
    meta: dict

    @property
    def name(self) -> str:
        return self.path.name


def jieba_cache_dir(index_dir: Path) -> Path:
    return Path(index_dir)


def generation_analyzer(index_dir: Path, gen: Generation) -> Analyzer:
    """The analyzer a generation was built with: its own copy of the user
    dictionary and the segmenter its identity records, so queries are
    segmented exactly like its text."""
    ud = gen.path / USERDICT
    segmenter = (gen.meta.get("identity") or {}).get("segmenter", "auto")
    if segmenter == "rjieba" and not rjieba_available():
        log.warning("index %s was segmented with rjieba, which is not installed here: queries use jieba "
                    "(a few words may differ until `zhsearch index` rebuilds it)", gen.path)
        segmenter = "jieba"
    elif segmenter not in ("rjieba", "jieba"):
        segmenter = "auto"
    return Analyzer(ud if ud.is_file() else None, segmenter=segmenter, cache_dir=jieba_cache_dir(index_dir))


def read_current(index_dir: Path) -> Generation | None:
    """The live generation, or None when there is no index yet."""
    index_dir = Path(index_dir)
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexUnavailable(f"cannot read {index_dir / CURRENT}: {exc}") from exc
    if not _GEN_RE.match(name):
        raise IndexUnavailable(f"{index_dir / CURRENT} is corrupt (names {name!r}); run `zhsearch index --rebuild`")
    path = index_dir / name
    try:
        meta = json.loads((path / META).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexUnavailable(
            f"index generation {path} is damaged ({exc}); run `zhsearch index --rebuild`"
        ) from exc
    return Generation(path, meta)


def open_current(index_dir: Path):
    """Open the live Whoosh index; clear errors when missing or corrupt."""
    gen = read_current(index_dir)
    if gen is None:
        raise IndexMissing(f"no index in {index_dir}; run `zhsearch index` first")
    try:
        whoosh_compat.install()  # every reader of a generation maps segments, never copies them
    except whoosh_compat.UnsupportedWhooshVersion as exc:
        raise IndexUnavailable(str(exc)) from exc
    try:
        ix = whoosh_index.open_dir(str(gen.path))
        ix.reader().close()  # opens every segment: a truncated one fails here, not mid-search
        return ix, gen
    except Exception as exc:  # whoosh raises many types for damaged files
        raise IndexUnavailable(
            f"index in {gen.path} cannot be opened ({type(exc).__name__}: {exc}); "
            "run `zhsearch index --rebuild`"
        ) from exc


def _generations(index_dir: Path) -> list[tuple[int, Path]]:
    gens = []
    for p in Path(index_dir).iterdir():
        m = _GEN_RE.match(p.name)
        if m and p.is_dir():
            gens.append((int(m.group(1)), p))
    return sorted(gens)


def new_generation(index_dir: Path, link_from: Path | None) -> Path:
    """Create the next generation directory, hard-linking ``link_from``'s files."""
    gens = _generations(index_dir)
    n = gens[-1][0] + 1 if gens else 1
    path = Path(index_dir) / f"gen-{n:06d}"
    path.mkdir()
    if link_from is not None:
        for f in link_from.iterdir():
            if f.name.endswith("WRITELOCK") or f.name in (META, USERDICT) or not f.is_file():
                continue
            if f.suffix == ".toc" or ".toc." in f.name:
                shutil.copy2(f, path / f.name)  # small, and rewritten by Whoosh
            else:
                try:
                    os.link(f, path / f.name)
                except OSError:
                    shutil.copy2(f, path / f.name)
    return path


def write_meta(gen_path: Path, meta: dict) -> None:
    tmp = gen_path / (META + ".tmp")
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    _fsync_file(tmp)
    os.replace(tmp, gen_path / META)


def publish(index_dir: Path, gen_path: Path) -> None:
    """Atomically make ``gen_path`` the live generation."""
    index_dir = Path(index_dir)
    _fsync_dir(gen_path)
    tmp = index_dir / (CURRENT + ".tmp")
    tmp.write_text(gen_path.name + "\n", encoding="utf-8")
    _fsync_file(tmp)
    os.replace(tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)


def live_name(index_dir: Path) -> str | None:
    """The name ``CURRENT`` holds now (None when it cannot be read): what a
    caller compares before and after a run to tell whether it published."""
    try:
        return (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def is_live(index_dir: Path, gen_path: Path) -> bool:
    """Whether ``CURRENT`` names ``gen_path`` (True when it cannot be read:
    an unfinished generation left behind is removed by the next run, a live
    one removed is a lost index)."""
    try:
        return (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip() == Path(gen_path).name
    except FileNotFoundError:
        return False
    except OSError:
        return True


def collect_garbage(index_dir: Path, keep_previous: bool = True) -> None:
    """Remove unfinished and superseded generations.

    The generation published just before the live one is kept (when asked) so
    a server that has not yet reopened its searcher keeps a complete index.
    """
    try:
        current = read_current(index_dir)
    except IndexUnavailable:
        return  # never delete generations while CURRENT cannot be read
    gens = _generations(index_dir)
    live = current.path.name if current else None
    keep = {live}
    if keep_previous and live:
        older = [p for n, p in gens if p.name < live and (p / META).exists()]
        if older:
            keep.add(older[-1].name)
    for _, p in gens:
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def writer_lock(index_dir: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the index's writer lock, waiting up to ``wait`` seconds for it.

    One indexer at a time writes an index.  The lock (:mod:`indexer.lockfile`)
    dies with its process, so a killed indexer never leaves a lock that
    blocks the next run, and worker processes forked meanwhile do not
    inherit it.
    """
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        lock = lockfile.acquire(index_dir / LOCK, wait)
    except lockfile.LockBusy as exc:
        raise IndexLocked(
            f"another `zhsearch index` (pid {exc.holder or '?'}) is updating {index_dir}; "
            "try again when it has finished (or pass --wait SECONDS)"
        ) from None
    try:
        yield
    finally:
        lock.release()
