"""Article dates from git: the last commit that changed each file.

A fresh clone gives every file the time of the clone, so a corpus folder's
file times say nothing about when anyone wrote an article.  When the corpus
lies in a git work tree, the author date of the last commit that touched a
file is what a site generator shows as "last updated" (VuePress's
last-updated plugin, Hugo's ``enableGitInfo``), and what ``zhsearch`` uses for
an article whose front matter has no date.

Cost: one ``git status`` and **one** ``git log`` for the whole corpus (never a
process per file).  The log is read as a stream, newest commit first, and
stopped as soon as every wanted file has been seen, so an incremental update
of a few recently committed files reads only the last few commits.

A file that is modified or not yet committed is being written now: it is
dated by its modification time (it will keep that date after the commit,
which changes nothing in its content).  Without git, outside a work tree, or
when git fails, there are no git dates and the reason is kept for the log.

Bounded: the whole git step (every process it runs) gets
:data:`GIT_TIMEOUT_S` together; past it, each git process and anything it
started is killed and the run goes on without git dates, saying so (a
``git`` that never answers must not hold the index's writer lock for ever).

When there are no git dates for a reason the user can fix (git missing, a
broken ``.git``, a ``.git`` file of a worktree whose repository is gone, git
too slow) :attr:`GitDates.problem` says why in one line.  In a shallow
clone, a file whose newest known commit is the clone's boundary gets no
date (the boundary commit lists every file it holds, whatever its real last
change), and :attr:`GitDates.shallow_cut` counts them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import filenames

log = logging.getLogger(__name__)

#: The whole git step of one run (every git process together), by default.
GIT_TIMEOUT_S = 60.0
_CHUNK = 1 << 16
_DATE_MARK = "\x01"


class _TimedOut(Exception):
    pass


@dataclass
class GitDates:
    """What git says about the files of one corpus."""

    #: index key (corpus-relative path) → author date (naive, the author's
    #: wall clock) of the last commit that changed it
    committed: dict[str, dt.datetime] = field(default_factory=dict)
    #: keys of files modified or untracked in the work tree
    dirty: set[str] = field(default_factory=set)
    #: why there are no git dates (None: git answered)
    unavailable: str | None = None
    #: the same, when it is something to tell the user (git missing while the
    #: corpus is in a repository, a broken ``.git``, git too slow); None when
    #: there is simply no repository
    problem: str | None = None
    #: files whose newest known commit is a shallow clone's boundary: undated
    shallow_cut: int = 0
    #: the work tree's top folder (for the ``git fetch --unshallow`` hint)
    toplevel: str | None = None
    #: ``git log`` processes run (one per collection, zero without git)
    log_runs: int = 0

    def date_for(self, rel: str, mtime_ns: int) -> dt.datetime | None:
        """The git date of a file: its last commit, its modification time
        while it has uncommitted changes, else None."""
        if rel in self.dirty:
            return dt.datetime.fromtimestamp(mtime_ns / 1e9) if mtime_ns else None
        return self.committed.get(rel)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["GIT_OPTIONAL_LOCKS"] = "0"  # `git status` must not take the index lock of a user's work tree
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    env.pop("GIT_DIR", None)  # the corpus's own repository, not one the caller points at
    env.pop("GIT_WORK_TREE", None)
    return env


class _Git:
    """Runs git processes against one deadline; each in its own process
    group, so a timeout kills whatever it started too (a child that keeps
    the pipes open would otherwise keep the reader waiting)."""

    def __init__(self, exe: str, cwd: Path, deadline: float) -> None:
        self.exe, self.cwd, self.deadline = exe, cwd, deadline

    def start(self, args: list[str]) -> subprocess.Popen:
        return subprocess.Popen([self.exe, *args], cwd=self.cwd, env=_env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)

    def stream(self, proc: subprocess.Popen, err: bytearray):
        """``proc``'s output in chunks as it comes; its error output into ``err``."""
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        sel.register(proc.stderr, selectors.EVENT_READ)
        try:
            open_pipes = 2
            while open_pipes:
                left = self.deadline - time.monotonic()
                if left <= 0:
                    raise _TimedOut
                for key, _ in sel.select(left):
                    data = os.read(key.fd, _CHUNK)
                    if not data:
                        sel.unregister(key.fileobj)
                        open_pipes -= 1
                    elif key.fileobj is proc.stderr:
                        err += data[: max(0, 4096 - len(err))]
                    else:
                        yield data
        finally:
            sel.close()

    def finish(self, proc: subprocess.Popen) -> int:
        """Wait for ``proc`` (killing its group first if it still runs) and
        close its pipes; its exit status."""
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        proc.wait()
        for f in (proc.stdout, proc.stderr):
            if f is not None:
                f.close()
        return proc.returncode

    def run(self, args: list[str]) -> str:
        proc = self.start(args)
        out, err = bytearray(), bytearray()
        try:
            for chunk in self.stream(proc, err):
                out += chunk
        finally:
            code = self.finish(proc)
        if code != 0:
            msg = err.decode("utf-8", "replace").strip().splitlines()
            raise RuntimeError(msg[0] if msg else f"exit status {code}")
        return out.decode("utf-8", "surrogateescape")


def _strip(prefix: str, repo_path: str) -> str | None:
    """Repository path → the index key of the corpus-relative path (None: outside the corpus)."""
    if not repo_path.startswith(prefix):
        return None
    return filenames.key(repo_path[len(prefix):])


