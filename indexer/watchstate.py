"""What the watch of a running server is doing, for ``/healthz``.

``zhsearch serve --watch`` runs the watch in a thread of the server or, with
``--workers N``, in a sidecar process of its own; the workers answering
``/healthz`` must see its state either way.  A :class:`WatchStatus` is a
small block of anonymous shared memory created before the server forks, so
the sidecar (which writes it), the supervising parent (which writes it when
the sidecar dies) and every worker (which read it) share one value.

States (:class:`WatchState`): ``starting`` until the watcher is first armed,
``watching``, ``restarting`` after a failure (the watcher is re-armed with
backoff), and ``failed`` when it has not been watching for
:data:`FAILED_AFTER_S` although it is still being retried: the site serves
an index that no longer follows the corpus, which someone should look at.
``stopped`` once the server is shutting down.  Each state carries the
moment it began (``since``) and, when not watching, the last error.

A write is guarded by a sequence number (odd while writing), so a reader in
another process never takes a half-written value; a writer killed mid-write
leaves the last complete value readable as "unknown" until the next write.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import mmap
import struct
import time

#: Not watching for this long, while still retrying, is ``failed``.
FAILED_AFTER_S = 60.0

_SIZE = 4096
_HEADER = struct.Struct("<QI")  # sequence number, payload length
_MAX_ERROR = 300


class WatchState(enum.StrEnum):
    STARTING = "starting"
    WATCHING = "watching"
    RESTARTING = "restarting"
    FAILED = "failed"
    STOPPED = "stopped"


class WatchStatus:
    """The shared state of one server's watch (see the module docstring)."""

    def __init__(self) -> None:
        self._mem = mmap.mmap(-1, _SIZE)  # MAP_SHARED | MAP_ANONYMOUS: kept across fork()
        self.set(WatchState.STARTING)

    def set(self, state: WatchState, error: str | None = None, *, restarts: int | None = None,
            now: float | None = None) -> None:
        """Record ``state``; ``since`` is kept while the state does not change
        (a watcher restarted again and again has been restarting since the
        first failure)."""
        now = time.time() if now is None else now
        old = self._read() or {}
        value = {
            "state": state.value,
            "since": old.get("since", now) if old.get("state") == state.value else now,
            "error": error[:_MAX_ERROR] if error else None,
            "restarts": old.get("restarts", 0) if restarts is None else restarts,
        }
        if state is WatchState.RESTARTING and restarts is None:
            value["restarts"] = value["restarts"] + 1
        self._write(value)

    def get(self, now: float | None = None) -> dict:
        """The state as ``/healthz`` shows it: ``state``, ``since`` (ISO 8601,
        UTC), ``for_s``, ``error`` and ``restarts``."""
        now = time.time() if now is None else now
        value = self._read()
        if value is None:
            return {"state": "unknown", "since": None, "for_s": None, "error": None, "restarts": None}
        state = value["state"]
        if state == WatchState.RESTARTING.value and now - value["since"] >= FAILED_AFTER_S:
            state = WatchState.FAILED.value  # still retried, but not following the corpus for too long
        return {
            "state": state,
            "since": dt.datetime.fromtimestamp(value["since"], dt.UTC).isoformat(timespec="seconds"),
            "for_s": round(max(0.0, now - value["since"]), 1),
            "error": value.get("error"),
            "restarts": value.get("restarts", 0),
        }

    @property
    def state(self) -> WatchState | None:
        value = self._read()
        return WatchState(value["state"]) if value else None

    # -- the shared block -------------------------------------------------

    def _write(self, value: dict) -> None:
        payload = json.dumps(value, ensure_ascii=False).encode("utf-8")[: _SIZE - _HEADER.size]
        seq, _ = _HEADER.unpack_from(self._mem, 0)
        seq += 1 if seq % 2 == 0 else 2  # odd: being written
        _HEADER.pack_into(self._mem, 0, seq, 0)
        self._mem[_HEADER.size:_HEADER.size + len(payload)] = payload
        _HEADER.pack_into(self._mem, 0, seq + 1, len(payload))

    def _read(self) -> dict | None:
        for _ in range(100):
            seq, length = _HEADER.unpack_from(self._mem, 0)
            if seq % 2:
                time.sleep(0.001)
                continue
            payload = bytes(self._mem[_HEADER.size:_HEADER.size + length])
            if _HEADER.unpack_from(self._mem, 0)[0] != seq:
                continue
            try:
                return json.loads(payload) if length else None
            except ValueError:
                return None
        return None
