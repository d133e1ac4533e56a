"""Serving the app with waitress, in one process or several.

One Python process runs one query at a time (the GIL), so a single waitress
process uses one core however many threads it has.  ``workers > 1`` binds
the listening socket once and forks that many waitress processes that all
accept on it (the kernel hands each connection to one of them): the other
core serves queries too.  Each worker opens the index itself, after the
fork, and segments are memory-mapped (``indexer.whoosh_compat``), so the page
cache holds one copy of the index for all of them.

The parent only supervises: a worker that dies is replaced, and SIGINT
(Ctrl-C) or SIGTERM stops every worker before the parent exits.

A *sidecar* (``zhsearch serve --watch``: the indexer that follows the
corpus) runs beside the server: in a thread of the single server process,
or, with several workers, in one more supervised process of its own, so
exactly one process indexes whatever the number of workers.  It gets a
``threading.Event`` and returns soon after the event is set (SIGTERM sets it
in its process: an update in progress finishes, none is cut short).  A
sidecar that fails or dies is started again with backoff (1 s doubling to
60 s), never given up: a site whose index stops following the corpus
without a word is worse than one that keeps trying and says so in the log
and in ``/healthz`` (the :class:`~indexer.watchstate.WatchStatus` given to
:func:`serve`).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable

import waitress
from werkzeug.serving import WSGIRequestHandler

from indexer.watchstate import WatchState, WatchStatus

from .state import close_app

log = logging.getLogger(__name__)

#: Runs beside the server until the event is set.
Sidecar = Callable[[threading.Event], None]
#: Seconds Ctrl-C waits for a sidecar's update in progress.
SIDECAR_STOP_S = 30.0

#: More worker deaths than this within ``CRASH_WINDOW_S`` is a crash loop
#: (a broken index, a port problem): the server stops and says why instead
#: of restarting workers for ever.
MAX_RESTARTS = 5
CRASH_WINDOW_S = 30.0
#: A sidecar that failed or died is started again after this long, doubling
#: up to the maximum for each further failure within ``CRASH_WINDOW_S`` of its start.
SIDECAR_BACKOFF_FIRST_S = 1.0
SIDECAR_BACKOFF_MAX_S = 60.0


def _backoff(failures: int) -> float:
    return min(SIDECAR_BACKOFF_MAX_S, SIDECAR_BACKOFF_FIRST_S * 2 ** max(0, failures - 1))


def serve(app_factory: Callable[[], object], host: str, port: int, threads: int, workers: int,
          sidecar: Sidecar | None = None, watch: WatchStatus | None = None) -> None:
    """Serve ``app_factory()`` on ``host:port`` until interrupted, with
    ``sidecar`` running beside it; ``watch``: the sidecar's state, which the
    server updates when the sidecar dies."""
    def run(**where) -> None:
        app = app_factory()
        try:
            waitress.serve(app, threads=threads, ident="zhsearch", **where)
        finally:
            _close(app)  # analytics still queued is written before the process ends

    if workers <= 1:
        _serve_one(lambda: run(host=host, port=port), sidecar, watch)
        return
    sock = socket.create_server((host, port), backlog=2048)
    supervisor = _Supervisor(sock, run, sidecar, watch)
    previous = {s: signal.signal(s, supervisor.stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        supervisor.run(workers)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        sock.close()


class _Supervisor:
    """The parent of ``serve --workers N``: forks the workers (and the
    sidecar), replaces a worker that dies (stopping the server when they
    keep dying), starts a dead sidecar again with backoff, and stops them
    all on SIGINT/SIGTERM."""

    def __init__(self, sock: socket.socket, run: Callable[..., None], sidecar: Sidecar | None,
                 watch: WatchStatus | None) -> None:
        self.sock = sock
        self.run_worker = run
        self.sidecar = sidecar
        self.watch = watch
        self.pids: dict[int, str] = {}  # pid → "worker" or "sidecar"
        self.worker_deaths: list[float] = []  # when workers ended, within CRASH_WINDOW_S
        self.stopping = False
        self.sidecar_started = 0.0
        self.sidecar_failures = 0  # in a row: each within CRASH_WINDOW_S of its start
        self.sidecar_due: float | None = None  # when a dead sidecar is started again

    def run(self, workers: int) -> None:
        for _ in range(workers):
            self.start("worker")
        if self.sidecar is not None:
            self.start("sidecar")
        log.info("serving with %d worker processes: %s", workers,
                 ", ".join(f"{p} ({r})" if r != "worker" else str(p) for p, r in sorted(self.pids.items())))
        while self.pids:
            if self.sidecar_due is not None and not self.stopping and time.monotonic() >= self.sidecar_due:
                self.sidecar_due = None
                self.start("sidecar")
            try:
                pid, status = _wait_child(None if self.sidecar_due is None or self.stopping else self.sidecar_due)
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            if pid == 0:
                continue  # time to start the sidecar again
            role = self.pids.pop(pid, None)
            if role is not None and not self.stopping:
                self.ended(pid, role, f"exit status {os.waitstatus_to_exitcode(status)}")

    def start(self, role: str) -> None:
        if role == "sidecar":
            self.sidecar_started = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the worker
            self._child(role)
        self.pids[pid] = role

    def _child(self, role: str) -> None:
        code = 0
        try:
            _worker_setup(os.getppid())
            if role == "sidecar":
                self.sock.close()  # it serves nothing
                stop = threading.Event()
                signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
                self.sidecar(stop)
            else:
                self.run_worker(sockets=[self.sock])  # returns on SIGTERM (see _worker_setup)
        except KeyboardInterrupt:  # SIGTERM before the server ran
            code = 0
        except BaseException:  # reported, then the parent decides
            log.exception("%s %d failed", role, os.getpid())
            code = 1
        finally:
            os._exit(code)

    def stop(self, signum, frame) -> None:
        self.stopping = True
        for pid in list(self.pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def ended(self, pid: int, role: str, why: str) -> None:
        """A child ended while the server runs."""
        now = time.monotonic()
        if role == "sidecar":
            # a watcher that cannot run (no inotify watches left, say) must not take the site down,
            # nor be given up: it is tried again, less and less often
            self.sidecar_failures = self.sidecar_failures + 1 if now - self.sidecar_started < CRASH_WINDOW_S else 1
            delay = _backoff(self.sidecar_failures)
            self.sidecar_due = now + delay
            log.error("the sidecar %d ended (%s); the site goes on serving the last published index, and "
                      "the sidecar starts again in %.0f s", pid, why, delay)
            if self.watch is not None:
                self.watch.set(WatchState.RESTARTING, f"the watch process ended ({why})")
            return
        recent = self.worker_deaths = [t for t in self.worker_deaths if now - t < CRASH_WINDOW_S] + [now]
        if len(recent) > MAX_RESTARTS:
            log.error("worker %d ended (%s), the %d-th worker to end within %.0f s; stopping the server",
                      pid, why, len(recent), CRASH_WINDOW_S)
            self.stop(signal.SIGTERM, None)
            return
        log.warning("%s %d ended (%s); starting a new one", role, pid, why)
        self.start(role)


def _wait_child(until: float | None) -> tuple[int, int]:
    """``os.wait()``, but giving up at monotonic time ``until`` (then ``(0, 0)``)."""
    if until is None:
        return os.wait()
    while True:
        pid, status = os.waitpid(-1, os.WNOHANG)
        left = until - time.monotonic()
        if pid or left <= 0:
            return pid, status
        time.sleep(min(0.1, left))


def _serve_one(run: Callable[[], None], sidecar: Sidecar | None, watch: WatchStatus | None = None) -> None:
    """One server process, the sidecar in a thread of it.  SIGTERM stops the
    server like Ctrl-C, so the sidecar can finish an update in progress (and
    the application write what it still has queued)."""
    if sidecar is None:
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            run()
        finally:
            signal.signal(signal.SIGTERM, previous)
        return
    stop = threading.Event()

    def guarded() -> None:
        failures = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                sidecar(stop)
                return  # it ends when asked to
            except Exception as exc:  # the site keeps serving the last published index
                failures = failures + 1 if time.monotonic() - started < CRASH_WINDOW_S else 1
                delay = _backoff(failures)
                log.exception("the %s thread failed; starting it again in %.0f s",
                              getattr(sidecar, "__name__", "sidecar"), delay)
                if watch is not None:
                    watch.set(WatchState.RESTARTING, f"{type(exc).__name__}: {exc}")
                stop.wait(delay)

    thread = threading.Thread(target=guarded, name="zhsearch-sidecar", daemon=True)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    thread.start()
    try:
        run()
    finally:
        stop.set()
        signal.signal(signal.SIGTERM, previous)
        thread.join(SIDECAR_STOP_S)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def dev_request_handler():
    """The development server's request handler, logging requests without
    the client's address (the site keeps no reader's address anywhere)."""
    class Handler(WSGIRequestHandler):
        def address_string(self) -> str:
            return "-"

    return Handler


def _close(app) -> None:
    try:
        close_app(app)
    except Exception:  # stopping anyway
        log.exception("closing the application failed")


def _worker_setup(parent: int) -> None:
    """A worker leaves Ctrl-C to the parent and dies with it.  SIGTERM (from
    the parent, or its death) stops the worker's server the way Ctrl-C stops
    a single process: requests in progress finish, then the application
    writes what it still has queued."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG (Linux)
    except Exception:  # not Linux: the parent still stops its workers
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
