"""Writing a full build with every core: workers read, parse, analyse and write.

Whoosh's ``MpWriter`` expects finished field values from the parent process:
it pickles each document into a job file that a worker loads and files into
its own segment.  Our documents are mostly *tokens* (the analyzer runs before
Whoosh sees a field), so analysing in the parent would leave one core doing
all the work, and analysing in a separate pool would pickle every token list
across two process boundaries.  Here a job is a
:class:`~indexer.document.ParseJob`, the file's bytes with its path, mtime,
git date and site: each worker parses and analyses
(:func:`~indexer.document.parse_job`) with the analyzer it inherited,
loaded, when it was forked, and files the article into its own
:class:`~indexer.segwriter.GroupedSegmentWriter` segment; a worker whose
postings pass ``limit_mb`` starts a new segment (memory stays bounded on any
corpus).  The parent keeps the index's write lock, deletes, and commits the
workers' segments with its own changes in one new table of contents.

Every article comes back on a queue as an :class:`Outcome` — written, with
its warnings, or skipped, with the reason — and each worker ends with a
:class:`WorkerDone` (its segments) or a :class:`WorkerFailed`; a thread of
the parent drains the queue (a queue nobody drains would block the worker's
exit).  The parent waits for every article's outcome before committing, so
it deletes an updated article's old version only once its new version was
written.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from . import whoosh_compat
from .analysis import Analyzer
from .document import ParseJob, Skipped, parse_job
from .segwriter import GroupedSegmentWriter

log = logging.getLogger(__name__)

#: Articles per batch handed to a worker: small enough that workers finish together.
BATCH_SIZE = 16


class Outcome(NamedTuple):
    """What became of one article a worker was given."""

    path: str
    warnings: list[str]
    #: why it was skipped; None when it was written
    reason: str | None = None


class WorkerDone(NamedTuple):
    """A worker's last message: the segments it wrote."""

    segments: list


class WorkerFailed(NamedTuple):
    """... or the exception that stopped it (a full disk, say)."""

    error: BaseException


def _work(ix, analyzer: Analyzer, writer_args: dict, limit_bytes: int,
          jobs: multiprocessing.Queue, outcomes: multiprocessing.Queue) -> None:
    """A worker process: what :func:`_write_jobs` does, its failure reported
    to the parent (which says it) instead of a traceback on stderr.

    The cyclic garbage collector is off: a worker allocates millions of
    small objects that live until it ends (its postings), none in cycles,
    and the collector's repeated passes over them took a third of a build."""
    gc.disable()
    try:
        _write_jobs(ix, analyzer, writer_args, limit_bytes, jobs, outcomes)
    except BaseException as exc:  # the parent re-raises it
        log.debug("index writer process failed", exc_info=True)
        try:
            outcomes.put(WorkerFailed(exc))
        except Exception:  # an exception that does not pickle: its text will do
            outcomes.put(WorkerFailed(RuntimeError(f"{type(exc).__name__}: {exc}")))
        outcomes.close()
        outcomes.join_thread()
        raise SystemExit(1) from None


def _write_jobs(ix, analyzer: Analyzer, writer_args: dict, limit_bytes: int,
                jobs: multiprocessing.Queue, outcomes: multiprocessing.Queue) -> None:
    """Parse, analyse and write batches of jobs until ``None``."""
    segments = []
    writer = GroupedSegmentWriter(ix, locked=False, **writer_args)
    for batch in iter(jobs.get, None):
        for job in batch:
            item = parse_job(job, analyzer)
            if isinstance(item, Skipped):
                outcomes.put(Outcome(item.path, [], item.reason))
                continue
            try:
                writer.add_document(**item.fields)
            except Exception as exc:  # never lose the corpus over one article
                log.exception("cannot write %s", item.path)
                outcomes.put(Outcome(item.path, [], f"unexpected error: {type(exc).__name__}: {exc}"))
                continue
            outcomes.put(Outcome(item.path, item.warnings))
        if writer.pool.size > limit_bytes:
            segments.append(writer.finish_segment())
            writer = GroupedSegmentWriter(ix, locked=False, **writer_args)
    segments.append(writer.finish_segment())
    outcomes.put(WorkerDone([s for s in segments if s is not None]))


