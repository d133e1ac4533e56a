"""A multi-process Whoosh writer whose workers read, parse and analyse articles.

Whoosh's ``MpWriter`` expects finished field values from the parent process:
it pickles each document into a job file that a worker process loads and
files into its own segment.  Our documents are mostly *tokens* (the analyzer
runs before Whoosh sees a field), so analysing in the parent would leave one
core doing all the work, and analysing in a separate pool would pickle every
token list across two process boundaries.  Here the job file carries only
``(path, file bytes, mtime)``; each worker parses and analyses with the
analyzer it inherited, loaded, when it was forked, and writes its segment
(``multisegment``: no merge of the workers' postings afterwards).

Each worker reports every article back on a queue — written, with its
warnings, or skipped, with the reason — which a thread of the parent drains
(a queue nobody drains would block the worker's exit).  The parent waits
for all reports before committing, so it can delete an updated article's old
version only when its new version was written.
"""

from __future__ import annotations

import logging
import pickle
import queue
import threading
from multiprocessing import Queue
from typing import Callable

from whoosh.multiproc import MpWriter, SubWriterTask

from .analysis import Analyzer

log = logging.getLogger(__name__)

#: Articles per job file: small enough that both workers finish together.
BATCH_SIZE = 24

#: ``(path, warnings, None)`` for a written article, ``(path, [], reason)`` for a skipped one.
Outcome = tuple[str, list[str], str | None]


class _ArticleTask(SubWriterTask):
    """A Whoosh sub-writer process that turns article jobs into documents."""

    def __init__(self, *args, analyzer: Analyzer, outcomes: Queue) -> None:
        super().__init__(*args)
        self.analyzer = analyzer
        self.outcomes = outcomes

    def _process_file(self, filename, doc_count):
        # Whoosh's own loop, with parsing and analysis in place of unpickling
        # finished documents
        from .build import parse_job

        writer = self.writer
        tempstorage = writer.temp_storage()
        with tempstorage.open_file(filename).raw_file() as f:
            for _ in range(doc_count):
                _code, args = pickle.load(f)
                item = parse_job(args["job"], self.analyzer)
                if isinstance(item, tuple):
                    self.outcomes.put((item[0], [], item[1]))
                    continue
                try:
                    writer.add_document(**item.fields)
                except Exception as exc:  # never lose the corpus over one article
                    log.exception("cannot write %s", item.path)
                    self.outcomes.put((item.path, [], f"unexpected error: {type(exc).__name__}: {exc}"))
                    continue
                self.outcomes.put((item.path, item.warnings, None))
        tempstorage.delete_file(filename)


class ArticleWriter(MpWriter):
    """``MpWriter`` (multisegment) fed with article jobs instead of documents."""

    def __init__(self, ix, analyzer: Analyzer, procs: int, **kwargs) -> None:
        super().__init__(ix, procs=procs, batchsize=BATCH_SIZE, multisegment=True, **kwargs)
        self.analyzer = analyzer
        self._outcomes_queue: Queue = Queue()
        self._outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._drain = threading.Thread(target=self._drain_outcomes, name="zhsearch-outcomes", daemon=True)
        self._drain.start()

    # -- MpWriter hooks ----------------------------------------------------

    def _new_task(self):
        task = _ArticleTask(self.storage, self.indexname, self.jobqueue, self.resultqueue,
                            self.subargs, self.multisegment,
                            analyzer=self.analyzer, outcomes=self._outcomes_queue)
        self.tasks.append(task)
        task.start()
        return task

    # -- jobs --------------------------------------------------------------

    def add_job(self, job: tuple[str, bytes, int]) -> None:
        """One article file for a worker to parse, analyse and write."""
        self.add_document(job=job)

    @property
    def done(self) -> int:
        """Articles the workers have finished (written or skipped)."""
        with self._lock:
            return len(self._outcomes)

    def _drain_outcomes(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._outcomes_queue.get(timeout=0.2)
            except queue.Empty:
                continue
            except (EOFError, OSError):  # the queue went away (abort)
                return
            with self._lock:
                self._outcomes.append(item)

    def wait_for_jobs(self, count: int, progress: Callable[[int, int], None] | None = None) -> list[Outcome]:
        """Send the last batch and wait until the workers have reported
        ``count`` articles; raises if a worker died on the way."""
        if self.docbuffer:
            self._enqueue()
        while True:
            done = self.done
            if progress:
                progress(done, count)
            if done >= count:
                break
            dead = [t for t in self.tasks if not t.is_alive()]
            if dead:
                raise RuntimeError(f"an index writer process died (exit code {dead[0].exitcode}); "
                                   "the live index was not changed")
            threading.Event().wait(0.05)
        with self._lock:
            return list(self._outcomes)

    def commit(self, *args, **kwargs) -> None:
        try:
            super().commit(*args, **kwargs)
        finally:
            self._stop.set()

    def abort(self) -> None:
        """Stop the workers now and drop everything they wrote."""
        self._stop.set()
        for task in self.tasks:  # MpWriter.cancel() only flips a flag in our copy of each task
            task.terminate()
        for task in self.tasks:
            task.join(5)
        try:
            self.cancel()
        except OSError:
            pass
