"""Where what readers search for is kept: one SQLite file, written off the request path.

A search must never wait for analytics and never fail because of it.  So a
request only appends a row to a bounded in-memory queue (a lock and a deque
append, microseconds); one writer thread per process takes what is queued
and writes it in one transaction.  Several server processes (``serve
--workers N``) write the same file: SQLite in WAL mode serialises their
transactions, and the busy timeout makes a writer wait for another's commit
instead of failing.

What can go wrong, and what happens then (always a warning in the log, the
site goes on serving):

* the queue is full (the disk stalls, the database stays locked): the oldest
  rows are dropped and counted; the counts are written with the next rows
  that get through (table ``dropped``), so the report says what is missing;
* the database is locked past the busy timeout, the disk is full, an I/O
  error: the rows go back to the head of the queue (still bounded) and the
  writer tries again with a growing pause;
* the file is corrupt, or not a database at all: it is moved aside (with its
  ``-wal`` and ``-shm``) as ``FILE.corrupt-YYYYmmdd-HHMMSS`` and a new one is
  started.  Server processes that still have the old file open notice that
  the path names another file and reopen it.

The schema is versioned (``PRAGMA user_version``) and migrated in order, in
one ``BEGIN IMMEDIATE`` transaction, so two processes starting together
migrate once.  A file written by a newer zhsearch is left alone.  Rows older
than the retention (``--analytics-days``) are pruned by the writer.

Privacy by construction: no column can hold an address, a cookie, a user
agent or any identifier of a reader; the only trace of where a search came
from is the path of the host page (without its query string).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from zhsearch.settings import Settings

log = logging.getLogger(__name__)

#: Rows waiting per process before the oldest are dropped.
QUEUE_SIZE = 10_000
#: How long one writer waits for another's transaction (SQLite's busy timeout).
BUSY_TIMEOUT_S = 5.0
#: Pause between retries after a failed write: doubles up to the maximum.
RETRY_FIRST_S, RETRY_MAX_S = 0.5, 10.0
#: While failing, a warning at most this often.
WARN_EVERY_S = 60.0
PRUNE_EVERY_S = 3600.0

#: (version, SQL): applied in order to bring a file to ``SCHEMA_VERSION``.
MIGRATIONS: list[tuple[int, str]] = [
    (1, """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE searches (
        id INTEGER PRIMARY KEY,
        search_id TEXT NOT NULL UNIQUE,  -- a random id per answered search, not per reader
        ts INTEGER NOT NULL,             -- when it was answered, Unix time
        query TEXT NOT NULL,             -- as typed
        folded TEXT NOT NULL,            -- the key curation matches (search.curation.curation_key)
        results INTEGER NOT NULL,        -- total results
        page INTEGER NOT NULL,
        first_rank INTEGER NOT NULL,     -- rank of the first result shown
        shown INTEGER NOT NULL,          -- results shown
        sort TEXT NOT NULL,
        filters TEXT,                    -- JSON {"tag": [...], "category": [...]}, or NULL
        source TEXT NOT NULL,            -- widget | page | api
        settled TEXT NOT NULL,           -- idle | enter | click | page | api
        page_path TEXT,                  -- the host page's path (widget), nothing more
        version TEXT NOT NULL            -- zhsearch version that answered
    );
    CREATE INDEX searches_ts ON searches (ts);
    CREATE TABLE clicks (
        id INTEGER PRIMARY KEY,
        search_id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        rank INTEGER NOT NULL,           -- 1 = first result of the search
        path TEXT,                       -- the article, relative to the corpus root
        UNIQUE (search_id, rank)
    );
    CREATE INDEX clicks_ts ON clicks (ts);
    """),
    (2, """
    CREATE TABLE dropped (day TEXT PRIMARY KEY, rows INTEGER NOT NULL);
    CREATE INDEX searches_folded ON searches (folded, ts);
    """),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]

SEARCH_COLUMNS = ("search_id", "ts", "query", "folded", "results", "page", "first_rank", "shown", "sort",
                  "filters", "source", "settled", "page_path", "version")
CLICK_COLUMNS = ("search_id", "ts", "rank", "path")


@dataclass(frozen=True)
class SearchRow:
    search_id: str
    ts: int
    query: str
    folded: str
    results: int
    page: int
    first_rank: int
    shown: int
    sort: str
    filters: str | None
    source: str
    settled: str
    page_path: str | None
    version: str


@dataclass(frozen=True)
class ClickRow:
    search_id: str
    ts: int
    rank: int
    path: str | None


class NewerSchema(RuntimeError):
    """The file was written by a newer zhsearch: it is left alone."""


def connect(path: Path, busy_timeout: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """A connection in WAL mode with a busy timeout, the schema migrated
    (``NewerSchema`` for a file of a newer zhsearch; ``sqlite3.DatabaseError``
    for a file that is not a database)."""
    conn = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        _check_version(conn, path)  # before anything writes: a newer zhsearch's file stays as it is
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("analytics database %s: journal mode %s, not WAL", path, mode)
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never corrupt
        migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _check_version(conn: sqlite3.Connection, path: Path | str) -> int:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise NewerSchema(f"analytics database {path} has schema version {version}, newer than this "
                          f"zhsearch's {SCHEMA_VERSION}: use the newer zhsearch, or another --analytics file")
    return version


def migrate(conn: sqlite3.Connection, path: Path | str = "") -> None:
    """Bring the schema to ``SCHEMA_VERSION``, one migration after another."""
    if _check_version(conn, path) == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")  # one process migrates, the others wait and find it done
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        for target, sql in MIGRATIONS:
            if target > version:
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target}")
                log.info("analytics database %s: schema version %d", path, target)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(sql: str) -> list[str]:
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def secret(conn: sqlite3.Connection) -> bytes:
    """The installation's signing key (kept in ``meta``, made on first use),
    the same in every server process."""
    conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('secret', ?)", (secrets.token_hex(32),))
    return bytes.fromhex(conn.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()[0])


def error_kind(exc: BaseException) -> str:
    """``corrupt``, ``full``, ``locked`` or ``error``."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or isinstance(exc, NewerSchema):
        return "corrupt" if not isinstance(exc, NewerSchema) else "newer"
    if name.startswith("SQLITE_FULL") or (isinstance(exc, OSError) and exc.errno == 28):
        return "full"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "locked"
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text:
        return "corrupt"
    if "disk is full" in text or "database or disk is full" in text:
        return "full"
    if "locked" in text:
        return "locked"
    return "error"