class ParallelWriter:
    """Articles written by ``procs`` worker processes into their own segments."""

    def __init__(self, ix, analyzer: Analyzer, procs: int, limit_mb: int, **writer_args) -> None:
        self.writer = GroupedSegmentWriter(ix, **writer_args)  # holds the index's write lock
        self._jobs: multiprocessing.Queue = multiprocessing.Queue(procs * 4)
        self._outcomes: multiprocessing.Queue = multiprocessing.Queue()
        self._batch: list[ParseJob] = []
        self._results: list[Outcome] = []
        self._segments: list = []
        self._finished = 0  # workers that sent their segments
        self._failure: BaseException | None = None  # what stopped a worker, as it reported it
        self._lock = threading.Lock()
        self.workers = [multiprocessing.Process(target=_work, name=f"zhsearch-writer-{k}", daemon=True,
                                                args=(ix, analyzer, writer_args, limit_mb << 20,
                                                      self._jobs, self._outcomes))
                        for k in range(procs)]
        for w in self.workers:
            w.start()
        self._drain = threading.Thread(target=self._drain_outcomes, name="zhsearch-outcomes", daemon=True)
        self._drain.start()

    def delete_by_term(self, fieldname: str, text: str) -> None:
        self.writer.delete_by_term(fieldname, text)

    def add_job(self, job: ParseJob) -> None:
        """One article file for a worker to parse, analyse and write."""
        self._batch.append(job)
        if len(self._batch) >= BATCH_SIZE:
            self._send_batch()

    def _send_batch(self) -> None:
        while True:
            self._check_workers()
            try:
                self._jobs.put(self._batch, timeout=0.5)
                break
            except queue.Full:
                continue
        self._batch = []

    @property
    def done(self) -> int:
        """Articles the workers have finished (written or skipped)."""
        with self._lock:
            return len(self._results)

    def _drain_outcomes(self) -> None:
        while self._finished < len(self.workers):
            try:
                item = self._outcomes.get(timeout=0.2)
            except queue.Empty:
                continue
            except (EOFError, OSError, ValueError):  # the queue went away (abort)
                return
            with self._lock:
                if isinstance(item, Outcome):
                    self._results.append(item)
                elif isinstance(item, WorkerDone):
                    self._segments += item.segments
                    self._finished += 1
                else:  # WorkerFailed
                    self._failure = self._failure or item.error
                    self._finished += 1

    def _check_workers(self) -> None:
        """Raise what stopped a worker (as it reported it, else its exit code)."""
        dead = [w for w in self.workers if w.exitcode not in (None, 0)]
        if not dead:
            return
        self._drain.join(1)  # its report may still be on the way
        if self._failure is not None:
            raise self._failure
        raise RuntimeError(f"an index writer process died (exit code {dead[0].exitcode}); "
                           "the live index was not changed")

    def wait_for_jobs(self, count: int, progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
        """Send what is left and wait until the workers have reported
        ``count`` articles; raises if a worker died on the way."""
        if self._batch:
            self._send_batch()
        event = threading.Event()
        while True:
            done = self.done
            if progress:
                progress(done, count)
            if done >= count:
                break
            self._check_workers()
            event.wait(0.05)
        with self._lock:
            return list(self._results)

    def commit(self) -> None:
        """Let the workers finish their segments, then commit them together
        with this writer's deletions in one new table of contents."""
        for _ in self.workers:
            self._jobs.put(None)
        deadline = None
        while self._drain.is_alive():  # until every worker's segments are in
            self._check_workers()
            if deadline is None and all(w.exitcode is not None for w in self.workers):
                deadline = time.monotonic() + 10  # what they sent is still in the pipe, if anything
            if deadline is not None and time.monotonic() > deadline:
                raise RuntimeError("an index writer process ended without its segments; "
                                   "the live index was not changed")
            self._drain.join(0.05)
        for w in self.workers:
            w.join()
        if self._failure is not None:
            raise self._failure
        self.writer.commit_with(self._segments)

    def abort(self) -> None:
        """Stop the workers now and drop everything written."""
        for w in self.workers:
            if w.is_alive():
                w.terminate()
        for w in self.workers:
            w.join(5)
        # batches nobody will read stay in the queue's buffer: without this
        # the interpreter waits for ever at exit to flush them into the pipe
        self._jobs.cancel_join_thread()
        self._outcomes.cancel_join_thread()
        whoosh_compat.stop_writer(self.writer)
