"""Keep the index up to date while articles are written: ``--watch``.

``zhsearch serve --watch`` and ``zhsearch index --watch`` watch the corpus
folder with watchfiles (inotify on Linux, FSEvents on macOS; polling where
neither works, or with ``WATCHFILES_FORCE_POLLING=1``) and run the ordinary
incremental update (:func:`indexer.build.update_index`) in the running
process, which publishes a new generation; a server switches to it on its
next request.

* **Debounced and coalesced.**  watchfiles hands over a batch once the folder
  has been quiet for ``step_ms`` (or after ``debounce_ms`` of continuous
  changes); changes made while an update runs form the next batch.  A
  ``git pull`` of 100 articles is one or two updates, not 100.  The update
  itself does not trust the batch: it rescans the corpus (a ``stat`` per
  file, contents hashed only when size or time changed), so a change the
  watcher missed is still picked up by the next one.
* **Never stopped by an article.**  A broken article is reported (once per
  problem, not on every later save) and the rest is indexed; a failed
  update (the index locked by a ``zhsearch index`` in another terminal, a
  full disk) is logged and retried; only the stop event or Ctrl-C ends the
  loop.
* **The analysis stays loaded.**  :class:`LiveIndexer` is the one long-lived
  object of a watch: it loads the index's :class:`~indexer.analysis.Analyzer`
  (its segmenter and user dictionary) before the first change and hands it
  to every update, so an edit costs only the update itself; a changed user
  dictionary gets a new analyzer (and the update rebuilds the index).

* **Never dies, never goes blind.**  The watch follows the corpus by its
  *path*: each folder the indexer reads (:func:`indexer.build.corpus_dirs`:
  the same rule, so a symlinked folder the indexer ignores costs no inotify
  watch) is watched on its own, and the set is re-armed when folders come
  and go.  A corpus folder replaced (``rm -rf corpus && cp -r … corpus``) or
  renamed in (``mv corpus.new corpus``) is noticed on the next tick (half a
  second) by its device and inode, and the watch re-arms on the folder now
  at that path, with a catch-up update.  A failure of the watcher itself is
  logged and the watcher re-armed with backoff (1 s doubling to 60 s; from
  the second failure in a row it polls instead of using inotify).  A change
  to a name that is not UTF-8 (a GBK name from ``unzip``), which watchfiles
  cannot report, re-arms at once and is caught up the same way; folders
  whose own names are not UTF-8 are polled.  What the watch is doing is
  kept in a :class:`~indexer.watchstate.WatchStatus` (``/healthz``).

In ``zhsearch serve --workers N`` the watch runs in one extra supervised
process (see ``web.server``), so exactly one process indexes.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import embeddings, store
from .analysis import Analyzer
from .article import is_markdown
from .build import IndexConfig, IndexReport, corpus_dirs, skips_folder, update_index
from .filenames import display
from .watchstate import WatchState, WatchStatus

log = logging.getLogger(__name__)

#: Seconds an update waits for the index lock before it is retried later.
LOCK_WAIT_S = 1.0


@dataclass(frozen=True)
class WatchTiming:
    """How changes are grouped into updates (milliseconds, unless named _s)."""

    #: the folder must be quiet this long before a batch is handed over
    step_ms: int = 150
    #: a batch of continuous changes is handed over after at most this long
    debounce_ms: int = 1000
    #: how often the loop wakes without changes (retries, the stop event)
    tick_ms: int = 500
    #: wait before retrying a failed update
    retry_s: float = 2.0


class LiveIndexer:
    """One index kept up to date by one process: what stays loaded between updates."""

    def __init__(self, cfg: IndexConfig) -> None:
        self.cfg = cfg
        self.updates = 0
        #: an update is running (a Ctrl-C now interrupts it; ``live_before`` tells what it left)
        self.busy = False
        #: the live generation when the last update began (see ``build.interrupted_message``)
        self.live_before: str | None = None
        self.analyzer: Analyzer | None = None

    def load(self) -> None:
        """Load the analysis now, so the first change does not pay for it."""
        self.analyzer = self.cfg.analyzer().load()

    def update(self) -> IndexReport:
        """Bring the index up to date (raises like :func:`update_index`)."""
        if self.analyzer is None or not self.cfg.matches(self.analyzer):
            self.load()  # first update, or the user dictionary changed
        self.live_before = store.live_name(self.cfg.index)
        self.busy = True
        try:
            report = update_index(self.cfg, wait=LOCK_WAIT_S, analyzer=self.analyzer)
        finally:
            self.busy = False
        self.updates += 1
        return report


def _absolute(path: Path | str) -> Path:
    """Absolute without resolving symlinks: the form watchfiles reports paths in
    for a folder given this way."""
    return Path(os.path.abspath(path))


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError):
        return False


def _utf8(path: Path) -> bool:
    """Whether watchfiles can be given ``path`` (its name must be UTF-8)."""
    try:
        str(path).encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _folder_id(path: Path) -> tuple[int, int] | None:
    """Which folder is at ``path`` now (device, inode), None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None