#: The first bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"


class Overwritten(sqlite3.DatabaseError):
    """The file no longer starts as a SQLite database (something wrote over it)."""


def _header_ok(fd: int) -> bool:
    """A cheap check before each write: an open WAL connection goes on
    writing happily into a file whose header was overwritten, and the damage
    would only show at the next start.

    ``fd`` stays open as long as the connection: closing *any* descriptor of
    the database file drops every POSIX lock the process holds on it,
    SQLite's included, and another process would then delete the WAL this
    one still writes to (rows lost without an error)."""
    try:
        head = os.pread(fd, len(SQLITE_HEADER), 0)
    except OSError:
        return False
    return head in (SQLITE_HEADER, b"")  # empty: another process is creating it this moment


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def move_aside(path: Path, expected: tuple[int, int] | None, reason: str) -> Path | None:
    """Rename a corrupt database (and its ``-wal``/``-shm``) out of the way,
    unless another process did already (the path names another file than
    ``expected``).  Returns where it went."""
    path = Path(path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if expected is not None and _identity(path) != expected:
            return None  # another process moved it and started a new one
        if not path.exists():
            return None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        os.replace(path, aside)
        for suffix in ("-wal", "-shm"):
            side = Path(str(path) + suffix)
            if side.exists():
                os.replace(side, Path(str(aside) + suffix))
        log.warning("analytics database %s is corrupt (%s): moved aside to %s; starting a new one",
                    path, reason, aside.name)
        return aside
    finally:
        os.close(fd)


class AnalyticsStore:
    """The analytics file of one server process: a bounded queue and its writer thread."""

    def __init__(self, path: Path, *, days: int = Settings.analytics_days, queue_size: int = QUEUE_SIZE,
                 busy_timeout: float = BUSY_TIMEOUT_S, retry_first: float = RETRY_FIRST_S,
                 retry_max: float = RETRY_MAX_S) -> None:
        self.path = Path(path)
        self.days = max(1, int(days))
        self.queue_size = max(1, int(queue_size))
        self.busy_timeout = busy_timeout
        self.retry_first, self.retry_max = retry_first, retry_max
        self._queue: deque = deque()
        self._cond = threading.Condition()
        self._closing = False
        self._busy = False  # the writer holds rows taken from the queue
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._fd: int | None = None  # the file, for header checks (see _header_ok)
        self._file_id: tuple[int, int] | None = None
        #: rows dropped since the start (``_unsaved``: not yet in the ``dropped`` table)
        self.dropped = 0
        self._unsaved: dict[str, int] = {}
        self.state = "starting"
        self._last_warning = 0.0
        self._failing_since: float | None = None
        self._last_prune: float | None = None  # None: prune when the writer starts
        self.keys: list[bytes] = []

    # ------------------------------------------------------------ lifecycle

    def start(self) -> AnalyticsStore:
        """Open the file (now, so the signing key is the installation's) and
        start the writer.  Never raises: a file that cannot be opened is
        retried by the writer, rows wait in the queue meanwhile."""
        for _attempt in (1, 2):  # a second time on a new file after moving a corrupt one aside
            try:
                self._open()
                self.keys.append(secret(self._conn))
                self.state = "ok"
                log.info("analytics: recording searches to %s (kept %d days)", self.path, self.days)
                break
            except Exception as exc:  # the site must start whatever the file's state
                if self._failed(exc, "open") != "corrupt":
                    break
        if not self.keys:  # signs this process's ids until the file can be read
            self.keys.append(secrets.token_bytes(32))
        self._thread = threading.Thread(target=self._run, name="zhsearch-analytics", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> bool:
        """Write what is queued (waiting up to ``timeout``) and stop the
        writer.  True when nothing was left unwritten."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        left = len(self._queue)
        if left:
            log.warning("analytics: %d rows not written at shutdown (%s)", left, self.state)
        if self._conn is not None and (self._thread is None or not self._thread.is_alive()):
            self._drop_connection()
        return left == 0

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued row is written (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._cond.notify_all()
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    # ----------------------------------------------------------- the queue

    def put(self, row: SearchRow | ClickRow) -> None:
        """Queue one row; when the queue is full the oldest row goes (counted)."""
        with self._cond:
            if len(self._queue) >= self.queue_size:
                self._queue.popleft()
                self._count_dropped(1)
            self._queue.append(row)
            self._cond.notify()

    def pending(self) -> int:
        return len(self._queue)

    def _count_dropped(self, n: int) -> None:
        if n <= 0:
            return
        self.dropped += n
        day = time.strftime("%Y-%m-%d")
        self._unsaved[day] = self._unsaved.get(day, 0) + n
        now = time.monotonic()
        if now - self._last_warning >= WARN_EVERY_S:
            self._last_warning = now
            log.warning("analytics: queue full (%d rows, %s): dropping the oldest rows, %d so far",
                        self.queue_size, self.state, self.dropped)

    def _requeue(self, rows: list) -> None:
        """Failed rows back at the head of the queue, the oldest dropped beyond its bound."""
        with self._cond:
            self._queue.extendleft(reversed(rows))
            over = len(self._queue) - self.queue_size
            for _ in range(max(0, over)):
                self._queue.popleft()
            self._count_dropped(over)

    # ----------------------------------------------------------- the writer

    def _run(self) -> None:
        pause = 0.0
        tries_at_close = 0
        while True:
            with self._cond:
                until = time.monotonic() + pause
                while pause and not self._closing and time.monotonic() < until:
                    self._cond.wait(until - time.monotonic())  # a retry pause: new rows wait, close() does not
                while not (self._queue or self._unsaved or self._closing or self._due_prune()):
                    self._cond.wait(self._until_prune())
                if self._closing and not (self._queue or self._unsaved):
                    break
                rows = list(self._queue)
                self._queue.clear()
                self._busy = True
            try:
                ok = self._write(rows)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
            if ok:
                pause = 0.0
                if self._due_prune():
                    self._prune()
            elif self._closing:
                tries_at_close += 1
                if tries_at_close > 2:  # at shutdown a failing write is tried three times, then given up
                    break
            else:
                pause = min(self.retry_max, max(self.retry_first, pause * 2))

    def _write(self, rows: list) -> bool:
        """One transaction for ``rows`` and the dropped counts; on failure the
        rows are queued again.  True when written (or when there was nothing)."""
        searches = [tuple(getattr(r, c) for c in SEARCH_COLUMNS) for r in rows if isinstance(r, SearchRow)]
        clicks = [tuple(getattr(r, c) for c in CLICK_COLUMNS) for r in rows if isinstance(r, ClickRow)]
        with self._cond:
            unsaved = dict(self._unsaved)
        if not (searches or clicks or unsaved):
            return True
        for attempt in (1, 2):  # a second time on a new file after moving a corrupt one aside
            try:
                conn = self._connection()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if searches:
                        conn.executemany(
                            f"INSERT OR IGNORE INTO searches ({', '.join(SEARCH_COLUMNS)}) "
                            f"VALUES ({', '.join('?' * len(SEARCH_COLUMNS))})", searches)
                    if clicks:
                        conn.executemany(
                            f"INSERT OR IGNORE INTO clicks ({', '.join(CLICK_COLUMNS)}) "
                            f"VALUES ({', '.join('?' * len(CLICK_COLUMNS))})", clicks)
                    if unsaved:
                        conn.executemany("INSERT INTO dropped (day, rows) VALUES (?, ?) "
                                         "ON CONFLICT (day) DO UPDATE SET rows = rows + excluded.rows",
                                         list(unsaved.items()))
                    conn.execute("COMMIT")
                except BaseException:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                    raise
            except (sqlite3.Error, OSError, NewerSchema) as exc:
                kind = self._failed(exc, "write")
                if kind == "corrupt" and attempt == 1:
                    continue
                self._requeue(rows)
                return False
            with self._cond:
                for day, n in unsaved.items():
                    left = self._unsaved.get(day, 0) - n
                    if left > 0:
                        self._unsaved[day] = left
                    else:
                        self._unsaved.pop(day, None)
            self._recovered()
            return True
        return False  # pragma: no cover - the loop returns

    def _connection(self) -> sqlite3.Connection:
        """The open connection, reopened when the path names another file
        than the one it has open (another process moved a corrupt one aside)."""
        if self._conn is not None and _identity(self.path) != self._file_id:
            log.info("analytics database %s was replaced: reopening it", self.path)
            self._drop_connection()
        if self._conn is not None and not _header_ok(self._fd):
            raise Overwritten("file is not a database (its header was overwritten)")
        if self._conn is None:
            self._open()
            key = secret(self._conn)
            if key not in self.keys:
                self.keys.insert(0, key)
        return self._conn

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(self.path, self.busy_timeout)
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            conn.close()
            raise
        self._conn, self._fd, self._file_id = conn, fd, _identity(self.path)
        if not _header_ok(fd):  # read through a stale -wal, a file that is not a database can look like one
            raise Overwritten("file is not a database (its header is not SQLite's)")

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
        if self._fd is not None:
            os.close(self._fd)  # after the connection: SQLite's locks are gone with it anyway
        self._conn, self._fd, self._file_id = None, None, None

    def _failed(self, exc: BaseException, doing: str) -> str:
        kind = error_kind(exc)
        if kind == "corrupt":
            file_id = self._file_id or _identity(self.path)
            self._drop_connection()
            try:
                move_aside(self.path, file_id, str(exc))
            except OSError as move_exc:
                log.warning("analytics database %s is corrupt (%s) and cannot be moved aside: %s",
                            self.path, exc, move_exc)
            self.state = "corrupt"
            return kind
        # locked, full, an I/O error: the same connection tries again (closing it, and the
        # descriptor _header_ok keeps, could drop POSIX locks other connections of this
        # process hold on the live file; see _header_ok)
        was = self.state
        self.state = {"full": "disk full", "locked": "locked", "newer": "newer schema"}.get(kind, "error")
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        if was != self.state or now - self._last_warning >= WARN_EVERY_S:
            self._last_warning = now
            log.warning("analytics: cannot %s %s (%s): %s; searching goes on, %d rows wait (at most %d)",
                        doing, self.path, self.state, exc, len(self._queue), self.queue_size)
        return kind

    def _recovered(self) -> None:
        if self._failing_since is not None:
            log.warning("analytics: writing to %s again after %.0f s (%s); %d rows dropped so far",
                        self.path, time.monotonic() - self._failing_since, self.state, self.dropped)
            self._failing_since = None
        self.state = "ok"

    # ------------------------------------------------------------- pruning

    def _until_prune(self) -> float:
        if self._last_prune is None:
            return 0.05
        return max(0.05, PRUNE_EVERY_S - (time.monotonic() - self._last_prune))

    def _due_prune(self) -> bool:
        return self._last_prune is None or time.monotonic() - self._last_prune >= PRUNE_EVERY_S

    def _prune(self) -> None:
        self._last_prune = time.monotonic()
        try:
            n = prune(self._connection(), self.days)
        except (sqlite3.Error, OSError, NewerSchema) as exc:
            self._failed(exc, "prune")
            return
        if n:
            log.info("analytics: pruned %d rows older than %d days", n, self.days)


def prune(conn: sqlite3.Connection, days: int, now: float | None = None) -> int:
    """Delete what is older than ``days``; the number of rows deleted."""
    cutoff = int((now or time.time()) - days * 86400)
    day = time.strftime("%Y-%m-%d", time.localtime(cutoff))
    conn.execute("BEGIN IMMEDIATE")
    try:
        n = conn.execute("DELETE FROM searches WHERE ts < ?", (cutoff,)).rowcount
        n += conn.execute("DELETE FROM clicks WHERE ts < ?", (cutoff,)).rowcount
        conn.execute("DELETE FROM dropped WHERE day < ?", (day,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return n


def filters_json(tags: Iterable[str], categories: Iterable[str]) -> str | None:
    tags, categories = list(tags), list(categories)
    if not tags and not categories:
        return None
    return json.dumps({"tag": tags, "category": categories}, ensure_ascii=False)
