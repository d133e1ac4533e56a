"""A lock file one process holds, and what forking while it is held must do.

The lock is ``flock`` on the file: it dies with the process that holds it,
so a killed indexer never leaves a lock that blocks the next run.  The pid
written into the file only serves messages (who holds it; whether the last
holder died without unlocking, a stale lock).

Forked children inherit descriptors, and with them the lock: a worker process
forked while a lock is held would keep the index locked after the indexer
died.  So while this process holds a lock, every fork (the writer processes
of :mod:`indexer.mpwrite`):

* blocks Ctrl-C in the parent across the fork, so the child cannot take one
  before it has set itself up;
* in the child: asks the kernel to kill it when the parent dies
  (``prctl(PR_SET_PDEATHSIG)``, Linux), exits at once if the parent died
  already, closes the lock's descriptors (the lock stays with the parent's)
  and ignores Ctrl-C (the parent decides what a Ctrl-C does to its workers).

The descriptors held are process-wide state by nature: the fork hooks
(``os.register_at_fork``) must see them.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import logging
import os
import signal
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: ``prctl`` option: the signal a process gets when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1

_held_fds: set[int] = set()  # descriptors of the locks this process holds
_forking_pid = 0  # the pid that forked (the child compares its parent's)


class LockBusy(Exception):
    """Another process holds the lock (``holder``: its pid, when it wrote one)."""

    def __init__(self, path: Path, holder: int | None) -> None:
        super().__init__(f"{path} is locked by pid {holder or '?'}")
        self.path = path
        self.holder = holder


class HeldLock:
    """A lock this process holds until :meth:`release`."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def release(self) -> None:
        fd = self._fd
        try:
            _held_fds.discard(fd)
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def acquire(path: Path, wait: float = 0.0) -> HeldLock:
    """Lock ``path`` (created if missing), waiting up to ``wait`` seconds
    for another holder; raises :class:`LockBusy` when it still holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _flock(fd, path, wait)
        previous = _read_pid(fd)
        if previous and previous != os.getpid() and not _pid_alive(previous):
            log.warning("recovered a stale lock left by pid %s (no longer running)", previous)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except BaseException:
        os.close(fd)
        raise
    _held_fds.add(fd)
    return HeldLock(fd)


def _flock(fd: int, path: Path, wait: float) -> None:
    deadline = time.monotonic() + wait
    announced = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = _read_pid(fd)
            if time.monotonic() >= deadline:
                raise LockBusy(path, holder) from None
            if not announced:
                log.warning("another indexer (pid %s) holds %s; waiting…", holder or "?", path)
                announced = True
            time.sleep(0.2)


def forget_owners() -> None:
    """Blank the pid in the locks this process holds, for a process about to
    ``os._exit`` while holding them: the next run then has no stale lock to
    report (the ``flock`` itself dies with the process)."""
    for fd in list(_held_fds):
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass


def _read_pid(fd: int) -> int | None:
    try:
        data = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(data) if data.isdigit() else None
    except OSError:
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ------------------------------------------------------------ fork hooks

def _before_fork() -> None:
    # The child must not take a Ctrl-C before it has set itself up below.
    global _forking_pid
    if _held_fds:
        _forking_pid = os.getpid()
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _after_fork_in_parent() -> None:
    if _held_fds:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _after_fork_in_child() -> None:
    """A worker process forked by a lock holder must not hold the lock,
    take Ctrl-C, or outlive its parent."""
    if not _held_fds:
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    except Exception:
        pass
    if os.getppid() != _forking_pid:  # the parent died before prctl took effect
        os._exit(1)
    for fd in list(_held_fds):
        try:
            os.close(fd)  # the flock stays with the parent's descriptor
        except OSError:
            pass
    _held_fds.clear()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                    after_in_child=_after_fork_in_child)
