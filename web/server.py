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
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from typing import Callable

log = logging.getLogger(__name__)

#: More worker deaths than this within ``CRASH_WINDOW_S`` is a crash loop
#: (a broken index, a port problem): the server stops and says why instead
#: of restarting workers for ever.
MAX_RESTARTS = 5
CRASH_WINDOW_S = 30.0


def serve(app_factory: Callable[[], object], host: str, port: int, threads: int, workers: int = 1) -> None:
    """Serve ``app_factory()`` on ``host:port`` until interrupted."""
    import waitress

    if workers <= 1:
        waitress.serve(app_factory(), host=host, port=port, threads=threads, ident="zhsearch")
        return
    sock = socket.create_server((host, port), backlog=2048)
    pids: set[int] = set()
    deaths: list[float] = []
    stopping = False

    def start_worker() -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                _worker_setup(os.getppid())
                waitress.serve(app_factory(), sockets=[sock], threads=threads, ident="zhsearch")
            except BaseException:  # noqa: BLE001 - reported, then the parent decides
                log.exception("worker %d failed", os.getpid())
                code = 1
            finally:
                os._exit(code)
        pids.add(pid)

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for _ in range(workers):
            start_worker()
        log.info("serving with %d worker processes: %s", workers, sorted(pids))
        while pids:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            known = pid in pids
            pids.discard(pid)
            if not known or stopping:
                continue
            why = f"exit status {os.waitstatus_to_exitcode(status)}"
            now = time.monotonic()
            deaths[:] = [t for t in deaths if now - t < CRASH_WINDOW_S] + [now]
            if len(deaths) > MAX_RESTARTS:
                log.error("worker %d ended (%s), the %d-th worker to end within %.0f s; stopping the server",
                          pid, why, len(deaths), CRASH_WINDOW_S)
                stop(signal.SIGTERM, None)
                continue
            log.warning("worker %d ended (%s); starting a new one", pid, why)
            start_worker()
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        sock.close()


def _worker_setup(parent: int) -> None:
    """A worker leaves Ctrl-C to the parent and dies with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG (Linux)
    except Exception:  # noqa: BLE001 - not Linux: the parent still stops its workers
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