def find_dotgit(root: Path) -> Path | None:
    """The ``.git`` (folder or file) of the work tree ``root`` would be in, if any."""
    try:
        here = Path(os.path.abspath(root))
    except OSError:
        return None
    for folder in (here, *here.parents):
        candidate = folder / ".git"
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return None


def _diagnose(dotgit: Path, git_says: str) -> str:
    """Why git cannot use the repository of ``dotgit``, in one line."""
    if dotgit.is_file():
        try:
            line = dotgit.read_text(encoding="utf-8", errors="replace").strip()
        except OSError as exc:
            return f"{dotgit} cannot be read ({exc.strerror or exc})"
        if line.startswith("gitdir:"):
            target = Path(line[len("gitdir:"):].strip())
            if not target.is_absolute():
                target = dotgit.parent / target
            if not target.exists():
                return (f"{dotgit} points to {target}, which does not exist (the worktree's repository "
                        "was moved or deleted)")
        return f"{dotgit} is not a valid .git file ({git_says})"
    return f"the repository {dotgit} is broken ({git_says})"


def collect(root: Path, wanted: Iterable[str], *, git: str | None = None,
            timeout: float = GIT_TIMEOUT_S) -> GitDates:
    """Git dates of the ``wanted`` index keys under ``root``, within ``timeout`` seconds."""
    wanted = set(wanted)
    out = GitDates()
    root = Path(root)
    dotgit = find_dotgit(root)
    exe = git or shutil.which("git")
    if exe is None:
        out.unavailable = "git is not installed"
        if dotgit is not None:
            out.problem = f"git is not installed (the corpus is in the repository {dotgit})"
    elif timeout <= 0:
        out.unavailable = "git dates are turned off (ZHSEARCH_GIT_TIMEOUT=0)"
    else:
        _collect(_Git(exe, root, time.monotonic() + timeout), root, wanted, dotgit, timeout, out)
    if out.unavailable:
        log.info("no dates from git for %s: %s", root, out.unavailable)
        out.committed.clear()
        out.dirty.clear()
    return out


def _collect(git: _Git, root: Path, wanted: set[str], dotgit: Path | None, timeout: float,
             out: GitDates) -> None:
    try:
        try:
            head = git.run(["rev-parse", "--is-inside-work-tree", "--show-toplevel",
                            "--is-shallow-repository", "--git-path", "shallow", "--show-prefix"]).split("\n")
        except RuntimeError as exc:
            if "not a git repository" not in str(exc):
                raise
            if dotgit is not None:  # a .git is there, but git cannot use it
                out.problem = _diagnose(dotgit, str(exc))
            head = ["false"]
        if head[0].strip() != "true":
            out.unavailable = out.problem or f"{root} is not in a git work tree"
            return
        out.toplevel = head[1]
        shallow = _boundary(Path(head[3]) if Path(head[3]).is_absolute() else root / head[3]) \
            if head[2].strip() == "true" else set()
        prefix = head[4] if len(head) > 4 else ""
        if not wanted:
            return
        status = git.run(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames", "--", "."])
        for entry in status.split("\0"):
            if len(entry) > 3:
                rel = _strip(prefix, entry[3:])
                if rel is not None:
                    out.dirty.add(rel)
        todo = wanted - out.dirty
        if todo:
            out.log_runs += 1
            _read_log(git, prefix, todo, shallow, out)
    except FileNotFoundError as exc:
        out.unavailable = out.problem = f"cannot run git ({exc.strerror or exc})"
    except _TimedOut:
        out.unavailable = out.problem = f"git took longer than {timeout:g} s (ZHSEARCH_GIT_TIMEOUT) and was stopped"
    except (RuntimeError, OSError) as exc:
        out.unavailable = out.problem = f"git failed: {exc}"


def _boundary(shallow_file: Path) -> set[str]:
    """The commits a shallow clone's history is cut at."""
    try:
        return set(shallow_file.read_text(encoding="ascii", errors="replace").split())
    except OSError:
        return set()


def _read_log(git: _Git, prefix: str, todo: set[str], shallow: set[str], out: GitDates) -> None:
    """Stream ``git log`` (newest first) until every path in ``todo`` has its date."""
    proc = git.start(["log", "--format=format:" + _DATE_MARK + "%H %aI", "--name-only", "-z", "--no-renames",
                      "--", "."])
    err = bytearray()
    date: dt.datetime | None = None
    cut = False  # this commit is a shallow boundary: what it lists has no known last change
    rest = b""
    try:
        for chunk in git.stream(proc, err):
            tokens = (rest + chunk).split(b"\0")
            rest = tokens.pop()
            for raw in tokens:
                token = raw.decode("utf-8", "surrogateescape")
                if token.startswith(_DATE_MARK):  # "\x01<hash> <date>\n<first name>"
                    stamp, _, token = token[1:].partition("\n")
                    commit, _, stamp = stamp.strip().partition(" ")
                    date = dt.datetime.fromisoformat(stamp.strip()).replace(tzinfo=None)
                    cut = commit in shallow
                elif token.startswith("\n"):
                    token = token[1:]
                rel = _strip(prefix, token)
                if rel and date is not None and rel in todo:
                    todo.discard(rel)
                    if cut:
                        out.shallow_cut += 1
                    else:
                        out.committed[rel] = date
            if not todo:
                break  # everything wanted was found: the rest of the history is not needed
    finally:
        code = git.finish(proc)
    if code not in (0, -9) and not out.committed:
        msg = err.decode("utf-8", "replace").strip().splitlines()
        if msg and "does not have any commits" not in msg[0]:
            raise RuntimeError(msg[0])
