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
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

log = logging.getLogger(__name__)

#: Long enough for the history of any documentation site.
GIT_TIMEOUT_S = 120.0
_CHUNK = 1 << 16
_DATE_MARK = "\x01"


@dataclass
class GitDates:
    """What git says about the files of one corpus."""

    #: corpus-relative path → author date (naive, the author's wall clock) of
    #: the last commit that changed it
    committed: dict[str, dt.datetime] = field(default_factory=dict)
    #: corpus-relative paths modified or untracked in the work tree
    dirty: set[str] = field(default_factory=set)
    #: why there are no git dates (None: git answered)
    unavailable: str | None = None
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
    env["LC_ALL"] = "C"
    env.pop("GIT_DIR", None)  # the corpus's own repository, not one the caller points at
    env.pop("GIT_WORK_TREE", None)
    return env


def _run(args: list[str], cwd: Path) -> str:
    out = subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, timeout=GIT_TIMEOUT_S)
    if out.returncode != 0:
        msg = out.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(msg[0] if msg else f"exit status {out.returncode}")
    return out.stdout.decode("utf-8", "surrogateescape")


def _strip(prefix: str, repo_path: str) -> str | None:
    """Repository path → corpus-relative path (None: outside the corpus)."""
    if not repo_path.startswith(prefix):
        return None
    return repo_path[len(prefix):]


def collect(root: Path, wanted: Iterable[str], *, git: str | None = None) -> GitDates:
    """Git dates of the ``wanted`` corpus-relative paths under ``root``."""
    wanted = set(wanted)
    out = GitDates()
    exe = git or shutil.which("git")
    if exe is None:
        out.unavailable = "git is not installed"
        return out
    root = Path(root)
    try:
        try:
            head = _run([exe, "rev-parse", "--is-inside-work-tree", "--show-prefix"], root).split("\n")
        except RuntimeError as exc:
            if "not a git repository" not in str(exc):
                raise
            head = ["false"]
        if head[0].strip() != "true":
            out.unavailable = f"{root} is not in a git work tree"
            return out
        prefix = head[1] if len(head) > 1 else ""
        if not wanted:
            return out
        status = _run([exe, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames",
                       "--", "."], root)
        for entry in status.split("\0"):
            if len(entry) > 3:
                rel = _strip(prefix, entry[3:])
                if rel is not None:
                    out.dirty.add(rel)
        todo = wanted - out.dirty
        if todo:
            out.log_runs += 1
            _read_log(exe, root, prefix, todo, out)
    except FileNotFoundError as exc:
        out.unavailable = f"cannot run git ({exc.strerror or exc})"
    except subprocess.TimeoutExpired:
        out.unavailable = f"git took longer than {GIT_TIMEOUT_S:.0f} s"
    except (RuntimeError, OSError) as exc:
        out.unavailable = f"git failed: {exc}"
    if out.unavailable:
        log.info("no dates from git for %s: %s", root, out.unavailable)
        out.committed.clear()
        out.dirty.clear()
    return out


def _read_log(exe: str, root: Path, prefix: str, todo: set[str], out: GitDates) -> None:
    """Stream ``git log`` (newest first) until every path in ``todo`` has its date."""
    args = [exe, "log", "--format=format:" + _DATE_MARK + "%aI", "--name-only", "-z", "--no-renames",
            "--", "."]
    proc = subprocess.Popen(args, cwd=root, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    date: dt.datetime | None = None
    rest = b""
    try:
        while todo:
            chunk = proc.stdout.read(_CHUNK)
            if not chunk:
                break
            tokens = (rest + chunk).split(b"\0")
            rest = tokens.pop()
            for raw in tokens:
                token = raw.decode("utf-8", "surrogateescape")
                if token.startswith(_DATE_MARK):  # "\x01<date>\n<first name>"
                    stamp, _, token = token[1:].partition("\n")
                    date = dt.datetime.fromisoformat(stamp.strip()).replace(tzinfo=None)
                elif token.startswith("\n"):
                    token = token[1:]
                rel = _strip(prefix, token)
                if rel and date is not None and rel in todo:
                    out.committed[rel] = date
                    todo.discard(rel)
    finally:
        if proc.poll() is None:
            proc.kill()  # everything wanted was found: the rest of the history is not needed
        _, err = proc.communicate()
    if proc.returncode not in (0, -9) and not out.committed:
        msg = err.decode("utf-8", "replace").strip().splitlines()
        if msg and "does not have any commits" not in msg[0]:
            raise RuntimeError(msg[0])
