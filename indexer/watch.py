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

In ``zhsearch serve --workers N`` the watch runs in one extra supervised
process (see ``web.server``), so exactly one process indexes.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from . import store
from .analysis import Analyzer
from .article import is_markdown
from .build import SKIP_DIRS, IndexConfig, IndexReport, update_index
from .filenames import display

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


def watched_paths(cfg: IndexConfig) -> list[Path]:
    """The corpus folder, plus a user dictionary kept elsewhere (a change to it rebuilds)."""
    paths = [_absolute(cfg.corpus)]
    ud = cfg.resolved_userdict()
    if ud is not None and not _inside(Path(ud), Path(cfg.corpus)):
        paths.append(_absolute(ud))
    return paths


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


def change_filter(cfg: IndexConfig) -> Callable[[object, str], bool]:
    """Which file events can change the index: articles, folders (a renamed or
    deleted folder takes its articles along) and the user dictionary; not
    editor swap files, images, or anything in dot-folders and node_modules."""
    corpus = _absolute(cfg.corpus)
    ud = cfg.resolved_userdict()
    userdict = _absolute(ud) if ud else None

    def keep(change: object, raw: str) -> bool:
        p = _absolute(raw)
        if userdict is not None and p == userdict:
            return True
        try:
            parts = p.relative_to(corpus).parts
        except ValueError:
            return False
        if any(part.startswith(".") or part in SKIP_DIRS for part in parts):
            return False
        return is_markdown(p) or p.is_dir() or (not p.exists() and not p.suffix)

    return keep


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


def watch(indexer: LiveIndexer, *, stop: threading.Event | None = None, on_update: Reporter = log_report,
          timing: WatchTiming = WatchTiming(), catch_up: bool = True,
          on_ready: Callable[[], None] | None = None) -> None:
    """Update the index whenever the corpus changes, until ``stop`` is set
    (or Ctrl-C in the main thread, which raises ``KeyboardInterrupt``).

    ``catch_up``: run one update as soon as the watch is in place, for the
    changes made while nothing was watching.  ``on_ready`` is called once the
    file system watch is in place (a change from then on is seen): the
    moment to tell a person that saving now is picked up.  ``on_update`` gets
    every report with the problems not reported before."""
    import watchfiles

    cfg = indexer.cfg
    paths = watched_paths(cfg)
    problems = Problems()
    pending = catch_up
    retry_at = 0.0
    in_main = threading.current_thread() is threading.main_thread()
    log.info("watching %s for changes", ", ".join(str(p) for p in paths))
    for changes in watchfiles.watch(*paths, watch_filter=change_filter(cfg), debounce=timing.debounce_ms,
                                    step=timing.step_ms, stop_event=stop, rust_timeout=timing.tick_ms,
                                    yield_on_timeout=True, raise_interrupt=in_main):
        if on_ready is not None:
            on_ready()  # the first hand-over: the watcher is registered
            on_ready = None
        if changes:
            pending = True
            log.debug("watch: %d changes: %s", len(changes), sorted(p for _, p in changes)[:5])
        if not pending or time.monotonic() < retry_at or (stop is not None and stop.is_set()):
            continue
        try:
            report = indexer.update()
        except store.IndexLocked as exc:
            log.info("watch: %s; retrying in %.0f s", exc, timing.retry_s)
            retry_at = time.monotonic() + timing.retry_s
            continue
        except Exception as exc:  # the watch outlives any one failed update
            log.error("watch: update failed (%s: %s); retrying in %.0f s", type(exc).__name__, exc, timing.retry_s)
            retry_at = time.monotonic() + timing.retry_s
            continue
        pending = False
        problems.forget(report.added + report.updated)
        report.notes = problems.new_notes(report.notes)  # (why there are no git dates: once a watch)
        try:
            on_update(report, problems.new(report.skipped, "skipped"), problems.new(report.warnings, "warning"))
        except Exception:  # a broken reporter must not stop the index from following the corpus
            log.exception("watch: reporting the update failed")


def serve_watch(cfg: IndexConfig, stop: threading.Event) -> None:
    """The watch of ``zhsearch serve --watch``, in a server thread or its own
    process: analysis loaded first, reports to the log, ends with ``stop``."""
    indexer = LiveIndexer(cfg)
    indexer.load()
    watch(indexer, stop=stop)