class _Target:
    """What one arming of the watcher watches: the folders of the corpus (by
    the indexer's rule), the user dictionary's folder when it lies outside,
    and which folder the corpus path named when it was armed."""

    def __init__(self, cfg: IndexConfig) -> None:
        self.corpus = _absolute(cfg.corpus)
        # Held open while armed: a deleted folder's inode stays taken, so a new
        # folder at the path (rm -rf, then a copy) never gets the same number.
        try:
            self._fd: int | None = os.open(self.corpus, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            self._fd = None
        self.folder = _folder_id(self.corpus) if self._fd is not None else None
        ud = cfg.resolved_userdict()
        self.userdict = _absolute(ud) if ud is not None else None
        dirs = corpus_dirs(self.corpus) if self.folder else []
        self.dirs = {str(d) for d in dirs}
        self.watched = [d for d in dirs if _utf8(d)]
        outside = self.userdict is not None and not _inside(self.userdict, self.corpus)
        if outside and self.userdict.parent.is_dir() and _utf8(self.userdict.parent):
            self.watched.append(self.userdict.parent)  # its folder: an editor replaces the file itself
        #: folders watchfiles cannot take (names that are not UTF-8): polled
        self.polled = {d: _listing(d) for d in dirs if not _utf8(d)}

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def replaced(self) -> bool:
        """The corpus path names another folder now (or none), or the armed one was deleted."""
        try:
            if self._fd is not None and os.fstat(self._fd).st_nlink == 0:
                return True
        except OSError:
            return True
        return _folder_id(self.corpus) != self.folder

    def folders_changed(self, changes: Iterable[tuple[object, str]]) -> bool:
        """A folder the indexer reads appeared, went away or was replaced: the
        set of watched folders must change."""
        for change, raw in changes:
            p = _absolute(raw)
            if raw in self.dirs or str(p) in self.dirs:
                # a watched folder deleted or made again (rm -rf sub && cp -r … sub): its watch is gone
                if getattr(change, "name", "") in ("added", "deleted") or not p.is_dir() or p.is_symlink():
                    return True
            elif p.is_dir() and not p.is_symlink() and _descends(p, self.corpus):
                return True
        return False

    def poll(self) -> bool:
        """Whether a polled folder changed since the last look."""
        changed = False
        for d, before in self.polled.items():
            now = _listing(d)
            if now != before:
                self.polled[d] = now
                changed = True
        return changed

    def keep(self, change: object, raw: str) -> bool:
        """Which file events can change the index: articles, folders (a
        renamed or deleted folder takes its articles along) and the user
        dictionary; not editor swap files, images, or anything in
        dot-folders and node_modules."""
        p = _absolute(raw)
        if self.userdict is not None and p == self.userdict:
            return True
        try:
            parts = p.relative_to(self.corpus).parts
        except ValueError:
            return False
        if any(map(skips_folder, parts)):
            return False
        return is_markdown(p) or p.is_dir() or (not p.exists() and not p.suffix)


def _descends(p: Path, corpus: Path) -> bool:
    """Whether the indexer descends into folder ``p`` (:func:`indexer.build.skips_folder`)."""
    try:
        parts = p.relative_to(corpus).parts
    except ValueError:
        return False
    return bool(parts) and not any(map(skips_folder, parts))


def _listing(folder: Path) -> frozenset:
    """Names, sizes and times in a folder: what polling compares."""
    try:
        with os.scandir(folder) as entries:
            out = []
            for e in entries:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                out.append((e.name, st.st_size, st.st_mtime_ns, st.st_mode))
            return frozenset(out)
    except OSError:
        return frozenset()


@dataclass
class Problems:
    """Skipped articles and warnings already reported, so each is told once."""

    seen: dict[str, str] = field(default_factory=dict)

    def new(self, items: Iterable[tuple[str, str]], kind: str) -> list[tuple[str, str]]:
        fresh = [(p, why) for p, why in items if self.seen.get(f"{kind}:{p}") != why]
        for p, why in fresh:
            self.seen[f"{kind}:{p}"] = why
        return fresh

    def new_notes(self, notes: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Notes of a kind not told before (each kind once per watch)."""
        fresh = [(kind, text) for kind, text in notes if f"note:{kind}" not in self.seen]
        for kind, text in fresh:
            self.seen[f"note:{kind}"] = text
        return fresh

    def forget(self, paths: Iterable[str]) -> None:
        """Articles indexed again: their old problems may come back and be told again."""
        for p in paths:
            self.seen.pop(f"skipped:{p}", None)
            self.seen.pop(f"warning:{p}", None)


def log_report(report: IndexReport, skipped: list[tuple[str, str]], warnings: list[tuple[str, str]]) -> None:
    """The default way a watch tells what it did: the server's log."""
    for path, why in skipped:
        log.warning("watch: skipped %s: %s", display(path), why)
    for path, why in warnings:
        log.warning("watch: %s: %s", display(path), why)
    for _, note in report.notes:
        log.warning("watch: %s", note)
    if report.changed:
        def some(paths: list[str]) -> str:
            return ", ".join(map(display, paths[:3])) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")

        parts = [f"{len(v)} {k} ({some(v)})" for k, v in
                 (("added", report.added), ("updated", report.updated), ("deleted", report.deleted)) if v]
        log.info("watch: %s%s; %d articles, generation %s (%.2f s)",
                 f"full build ({report.rebuild_reason}); " if report.rebuilt else "",
                 ", ".join(parts) or "no article changed", report.total, report.generation, report.elapsed)


Reporter = Callable[[IndexReport, list, list], None]

#: Wait before re-arming a failed watcher: doubles from the first to the last.
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
#: From this many failures in a row on, the watcher polls instead of using inotify.
POLL_AFTER_FAILURES = 2
#: watchfiles' message for an event on a name it cannot decode (not UTF-8).
_UNDECODABLE = "Unable to decode path"
#: Folders vanishing while the watcher is armed, this many times in a row, is a failure.
MAX_VANISHED = 20


class _Rearm(Exception):
    """The watched folders must change (the corpus replaced, a folder added)."""


def watch(indexer: LiveIndexer, *, stop: threading.Event | None = None, on_update: Reporter = log_report,
          timing: WatchTiming = WatchTiming(), catch_up: bool = True,
          on_ready: Callable[[], None] | None = None, status: WatchStatus | None = None) -> None:
    """Update the index whenever the corpus changes, until ``stop`` is set
    (or Ctrl-C in the main thread, which raises ``KeyboardInterrupt``).

    ``catch_up``: run one update as soon as the watch is in place, for the
    changes made while nothing was watching.  ``on_ready`` is called once the
    file system watch is first in place (a change from then on is seen): the
    moment to tell a person that saving now is picked up.  ``on_update`` gets
    every report with the problems not reported before.  ``status``: where
    the watch's state is kept (``/healthz`` reads it)."""
    _Watch(indexer, stop or threading.Event(), on_update, timing, on_ready, status or WatchStatus()).run(catch_up)


class _Watch:
    """One watch: arms the watcher, re-arms it when it fails or the corpus
    moves, and runs an update for every batch of changes."""

    def __init__(self, indexer: LiveIndexer, stop: threading.Event, on_update: Reporter, timing: WatchTiming,
                 on_ready: Callable[[], None] | None, status: WatchStatus) -> None:
        self.indexer, self.stop, self.on_update, self.timing = indexer, stop, on_update, timing
        self.on_ready, self.status = on_ready, status
        self.problems = Problems()
        self.pending = False
        self.retry_at = 0.0
        self.failures = 0  # in a row
        self.vanished = 0  # re-armed in a row because a folder went away while arming
        self.embedded = False  # has an update embedded the index's articles yet

    def run(self, catch_up: bool) -> None:
        import watchfiles  # here, not at the top: 35 ms of start-up that only --watch needs

        self.pending = catch_up
        cfg = self.indexer.cfg
        log.info("watching %s for changes", _absolute(cfg.corpus))
        while not self.stop.is_set():
            try:
                self._follow(watchfiles)
            except _Rearm:
                self.pending = True  # whatever happened meanwhile is caught up after re-arming
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # the watcher failed: re-arm it, later
                self.pending = True
                if _UNDECODABLE in str(exc):  # a name that is not UTF-8 changed: not a failure
                    log.debug("watch: a change to a name watchfiles cannot decode (%s); re-arming", exc)
                    continue
                if isinstance(exc, FileNotFoundError) and self.vanished < MAX_VANISHED:
                    # a folder went away between listing and arming (a deploy copying or deleting): again, now
                    self.vanished += 1
                    log.debug("watch: a folder vanished while arming (%s); re-arming", exc)
                    continue
                self._failed(f"{type(exc).__name__}: {exc}")
        self.status.set(WatchState.STOPPED)

    def _failed(self, why: str) -> None:
        self.failures += 1
        delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (self.failures - 1))
        polling = self.failures >= POLL_AFTER_FAILURES
        log.error("watch: the watcher failed (%s); restarting it in %.0f s%s (failure %d in a row)", why, delay,
                  " by polling" if polling else "", self.failures)
        self.status.set(WatchState.RESTARTING, why)
        self.stop.wait(delay)

    def _follow(self, watchfiles) -> None:
        """Arm the watcher on the corpus as it is now and update on every
        batch of changes, until it must be re-armed (raises)."""
        target = _Target(self.indexer.cfg)
        if target.folder is None:  # between `rm -rf corpus` and the copy, or a deploy gone wrong
            target.close()
            if self.failures == 0:  # told once, however long it takes
                log.warning("watch: the corpus folder %s does not exist; waiting for it", target.corpus)
                self.status.set(WatchState.RESTARTING, f"the corpus folder {target.corpus} does not exist")
                self.failures = 1
            self.stop.wait(self.timing.tick_ms / 1000)
            return
        try:
            self._watch(watchfiles, target)
        finally:
            target.close()

    def _watch(self, watchfiles, target: _Target) -> None:
        polling = self.failures >= POLL_AFTER_FAILURES
        armed = False
        for changes in watchfiles.watch(*target.watched, watch_filter=target.keep, recursive=False,
                                        debounce=self.timing.debounce_ms, step=self.timing.step_ms,
                                        stop_event=self.stop, rust_timeout=self.timing.tick_ms,
                                        yield_on_timeout=True, force_polling=True if polling else None,
                                        raise_interrupt=threading.current_thread() is threading.main_thread()):
            if not armed:  # the first hand-over: the watcher is registered
                armed = True
                if self.failures:
                    log.info("watch: watching %s again", target.corpus)
                self.failures = self.vanished = 0
                self.status.set(WatchState.WATCHING)
                if self.on_ready is not None:
                    self.on_ready()
                    self.on_ready = None
            if changes:
                self.pending = True
                log.debug("watch: %d changes: %s", len(changes), sorted(p for _, p in changes)[:5])
            if target.replaced():
                log.info("watch: %s is another folder now (replaced or renamed); following it", target.corpus)
                raise _Rearm
            if target.poll():
                self.pending = True
            if changes and target.folders_changed(changes):
                raise _Rearm
            if self.stop.is_set():
                return
            self._update()

    def _update(self) -> None:
        """Run the pending update, unless a failed one waits for its retry."""
        if not self.pending or time.monotonic() < self.retry_at:
            return
        if not Path(self.indexer.cfg.corpus).is_dir():
            return  # gone for a moment (a deploy): the re-armed watch catches up once it is back
        retry_s = self.timing.retry_s
        try:
            report = self.indexer.update()
        except store.IndexLocked as exc:
            log.info("watch: %s; retrying in %.0f s", exc, retry_s)
            self.retry_at = time.monotonic() + retry_s
            return
        except Exception as exc:  # the watch outlives any one failed update
            log.error("watch: update failed (%s: %s); retrying in %.0f s", type(exc).__name__, exc, retry_s)
            self.retry_at = time.monotonic() + retry_s
            return
        self.pending = False
        self.problems.forget(report.added + report.updated)
        report.notes = self.problems.new_notes(report.notes)
        try:
            self.on_update(report, self.problems.new(report.skipped, "skipped"),
                           self.problems.new(report.warnings, "warning"))
        except Exception:  # a broken reporter must not stop the index from following the corpus
            log.exception("watch: reporting the update failed")
        # after the lexical publish (the edit is searchable already); the first
        # update also embeds what the index lacked when the watch began
        if self.indexer.cfg.embeddings and (report.changed or not self.embedded):
            self.embedded = True
            done = embeddings.embed_if_available(self.indexer.cfg.index)
            if done is not None and done.changed:
                log.info("watch: %s", done.describe())


def serve_watch(cfg: IndexConfig, stop: threading.Event, status: WatchStatus | None = None) -> None:
    """The watch of ``zhsearch serve --watch``, in a server thread or its own
    process: analysis loaded first, reports to the log, ends with ``stop``."""
    indexer = LiveIndexer(cfg)
    indexer.load()
    watch(indexer, stop=stop, status=status)
